"""A strict stand-in of CuPy for the tests: NumPy on the CPU behind CuPy's rules.

``tests/conftest.py`` installs it as ``cupy`` where the real CuPy or a GPU is missing, so
every ``cupy`` test parameter runs. Arrays (:class:`ndarray`) hold NumPy arrays; the host
is reached only by ``.get()`` or :func:`asnumpy`; a ``numpy.ndarray`` operand, an implicit
conversion (``numpy.asarray``, SciPy) and any function CuPy does not have raise as CuPy
does. Kernels (:class:`RawModule`) are the ``.cu`` files compiled with g++ through
``tests/ops/cpu_kernels.py``. Device 0 is the host (``cuda.Device(0).mem_info`` is RAM).
"""
from __future__ import annotations

import numpy as _np

from . import cuda
from ._core import ndarray, to_device_operand, wrap
from ._raw import RawModule

__version__ = "stand-in (NumPy " + _np.__version__ + ")"

# Functions of CuPy (same names and meaning as NumPy's) offered by the stand-in.
UFUNCS = frozenset({
    "absolute", "add", "arccos", "arcsin", "arctan", "arctan2", "bitwise_and", "bitwise_or",
    "bitwise_xor", "cbrt", "ceil", "copysign", "cos", "cosh", "divide", "equal", "exp", "exp2",
    "expm1", "floor", "floor_divide", "fmax", "fmin", "fmod", "greater", "greater_equal",
    "hypot", "invert", "isfinite", "isinf", "isnan", "left_shift", "less", "less_equal", "log",
    "log10", "log1p", "log2", "logaddexp", "logical_and", "logical_not", "logical_or",
    "logical_xor", "matmul", "maximum", "minimum", "multiply", "negative", "nextafter",
    "not_equal", "power", "reciprocal", "remainder", "right_shift", "rint", "sign", "sin",
    "sinh", "sqrt", "square", "subtract", "tan", "tanh", "true_divide", "trunc"})
FUNCTIONS = frozenset({
    "abs", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "argsort", "argwhere",
    "around", "array_equal", "atleast_1d", "atleast_2d", "atleast_3d", "average", "bincount",
    "broadcast_arrays", "broadcast_to", "clip", "concatenate", "copy", "count_nonzero",
    "cumprod", "cumsum", "diag", "diff", "digitize", "dot", "einsum", "empty_like",
    "expand_dims", "flatnonzero", "flip", "full_like", "histogram", "inner", "interp",
    "isclose", "max", "mean", "median", "min", "moveaxis", "nan_to_num", "nanmax", "nanmin",
    "nansum", "nonzero", "ones_like", "outer", "pad", "percentile", "prod", "quantile",
    "ravel", "repeat", "reshape", "roll", "round", "searchsorted", "sort", "squeeze", "stack",
    "std", "sum", "swapaxes", "take", "take_along_axis", "tile", "transpose", "unique", "var",
    "vdot", "vstack", "hstack", "where", "zeros_like"})
CREATION = frozenset({"arange", "empty", "eye", "full", "identity", "indices", "linspace",
                      "ones", "zeros"})
HOST_OBJECTS = frozenset({  # NumPy's own objects, which CuPy re-exports
    "bool_", "can_cast", "complex64", "complex128", "dtype", "e", "finfo", "float16",
    "float32", "float64", "iinfo", "inf", "int8", "int16", "int32", "int64", "intp", "nan",
    "newaxis", "pi", "uint8", "uint16", "uint32", "uint64"})


def _device_function(name: str):
    host = getattr(_np, name)

    def function(*args, **kwargs):
        out = kwargs.get("out")
        result = host(*to_device_operand(args),
                      **{key: to_device_operand(value) for key, value in kwargs.items()})
        return out if isinstance(out, ndarray) else wrap(result)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``cupy.{name}`` (NumPy's, on device arrays only)."
    return function


def __getattr__(name: str):
    if name in UFUNCS | FUNCTIONS | CREATION:
        function = _device_function(name)
        globals()[name] = function
        return function
    if name in HOST_OBJECTS:
        return getattr(_np, name)
    raise AttributeError(
        f"module 'cupy' has no attribute {name!r} (the CuPy stand-in offers what CuPy has and "
        "the project uses: add it to the lists in tests/cupy_standin/cupy/__init__.py if "
        "CuPy has it)")


def asarray(a, dtype=None, order=None):
    """A device array of ``a`` (a host array or list is copied; a device array is kept)."""
    if isinstance(a, ndarray):
        return a.astype(a.dtype if dtype is None else dtype, copy=False)
    return ndarray._hold(_np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(obj, dtype=None, copy=True, order="K", ndmin=0):
    """A new device array of ``obj`` (host or device)."""
    held = obj._held if isinstance(obj, ndarray) else obj
    return ndarray._hold(_np.array(held, dtype=dtype, copy=copy, order=order, ndmin=ndmin))


def ascontiguousarray(a, dtype=None):
    """``a`` as a C-contiguous device array (a host array is refused, as by CuPy)."""
    if not isinstance(a, ndarray):
        raise TypeError(f"Argument 'a' has incorrect type (expected cupy.ndarray, got "
                        f"{type(a).__name__})")
    return ndarray._hold(_np.ascontiguousarray(a._held, dtype=dtype))


def asnumpy(a, stream=None, order="C", out=None):
    """A host (NumPy) copy of a device array; anything else through ``numpy.asarray``."""
    if isinstance(a, ndarray):
        return a.get(stream=stream, order=order, out=out)
    return _np.asarray(a, order=order)


def result_type(*arrays_and_dtypes):
    return _np.result_type(*(a._held if isinstance(a, ndarray) else a
                             for a in arrays_and_dtypes))


def get_array_module(*args):
    import sys  # noqa: PLC0415

    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else _np


_MEMORY_POOL, _PINNED_MEMORY_POOL = cuda.MemoryPool(), cuda.PinnedMemoryPool()


def get_default_memory_pool():
    return _MEMORY_POOL


def get_default_pinned_memory_pool():
    return _PINNED_MEMORY_POOL


__all__ = ["RawModule", "array", "asarray", "ascontiguousarray", "asnumpy", "cuda",
           "get_array_module", "get_default_memory_pool", "get_default_pinned_memory_pool",
           "ndarray", "result_type"]
