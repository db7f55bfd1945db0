"""The project's model document is the one the repository cites.

No file cites "DESIGN §…" (a document outside the repository), and every
"docs/model.md §n" citation points at a section heading of docs/model.md.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
MODEL = ROOT / "docs" / "model.md"
SCANNED = [ROOT / "README.md", ROOT / "cases", ROOT / "perfusion", ROOT / "benchmarks",
           ROOT / "docs", ROOT / "tests"]
SUFFIXES = {".md", ".py", ".toml", ".txt", ".cu", ".h", ".rst", ".cfg", ".html", ".json"}

#: "docs/model.md" followed by one or more section numbers: "§6.2", "§6–§8", "§2, §9.2".
CITATION = re.compile(r"docs/model\.md((?:\s*[,–-]?\s*§\d+(?:\.\d+)*)+)")
SECTION = re.compile(r"§(\d+(?:\.\d+)*)")


def _files():
    for entry in SCANNED:
        paths = [entry] if entry.is_file() else sorted(entry.rglob("*"))
        for path in paths:
            if (path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts
                    and path != Path(__file__)):  # this file names the pattern it looks for
                yield path


def _headings() -> set[str]:
    numbers = set()
    for line in MODEL.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#{2,4} (\d+(?:\.\d+)*)\.? ", line)
        if match:
            numbers.add(match.group(1))
    return numbers


def test_model_document_has_numbered_sections():
    headings = _headings()
    assert {str(n) for n in range(1, 13)} <= headings, sorted(headings)


def test_nothing_cites_the_design_file():
    offenders = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
                 for path in _files()
                 for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace")
                                          .splitlines(), 1)
                 if re.search(r"DESIGN\s*§", line)]
    assert not offenders, "cite docs/model.md §n instead:\n" + "\n".join(offenders)


def test_every_model_citation_points_at_a_heading():
    headings = _headings()
    cited, broken = 0, []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            for number in SECTION.findall(match.group(1)):
                cited += 1
                if number not in headings:
                    line = text.count("\n", 0, match.start()) + 1
                    broken.append(f"{path.relative_to(ROOT)}:{line}: §{number}")
    assert cited > 20, cited
    assert not broken, f"no such section in docs/model.md: {broken}"
