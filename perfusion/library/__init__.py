"""The library: tissue, supply and drug parameters with their sources, units, public datasets and the built-in cases."""
