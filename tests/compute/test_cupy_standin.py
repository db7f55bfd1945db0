"""The CuPy stand-in (``tests/cupy_standin``) is as strict as CuPy about the host.

These run only under the stand-in (``conftest.install_cupy_standin``); with a GPU the
real CuPy is tested by every ``cupy`` parameter instead.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage

cupy = pytest.importorskip("cupy")
if not cupy.__version__.startswith("stand-in"):
    pytest.skip("the real CuPy is in use (a GPU is present)", allow_module_level=True)


def test_implicit_conversion_to_numpy_raises_as_in_cupy():
    device = cupy.arange(4, dtype=cupy.float64)
    for convert in (np.asarray, np.array, lambda a: scipy.ndimage.gaussian_filter(a, 1.0)):
        with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
            convert(device)
    np.testing.assert_array_equal(device.get(), [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(cupy.asnumpy(device * 2.0), [0.0, 2.0, 4.0, 6.0])


def test_mixing_with_a_numpy_array_raises():
    device, host = cupy.ones(3), np.ones(3)
    for mix in (lambda: device + host, lambda: host + device, lambda: host * device,
                lambda: cupy.maximum(device, host), lambda: np.maximum(host, device),
                lambda: cupy.concatenate([device, host]), lambda: cupy.where(host > 0, device, 0.0)):
        with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
            mix()
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        device += host
    assert float((device + 2.0).sum()) == 9.0   # scalars mix, as in CuPy


def test_unknown_functions_raise():
    with pytest.raises(AttributeError, match="module 'cupy' has no attribute 'trapezoid'"):
        cupy.trapezoid   # noqa: B018  (NumPy has it; CuPy does not)
    with pytest.raises(TypeError, match="no implementation found for 'numpy.trapezoid'"):
        np.trapezoid(cupy.ones(3))
    with pytest.raises(AttributeError, match="no attribute 'tobytes_host'"):
        cupy.ones(3).tobytes_host   # noqa: B018


def test_numpy_functions_dispatch_to_device_results():
    device = cupy.asarray([1.0, -2.0, 3.0])
    result = np.where(device > 0, np.exp(device), 0.0)
    assert isinstance(result, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(result), [np.e, 0.0, np.e ** 3], rtol=1e-15)
    total = cupy.sum(device)
    assert isinstance(total, cupy.ndarray) and total.shape == () and float(total) == 2.0
    element = device[1]
    assert isinstance(element, cupy.ndarray) and element.item() == -2.0


def test_kernels_run_through_the_cpu_build_and_check_their_arguments():
    source = ('extern "C" __global__ void axpy(const double* x, double* y, double a, int n) {'
              ' int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) y[i] += a * x[i]; }')
    axpy = cupy.RawModule(code=source).get_function("axpy")
    x, y = cupy.arange(300, dtype=cupy.float64), cupy.ones(300)
    axpy((2,), (256,), (x, y, np.float64(0.5), np.int32(300)))
    np.testing.assert_array_equal(y.get(), 1.0 + 0.5 * np.arange(300))
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        axpy((2,), (256,), (x.get(), y, np.float64(0.5), np.int32(300)))
    with pytest.raises(TypeError, match=r"axpy\(n\): int64 passed for a 'int' parameter"):
        axpy((2,), (256,), (x, y, np.float64(0.5), 300))   # CuPy passes a Python int as int64
    with pytest.raises(TypeError, match=r"axpy\(x\): a float32 array for a double\* parameter"):
        axpy((2,), (256,), (x.astype(cupy.float32), y, np.float64(0.5), np.int32(300)))


def test_the_backend_and_perfusion_info_see_the_standin_device():
    from perfusion.compute.backend import describe_backends, make_backend

    backend = make_backend("cupy", "float32")
    assert backend.xp is cupy and backend.device.startswith("GPU 0: CuPy stand-in (NumPy, CPU)")
    values = backend.asarray(np.full(1000, 0.1))
    assert values.dtype == np.float32 and backend.sum(values) == pytest.approx(100.0, rel=1e-6)
    assert isinstance(backend.to_host(values), np.ndarray)
    assert 0 < backend.free_memory() <= cupy.cuda.Device(0).mem_info[1]   # host RAM
    entry = describe_backends()[1]
    assert entry["available"] == "yes" and entry["details"]["name"] == "CuPy stand-in (NumPy, CPU)"
