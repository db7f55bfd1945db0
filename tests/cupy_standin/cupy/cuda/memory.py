"""Stand-in ``cupy.cuda.memory``: the out-of-memory error and the (empty) memory pools."""
from __future__ import annotations


class OutOfMemoryError(MemoryError):
    """CuPy's allocation failure (a ``MemoryError``, as in CuPy)."""

    def __init__(self, size: int = 0, total: int = 0, limit: int = 0):
        super().__init__(f"Out of memory allocating {size:,} bytes "
                         f"(allocated so far: {total:,} bytes, limit set to: {limit:,} bytes).")


class MemoryPool:
    """The device pool: the stand-in allocates with NumPy, so the pool holds nothing."""

    def used_bytes(self) -> int:
        return 0

    def free_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0

    def free_all_blocks(self, stream=None) -> None:
        """Nothing to return to the driver."""


class PinnedMemoryPool:
    """The pinned host pool (empty, as the device pool)."""

    def n_free_blocks(self) -> int:
        return 0

    def free_all_blocks(self) -> None:
        """Nothing to return to the driver."""
