"""Hot operations: each a NumPy/CuPy reference (the CPU path and the oracle) and a launcher
of its CUDA kernel with the same signature (docs/architecture.md, 'Where new work goes': a kernel).

``perfusion.ops.<name>`` ↔ ``kernels/<name>.cu`` ↔ ``tests/ops/test_<name>.py``. The
public function of each operation dispatches on the array module of its inputs: CuPy
arrays run the kernel; NumPy arrays run the same kernel compiled for the CPU where
:func:`cpu_kernels` says so (``perfusion.compute.native``), else the reference.
"""
from ..compute import native


def on_gpu(array) -> bool:
    """Whether ``array`` lives on the GPU (a CuPy array), without importing CuPy."""
    return type(array).__module__.split(".")[0] == "cupy"


def cpu_kernels() -> bool:
    """Whether NumPy arrays run the compiled kernels (``PERFUSION_CPU_KERNELS``, a compiler)."""
    return native.enabled()


def array_module(array):
    """NumPy or CuPy, whichever ``array`` belongs to (CuPy only if already imported)."""
    if on_gpu(array):
        import sys

        return sys.modules["cupy"]
    import numpy

    return numpy


def axis_slice(axis: int, start, stop) -> tuple:
    """An index selecting ``start:stop`` along ``axis`` of a 3-D array."""
    index = [slice(None)] * 3
    index[axis] = slice(start, stop)
    return tuple(index)
