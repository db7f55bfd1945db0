"""Random heterogeneous inputs for kernel tests: odd sizes, masks, both precisions."""
from __future__ import annotations

import numpy as np
import pytest
from kernel_inputs import PRECISIONS

SHAPES = [(7, 9, 5), (1, 6, 3), (11, 4, 13)]


@pytest.fixture(params=SHAPES, ids=lambda s: "x".join(map(str, s)))
def shape(request):
    return request.param


@pytest.fixture(params=list(PRECISIONS), ids=lambda d: np.dtype(d).name)
def dtype(request):
    return request.param
