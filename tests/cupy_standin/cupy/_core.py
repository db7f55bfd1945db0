"""The stand-in ``cupy.ndarray``: a NumPy array behind CuPy's rules about the host.

It is not a NumPy subclass. As with CuPy: arithmetic with another device array or a
scalar gives a device array; a ``numpy.ndarray`` operand raises ``TypeError`` (no
implicit host-to-device copy); ``numpy.asarray(x)`` raises ``TypeError`` (no implicit
device-to-host copy); NumPy functions dispatch through ``__array_ufunc__`` /
``__array_function__`` to the ``cupy`` function of the same name, or fail; reductions and
scalar indexing give 0-d device arrays; ``float``/``int``/``bool`` of a size-1 array and
``.get()`` / ``.item()`` / ``.tolist()`` copy to the host explicitly.
"""
from __future__ import annotations

import numbers

import numpy as np

IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
            "Please use `.get()` to construct a NumPy array explicitly.")
# Methods of cupy.ndarray that run as NumPy's on the held array (arguments checked).
METHODS = frozenset({
    "all", "any", "argmax", "argmin", "argsort", "clip", "conj", "cumsum", "diagonal",
    "dot", "fill", "flatten", "max", "mean", "min", "nonzero", "prod", "ravel", "repeat",
    "reshape", "round", "sort", "squeeze", "std", "sum", "swapaxes", "take", "trace",
    "transpose", "var", "view"})


class Flags:
    """The three flags CuPy reports (``c_contiguous``, ``f_contiguous``, ``owndata``)."""

    def __init__(self, host_flags):
        self.c_contiguous = host_flags.c_contiguous
        self.f_contiguous = host_flags.f_contiguous
        self.owndata = host_flags.owndata


def is_scalar(value) -> bool:
    """What CuPy passes to a kernel as a scalar: Python numbers and NumPy scalars."""
    return isinstance(value, numbers.Number | np.generic) and not isinstance(value, np.ndarray)


def to_device_operand(value):
    """The NumPy value behind an operand of a device operation; host arrays are refused."""
    if isinstance(value, ndarray):
        return value._held
    if isinstance(value, np.ndarray):
        raise TypeError(f"Unsupported type {type(value)}")
    if isinstance(value, list | tuple):
        return type(value)(to_device_operand(v) for v in value)
    return value


def wrap(result):
    """Device arrays for NumPy results: arrays, NumPy scalars (as 0-d) and their tuples."""
    if isinstance(result, np.ndarray):
        return ndarray._hold(result)
    if isinstance(result, np.generic):
        return ndarray._hold(np.asarray(result))
    if isinstance(result, tuple):
        return tuple(wrap(r) for r in result)
    if isinstance(result, list):
        return [wrap(r) for r in result]
    return result


def _index(key):
    """An index with device arrays unwrapped; host arrays and lists are allowed (as CuPy)."""
    if isinstance(key, tuple):
        return tuple(_index(k) for k in key)
    return key._held if isinstance(key, ndarray) else key


