"""Stand-in ``cupy.cuda.runtime``: one device, the host (its RAM is the device memory)."""
from __future__ import annotations

import os

STANDIN_NAME = b"CuPy stand-in (NumPy, CPU)"


class CUDARuntimeError(RuntimeError):
    """CuPy's runtime error (same module name, so ``is_out_of_memory`` sees it as CuPy's)."""


CUDARuntimeError.__module__ = "cupy_backends.cuda.api.runtime"


def host_memory() -> tuple[int, int]:
    """(available, total) bytes of host RAM: the stand-in device's free and total memory."""
    page = os.sysconf("SC_PAGE_SIZE")
    return os.sysconf("SC_AVPHYS_PAGES") * page, os.sysconf("SC_PHYS_PAGES") * page


def check_device(device: int) -> int:
    if device != 0:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    return device


def getDeviceCount() -> int:  # noqa: N802  (CuPy's names)
    return 1


def getDeviceProperties(device: int) -> dict:  # noqa: N802
    check_device(device)
    return {"name": STANDIN_NAME, "totalGlobalMem": host_memory()[1], "major": 0, "minor": 0,
            "multiProcessorCount": os.cpu_count() or 1}


def driverGetVersion() -> int:  # noqa: N802
    """0: there is no CUDA driver behind the stand-in."""
    return 0


def runtimeGetVersion() -> int:  # noqa: N802
    """0: there is no CUDA runtime behind the stand-in."""
    return 0
