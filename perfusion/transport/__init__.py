"""Drug transport in tissue (DESIGN §2.4): operators, pointwise exchange, the time loop."""
