"""Stand-in ``cupy.cuda``: device 0 is the host; ``Device(0).mem_info`` is host RAM."""
from __future__ import annotations

from . import memory, runtime
from .memory import MemoryPool, PinnedMemoryPool


class Device:
    """A CUDA device (only device 0 exists)."""

    def __init__(self, device: int | None = None):
        self.id = runtime.check_device(0 if device is None else device)

    @property
    def mem_info(self) -> tuple[int, int]:
        """(free, total) bytes."""
        return runtime.host_memory()

    def use(self) -> None:
        """Device 0 is always current."""

    def synchronize(self) -> None:
        """The stand-in runs synchronously."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def is_available() -> bool:
    return True


__all__ = ["Device", "MemoryPool", "PinnedMemoryPool", "is_available", "memory", "runtime"]
