"""``python -m perfusion`` runs the command line."""
from .cli import main

main()
