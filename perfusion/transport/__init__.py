"""Drug transport in tissue (docs/model.md §6): operators, pointwise exchange, the time loop."""
