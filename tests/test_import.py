"""``import perfusion`` does no work and pulls in no GPU, rendering or mesh library."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ["cupy", "pyvista", "vtk", "meshio", "matplotlib", "pydantic", "pint"]


def _imported_after(statement: str) -> set[str]:
    code = (f"import sys; {statement}; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(filter(None, out.stdout.strip().split(",")))


def test_import_perfusion_is_light():
    assert _imported_after("import perfusion") == set()


def test_solver_core_needs_no_case_machinery():
    """The GPU image lacks pint and pydantic: the solver core must import without them."""
    assert _imported_after("import perfusion.solvers.cg, perfusion.solvers.stencil, "
                           "perfusion.compute.backend") == set()


def test_running_a_case_pulls_no_gpu_or_rendering_library():
    loaded = _imported_after("from perfusion.pipeline import run_case")
    assert not loaded & {"cupy", "pyvista", "vtk", "meshio", "matplotlib"}
