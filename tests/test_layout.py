"""The package's layout holds (docs/architecture.md): import walls between the stages, few
top-level modules, no module over 300 lines.

Every ``import`` and ``from … import`` of every module is read from its syntax tree, lazy
imports inside functions included, resolved to an absolute module name and mapped to its
*room*: the package right under ``perfusion`` (``steady``, ``results``, …) or the top-level
module (``pipeline``, ``domain``, …). Each wall is a rule over rooms; a test adds a forbidden
import to the real sources and sees the wall catch it, so the walls cannot pass vacuously.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import perfusion

PACKAGE = Path(perfusion.__file__).parent

#: The stages that compute (docs/architecture.md): they never reach forward into results, pictures,
#: sweeps, the pipeline or the command line.
PHYSICS = {"case", "geometry", "domain", "steady", "vascular", "transport", "solvers", "ops"}
DOWNSTREAM = {"results", "plan", "render", "sweep", "cli", "pipeline", "checkpoint"}
#: What each room may never import (beyond the rules for CuPy and the CLI below).
FORBIDDEN = {
    **{room: DOWNSTREAM for room in PHYSICS},
    # the stages in data-flow order: none imports a later one
    "case": DOWNSTREAM | {"geometry", "domain", "steady", "vascular", "transport"},
    "geometry": DOWNSTREAM | {"domain", "steady", "vascular", "transport"},
    "domain": DOWNSTREAM | {"steady", "vascular", "transport"},
    "steady": DOWNSTREAM | {"transport"},
    "vascular": DOWNSTREAM | {"transport"},
    "solvers": DOWNSTREAM | PHYSICS - {"solvers", "ops"},
    "ops": DOWNSTREAM | PHYSICS - {"ops"},
    # pictures read results only
    "render": PHYSICS | {"plan", "sweep", "cli", "pipeline", "checkpoint"},
    "results": {"plan", "render", "sweep", "cli", "pipeline", "checkpoint"},
    # the catheter plan runs the physics and writes its own directory; pictures are the CLI's
    "plan": {"render", "sweep", "cli"},
    # beneath every stage
    "errors": PHYSICS | DOWNSTREAM | {"compute", "library", "io"},
    "io": PHYSICS | DOWNSTREAM | {"compute", "library"},
    "library": PHYSICS | DOWNSTREAM | {"compute", "io"},
    # memory sizes a run from its inputs (the case, image headers) before anything is built
    "compute": DOWNSTREAM | PHYSICS - {"case", "geometry"},
}
CUPY_ROOMS = {"perfusion.compute.backend", "perfusion.compute.kernels"}
MAX_TOP_LEVEL_MODULES = 8
MAX_LINES = 300


def package_sources() -> dict[str, str]:
    """Module name → source text of every module of the installed package."""
    sources = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        sources[name] = path.read_text(encoding="utf-8")
    return sources


def imports(module: str, source: str, is_package: bool) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in ``source``, lazy ones included."""
    found = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found.append((target, node.lineno))
            if target == "perfusion":  # ``from perfusion import cli``: the room is the name
                found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def room(module: str) -> str | None:
    """The package (or top-level module) of ``perfusion`` that holds ``module``."""
    parts = module.split(".")
    if parts[0] != "perfusion":
        return None
    return parts[1] if len(parts) > 1 else "perfusion"


def wall_violations(sources: dict[str, str]) -> list[str]:
    """Every import that crosses a wall, as ``module:line imports target (why)``."""
    packages = {name for name in sources if f"{name}.__init__" in sources
                or any(other.startswith(f"{name}.") for other in sources)}
    rooms = {room(name) for name in sources}
    violations = []
    for module, source in sources.items():
        mine = room(module)
        for target, line in imports(module, source, module in packages):
            where = f"{module}:{line} imports {target}"
            theirs = room(target) if room(target) in rooms else None  # not `__version__`
            if target.split(".")[0] == "cupy" and module not in CUPY_ROOMS:
                violations.append(f"{where} (only the backend and the kernel loader import CuPy)")
            if theirs == "cli" and mine not in ("cli", "__main__"):
                violations.append(f"{where} (nothing imports the command line)")
            if theirs is not None and theirs != mine and theirs in FORBIDDEN.get(mine, ()):
                violations.append(f"{where} ({mine} may not import {theirs})")
    return sorted(set(violations))


def test_the_walls_hold():
    assert wall_violations(package_sources()) == []


@pytest.mark.parametrize("module, line, why", [
    ("perfusion.steady.supply", "from ..render import slices", "steady may not import render"),
    ("perfusion.transport.run", "from ..results.write import write_results",
     "transport may not import results"),
    ("perfusion.vascular.tree", "    from ..sweep import run_sweep",
     "vascular may not import sweep"),
    ("perfusion.render.scene", "from ..steady.solve import SteadyState",
     "render may not import steady"),
    ("perfusion.results.export", "import perfusion.render.slices", "results may not import render"),
    ("perfusion.solvers.cg", "import cupy", "only the backend and the kernel loader import CuPy"),
    ("perfusion.pipeline", "from .cli import main", "nothing imports the command line"),
    ("perfusion.case.schema", "from ..domain import build_domain", "case may not import domain"),
])
def test_a_forbidden_import_is_caught(module, line, why):
    """Each wall, broken on purpose in a copy of the real sources, names the import."""
    sources = package_sources()
    lines = sources[module].splitlines()
    if line.startswith(" "):  # a lazy import: put it inside a function
        lines += ["", "def _breaks_the_wall():", line]
    else:
        lines.insert(_after_docstring(sources[module]), line)
    sources[module] = "\n".join(lines)
    found = wall_violations(sources)
    assert len(found) == 1 and found[0].startswith(f"{module}:") and why in found[0], found


def _after_docstring(source: str) -> int:
    """The line index just after the module docstring (where an import may go)."""
    tree = ast.parse(source)
    return tree.body[0].end_lineno if isinstance(tree.body[0], ast.Expr) else 0


def test_few_top_level_modules():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_module_over_300_lines():
    long = {str(path.relative_to(PACKAGE.parent)): count
            for path in PACKAGE.rglob("*.py")
            if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
