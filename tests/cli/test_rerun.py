"""``perfusion run`` into a folder that already holds results: refused unless --overwrite."""
from __future__ import annotations

import tomli_w
from click.testing import CliRunner

from perfusion.cli import main

SMALL = ["--backend", "numpy", "--set", "grid.shape=[20,18,16]", "--set", 'grid.spacing="5 mm"']


def test_rerun_needs_overwrite(liver_dict, tmp_path):
    case = tmp_path / "liver.toml"
    case.write_text(tomli_w.dumps(liver_dict))
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["run", str(case), "-o", str(out), *SMALL])
    assert first.exit_code == 0, first.output
    (out / "figures").mkdir()
    (out / "figures" / "steady.png").write_bytes(b"old figure")
    before = (out / "metrics.json").read_bytes()

    again = CliRunner().invoke(main, ["run", str(case), "-o", str(out), *SMALL])
    assert again.exit_code == 1
    assert str(out.resolve()) in again.output and "--overwrite" in again.output
    assert "Traceback" not in again.output
    assert (out / "metrics.json").read_bytes() == before
    assert (out / "figures" / "steady.png").read_bytes() == b"old figure"

    replaced = CliRunner().invoke(main, ["run", str(case), "-o", str(out), *SMALL, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert (out / "metrics.json").is_file() and not (out / "figures").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["liver.toml", "out"]
