"""The built-in cases: ``cases/*.toml`` of the source tree, shipped inside the wheel."""
from __future__ import annotations

import tomllib
from pathlib import Path


def cases_dir() -> Path:
    """The folder holding the built-in case files (wheel or source checkout)."""
    packaged = Path(__file__).parents[1] / "_cases"
    return packaged if packaged.is_dir() else Path(__file__).parents[2] / "cases"


def builtin_cases() -> dict[str, Path]:
    """Built-in case names → files (sweep files, with a ``[sweep]`` table, are not cases)."""
    return {p.stem: p for p in sorted(cases_dir().glob("*.toml")) if not _is_sweep(p)}


def _is_sweep(path: Path) -> bool:
    try:
        return "sweep" in tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return False


def describe(path: Path) -> str:
    """The first line of a case file's ``[case] description``."""
    try:
        info = tomllib.loads(path.read_text(encoding="utf-8")).get("case", {})
    except tomllib.TOMLDecodeError:
        return "(unreadable)"
    return (info.get("description") or info.get("name", "")).strip().splitlines()[0]
