"""The container recipes (containers/, docs/containers.md) install this distribution's wheel.

No container runtime runs here: the recipes are parsed and held to pyproject.toml — the
wheel's file name, the extras they ask for, the CUDA version of the CuPy extra — and each
Apptainer definition to its Dockerfile twin.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import perfusion
from perfusion.library.cases import builtin_cases

ROOT = Path(__file__).parents[1]
CONTAINERS = ROOT / "containers"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
TWINS = {"cpu": ("Dockerfile.cpu", "perfusion-cpu.def"), "cuda": ("Dockerfile.cuda", "perfusion-cuda.def")}


def recipe(name: str) -> dict:
    """Base image, copied wheel pattern and install extras of one Dockerfile or definition."""
    text = (CONTAINERS / name).read_text(encoding="utf-8")
    base = re.search(r"^(?:FROM|From:)\s+(\S+)", text, re.MULTILINE)
    wheel = re.search(r"^\s*(?:COPY\s+)?dist/(\S+\.whl)\s", text, re.MULTILINE)
    extras = re.findall(r"sh /opt/install\.sh (\S+)", text)
    return {"base": base and base.group(1), "wheel": wheel and wheel.group(1),
            "extras": extras[0].split(",") if len(extras) == 1 else extras}


@pytest.mark.parametrize("variant", sorted(TWINS))
def test_each_recipe_installs_this_wheel_with_declared_extras(variant):
    docker, apptainer = (recipe(name) for name in TWINS[variant])
    assert docker == apptainer
    assert docker["wheel"] == f"{perfusion.DISTRIBUTION.replace('-', '_')}-*.whl"
    assert set(docker["extras"]) <= set(PROJECT["optional-dependencies"])
    assert "sweep" in docker["extras"]


def test_the_cuda_image_matches_the_cupy_extra():
    cuda = recipe(TWINS["cuda"][0])
    image_major = re.fullmatch(r"nvidia/cuda:(\d+)\.\d+\.\d+-runtime-ubuntu\d+\.\d+", cuda["base"])
    assert image_major is not None
    assert [e for e in cuda["extras"] if e.startswith("cuda")] == [f"cuda{image_major.group(1)}"]
    assert not any(e.startswith("cuda") for e in recipe(TWINS["cpu"][0])["extras"])


def test_the_smoke_run_uses_a_built_in_case():
    script = (CONTAINERS / "install.sh").read_text(encoding="utf-8")
    copied = re.search(r"perfusion cases --copy cases (\w+)", script).group(1)
    assert copied in builtin_cases()
    assert f"cases/{copied}.toml" in script