class ndarray:  # noqa: N801  (CuPy's name)
    """A device array (held on the host by the stand-in)."""

    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("the CuPy stand-in does not take memptr/strides")
        self._held = np.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _hold(cls, held: np.ndarray) -> ndarray:
        array = cls.__new__(cls)
        array._held = held
        return array

    # --- attributes -------------------------------------------------------------------
    shape = property(lambda self: self._held.shape)
    dtype = property(lambda self: self._held.dtype)
    size = property(lambda self: self._held.size)
    ndim = property(lambda self: self._held.ndim)
    nbytes = property(lambda self: self._held.nbytes)
    itemsize = property(lambda self: self._held.itemsize)
    strides = property(lambda self: self._held.strides)
    flags = property(lambda self: Flags(self._held.flags))
    T = property(lambda self: ndarray._hold(self._held.T))
    real = property(lambda self: ndarray._hold(self._held.real))
    imag = property(lambda self: ndarray._hold(self._held.imag))

    @shape.setter
    def shape(self, value):
        self._held.shape = value

    def __getattr__(self, name):
        if name not in METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        method = getattr(self._held, name)

        def device_method(*args, **kwargs):
            kwargs = {k: to_device_operand(v) for k, v in kwargs.items()}
            return wrap(method(*to_device_operand(args), **kwargs))
        return device_method

    # --- host transfers ---------------------------------------------------------------
    def get(self, stream=None, order="C", out=None):
        """A host copy (``numpy.ndarray``), into ``out`` if given."""
        if out is None:
            return np.array(self._held, order=order, copy=True)
        if not isinstance(out, np.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
        if out.dtype != self.dtype:
            raise TypeError(f"{out.dtype} array cannot be obtained from {self.dtype} array")
        if out.shape != self.shape:
            raise ValueError(f"Shape mismatch. Expected shape: {self.shape}, "
                             f"actual shape: {out.shape}")
        out[...] = self._held
        return out

    def set(self, arr, stream=None):
        """Copy a host array of the same dtype and shape into this one."""
        if not isinstance(arr, np.ndarray):
            raise TypeError("Only numpy.ndarray can be set to cupy.ndarray")
        if arr.dtype != self.dtype:
            raise TypeError(f"{arr.dtype} array cannot be set to {self.dtype} array")
        if arr.shape != self.shape:
            raise ValueError(f"Shape mismatch. Old shape: {self.shape}, new shape: {arr.shape}")
        self._held[...] = arr

    def item(self):
        if self.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        return self._held.item()

    def tolist(self):
        return self._held.tolist()

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        return ndarray._hold(self._held.astype(dtype, order=order, copy=copy))

    def copy(self, order="C"):
        return ndarray._hold(self._held.copy(order=order))

    def __array__(self, dtype=None, copy=None):
        raise TypeError(IMPLICIT)

    def __reduce__(self):
        from . import array  # noqa: PLC0415  (the module imports this one)
        return array, (self.get(),)

    def __int__(self):
        return int(self._held)

    def __float__(self):
        return float(self._held)

    def __complex__(self):
        return complex(self._held)

    def __bool__(self):
        return bool(self._held)

    def __repr__(self):
        return repr(self._held)

    def __str__(self):
        return str(self._held)

    def __format__(self, spec):
        return format(self._held, spec)

    # --- containers -------------------------------------------------------------------
    def __len__(self):
        return len(self._held)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __getitem__(self, key):
        key = _index(key)
        result = self._held[key]
        if isinstance(result, np.generic):  # CuPy: a 0-d view, not a scalar
            keys = key if isinstance(key, tuple) else (key,)
            result = self._held[keys + (Ellipsis,)]
        return ndarray._hold(result)

    def __setitem__(self, key, value):
        self._held[_index(key)] = value._held if isinstance(value, ndarray) else value

    # --- NumPy protocols --------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        import cupy  # noqa: PLC0415

        if method != "__call__" or ufunc.__name__ not in cupy.UFUNCS:
            return NotImplemented
        for value in inputs + tuple(kwargs.get("out", ())):
            if not isinstance(value, ndarray | np.ndarray) and not is_scalar(value):
                return NotImplemented
        if "out" in kwargs:
            kwargs["out"] = kwargs["out"][0]
        return getattr(cupy, ufunc.__name__)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        import cupy  # noqa: PLC0415

        if not all(issubclass(t, ndarray | np.ndarray) for t in types):
            return NotImplemented
        if func.__module__ != "numpy" or func.__name__ not in cupy.FUNCTIONS | cupy.UFUNCS:
            return NotImplemented
        return getattr(cupy, func.__name__)(*args, **kwargs)


def _binary(name, reflected=False, inplace=False):
    def operator(self, other):
        import cupy  # noqa: PLC0415

        if not isinstance(other, ndarray | np.ndarray) and not is_scalar(other):
            return NotImplemented
        function = getattr(cupy, name)
        if inplace:
            return function(self, other, out=self)
        return function(other, self) if reflected else function(self, other)
    return operator


for _op, _ufunc in {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
                    "floordiv": "floor_divide", "mod": "remainder", "pow": "power",
                    "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
                    "matmul": "matmul"}.items():
    setattr(ndarray, f"__{_op}__", _binary(_ufunc))
    setattr(ndarray, f"__r{_op}__", _binary(_ufunc, reflected=True))
    setattr(ndarray, f"__i{_op}__", _binary(_ufunc, inplace=True))
for _op, _ufunc in {"lt": "less", "le": "less_equal", "eq": "equal", "ne": "not_equal",
                    "gt": "greater", "ge": "greater_equal"}.items():
    setattr(ndarray, f"__{_op}__", _binary(_ufunc))
ndarray.__hash__ = None
ndarray.__neg__ = lambda self: ndarray._hold(-self._held)
ndarray.__pos__ = lambda self: self
ndarray.__abs__ = lambda self: ndarray._hold(abs(self._held))
ndarray.__invert__ = lambda self: ndarray._hold(~self._held)
ndarray.__module__ = "cupy"
