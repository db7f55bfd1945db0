"""What a run was made from: the package's git commit, the command line and the input files.

``run_provenance()`` gives strings for the resolved case's ``[provenance]`` table (and the top
level of ``metrics.json``): ``git_commit`` (``git rev-parse HEAD`` of the checkout the package
was imported from, with `` (uncommitted changes)`` when tracked files differ from it; absent
when the package is not in a git checkout) and ``command_line`` (``sys.argv`` of the running
process, shell-quoted). ``input_files(case)`` gives ``metrics.json``'s ``inputs``: every file
the case reads — the case file itself and each path in it (label image, masks, centre-line or
vessel-mask files; the files inside a named folder) — as ``{"key": …, "path": …, "sha256": …}``
(the SHA-256 of the file's bytes, hexadecimal).
"""
from __future__ import annotations

import hashlib
import logging
import shlex
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(_PACKAGE_ROOT), *args], capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str | None:
    """The commit of the source checkout holding this package, or None (not a checkout)."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != _PACKAGE_ROOT:  # installed inside another repository
        return None
    commit = _git("rev-parse", "HEAD")
    if commit and _git("status", "--porcelain", "--untracked-files=no"):
        commit += " (uncommitted changes)"
    return commit


def run_provenance() -> dict[str, str]:
    """``git_commit`` (when available) and ``command_line`` of this run."""
    provenance = {"command_line": shlex.join(sys.argv)}
    commit = git_commit()
    if commit:
        provenance["git_commit"] = commit
    return provenance


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _paths(value, key: str):
    """(dotted key, absolute path) of every string naming an existing file or folder."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _paths(item, f"{key}.{index}")
    elif isinstance(value, str) and Path(value).is_absolute() and Path(value).exists():
        yield key, Path(value)


def input_files(case) -> list[dict[str, str]]:
    """The case file and every file its keys name (relative paths are absolute after loading)."""
    source = Path(getattr(case, "__source__", ""))
    named = [("case file", source)] if source.is_file() else []
    named += list(_paths(case.model_dump(exclude={"provenance"}), ""))
    files = []
    for key, path in named:
        inside = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files += [{"key": key, "path": str(p), "sha256": sha256(p)} for p in inside]
    return files
