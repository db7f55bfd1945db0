"""Compute: the array backend (NumPy or CuPy), the CUDA kernel loader and the memory estimate."""
