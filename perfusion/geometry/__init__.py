"""Geometry: built-in phantoms and label images, as class-index volumes."""
