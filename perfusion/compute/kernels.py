"""The CUDA kernel loader: one ``cupy.RawModule`` per ``kernels/*.cu`` file, built lazily.

Nothing is compiled or queried at import. The source gets a ``#line 1 "<file>"`` directive
so compiler errors point at the ``.cu`` file. Entry points are ``extern "C"`` and named
``<operation>_f32`` / ``<operation>_f64``; :func:`launch` picks the one for the arrays' dtype
and runs one thread per element on a 1-D grid.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

BLOCK = 256


def kernel_dir() -> Path:
    """Where the ``.cu`` files are: inside the wheel, or the source checkout's ``kernels/``."""
    packaged = Path(__file__).parents[1] / "_kernels"
    return packaged if packaged.is_dir() else Path(__file__).parents[2] / "kernels"


def kernel_source(name: str) -> str:
    """The source of ``kernels/<name>.cu`` with a ``#line`` directive."""
    path = kernel_dir() / f"{name}.cu"
    return f'#line 1 "{path}"\n' + path.read_text(encoding="utf-8")


@functools.cache
def _module(name: str):
    import cupy  # noqa: PLC0415  (the kernel loader is one of the two places that may)

    return cupy.RawModule(code=kernel_source(name), options=("--std=c++14",))


def precision_suffix(dtype) -> str:
    """``f32`` or ``f64`` for an array dtype."""
    return {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}[np.dtype(dtype)]


def launch(name: str, entry: str, threads: int, *args) -> None:
    """Run ``<entry>_<f32|f64>`` of ``kernels/<name>.cu`` over ``threads`` threads.

    The precision comes from the first array argument; every array must be C-contiguous
    and of that dtype; Python ints become ``int32``, floats the working precision. NumPy
    arrays run the file compiled for the CPU (:mod:`perfusion.compute.native`).
    """
    arrays = [a for a in args if hasattr(a, "dtype") and getattr(a, "ndim", 0) > 0]
    if isinstance(arrays[0], np.ndarray):
        from . import native  # noqa: PLC0415  (native imports this module)

        native.launch(name, entry, threads, *args)
        return
    dtype = arrays[0].dtype
    converted = []
    for arg in args:
        if isinstance(arg, bool | int | np.integer):
            converted.append(np.int32(arg))
        elif isinstance(arg, float | np.floating):
            converted.append(dtype.type(arg))
        else:
            converted.append(arg)
    function = _module(name).get_function(f"{entry}_{precision_suffix(dtype)}")
    grid = max(1, -(-threads // BLOCK))
    function((grid,), (BLOCK,), tuple(converted))
