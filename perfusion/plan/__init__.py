"""Catheter planning: every candidate catheter position ranked by its drug exposure
(``perfusion plan``; docs/model.md §13.2)."""
