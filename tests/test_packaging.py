"""The distribution is ``perfusion-ia`` (``perfusion`` is taken on PyPI); import and command stay.

The whole wheel — built, installed in a fresh environment, run from outside the checkout —
is checked by ``.ci/wheel.sh``; these tests hold the names together in the source tree.
"""
from __future__ import annotations

import re
import tomllib
from importlib.metadata import distribution, version
from pathlib import Path

from click.testing import CliRunner

import perfusion
from perfusion.cli import main

ROOT = Path(__file__).parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# an extra of a distribution named plain ``perfusion``: pip would fetch someone else's package
FOREIGN_EXTRA = re.compile(r"(?<![\w.-])perfusion\[")


def test_the_distribution_name_is_ours_and_the_version_follows_it():
    assert PROJECT["name"] == perfusion.DISTRIBUTION == "perfusion-ia"
    assert version(perfusion.DISTRIBUTION) == PROJECT["version"] == perfusion.__version__
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip().endswith(f"version {PROJECT['version']}")


def test_the_import_package_and_the_command_keep_the_name_perfusion():
    scripts = {ep.name: ep.value for ep in distribution(perfusion.DISTRIBUTION).entry_points
               if ep.group == "console_scripts"}
    assert scripts == {"perfusion": "perfusion.cli:main"}
    assert PROJECT["scripts"] == scripts


def test_install_hints_name_the_distribution():
    """Every ``pip install …[extra]`` the package or the README prints names ``perfusion-ia``."""
    sources = [*sorted((ROOT / "perfusion").rglob("*.py")), ROOT / "README.md"]
    foreign = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
               for path in sources
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if FOREIGN_EXTRA.search(line)]
    assert foreign == []
    assert FOREIGN_EXTRA.search("pip install 'perfusion[render]'")
    assert not FOREIGN_EXTRA.search("pip install 'perfusion-ia[render]'")
