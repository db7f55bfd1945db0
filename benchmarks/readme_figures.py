"""The benchmark figures README.md quotes, generated from benchmarks/RESULTS.md.

Each quoted figure sits between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in the
README; :func:`update_readme` rewrites what is between them from the tables of RESULTS.md,
so the README cannot drift from the recorded runs (``make docs`` runs it;
tests/test_readme_figures.py checks the README is current).

    python benchmarks/readme_figures.py [README.md] [benchmarks/RESULTS.md]
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MULTIGRID = "## Pressure solve with the multigrid preconditioner"
COUPLED = "## Tree–tissue coupled solve"
MARKED = re.compile(r"(<!-- bench:(?P<name>[\w-]+) -->)(?P<body>.*?)(<!-- /bench:(?P=name) -->)",
                    re.DOTALL)


def table(results: str, heading: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table under the section ``heading`` of RESULTS.md."""
    if heading not in results:
        raise ValueError(f"benchmarks/RESULTS.md has no section {heading!r}; the README's "
                         "benchmark figures come from it: restore it or update "
                         "benchmarks/readme_figures.py")
    section = results.split(heading, 1)[1].split("\n## ", 1)[0]
    lines = section[section.index("\n|") + 1:].split("\n\n", 1)[0].splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
            for line in lines[2:]]


def figures(results: str) -> dict[str, str]:
    """The text of every marked figure, by name."""
    rows = table(results, MULTIGRID)
    ours = [r for r in rows if r["method"].startswith("perfusion MG-CG")]
    largest = ours[-1]["n³"]
    pyamg = next(r for r in rows if r["n³"] == largest and r["method"].startswith("PyAMG"))
    iterations = sorted({r["iterations"] for r in ours})
    sizes = [r["n³"] for r in ours]
    ratios = [float(r["PyAMG / ours"].rstrip("×")) for r in table(results, COUPLED)]
    return {
        "mg-iterations": f"{'–'.join(iterations)} at {', '.join(sizes[:-1])} and {sizes[-1]}",
        "mg-time": (f"At {largest} MG-CG reaches 1e-8 in {float(ours[-1]['total s']):.2f} s "
                    f"against PyAMG smoothed aggregation's {float(pyamg['total s']):.2f} s "
                    f"({float(pyamg['ratio (peer/ours)']):.1f}×)"),
        "mg-ratio": f"{float(pyamg['ratio (peer/ours)']):.1f}× faster than PyAMG smoothed "
                    f"aggregation at {largest}",
        "coupled-ratio": f"{min(ratios):.0f}–{max(ratios):.0f}× faster than PyAMG",
    }


def generated(readme: str, results: str) -> str:
    """``readme`` with every marked figure rewritten from ``results``."""
    values = figures(results)
    unknown = sorted({m["name"] for m in MARKED.finditer(readme)} - set(values))
    if unknown:
        raise ValueError(f"README.md marks unknown benchmark figures {unknown}; known: "
                         f"{sorted(values)}")
    return MARKED.sub(lambda m: f"{m[1]}{values[m['name']]}{m[4]}", readme)


def update_readme(readme: Path, results: Path) -> bool:
    """Rewrite the marked figures of ``readme`` from ``results``; return whether it changed."""
    text = readme.read_text(encoding="utf-8")
    updated = generated(text, results.read_text(encoding="utf-8"))
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:3]]
    readme = paths[0] if paths else ROOT / "README.md"
    results = paths[1] if len(paths) > 1 else ROOT / "benchmarks" / "RESULTS.md"
    changed = update_readme(readme, results)
    sys.stdout.write("README benchmark figures updated\n" if changed
                     else "README benchmark figures already current\n")
