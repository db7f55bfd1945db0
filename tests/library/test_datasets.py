"""The LiTS example volume: extraction and caching offline, the real download when online."""
import hashlib
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from perfusion.library import datasets
from perfusion.errors import GeometryError
from perfusion.geometry.readers import read_image

FAKE = {"img_117.mrc": b"image bytes", "lab_117.mrc": b"label bytes!"}


@pytest.fixture
def fake_pip(monkeypatch):
    """Replace ``pip download`` by one that writes a small wheel; count the calls."""
    calls = []
    monkeypatch.setattr(datasets, "_LITS_FILES", {
        name: (len(data), hashlib.sha256(data).hexdigest()) for name, data in FAKE.items()})

    def run(command, **kwargs):
        calls.append(command)
        folder = command[command.index("--dest") + 1]
        with zipfile.ZipFile(f"{folder}/liver_ct_segmentation_package-1.6.0-py3-none-any.whl",
                             "w") as wheel:
            wheel.writestr("liver_ct_segmentation_package/__init__.py", "")
            for name, data in FAKE.items():
                wheel.writestr(f"liver_ct_segmentation_package/data/{name}", data)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(datasets.subprocess, "run", run)
    return calls


def test_download_extracts_the_two_files_and_reuses_them(tmp_path, fake_pip, caplog):
    caplog.set_level("INFO", logger="perfusion.library.datasets")
    image, labels = datasets.fetch_lits117(tmp_path)
    assert (image, labels) == (tmp_path / "lits117/img_117.mrc", tmp_path / "lits117/lab_117.mrc")
    assert image.read_bytes() == FAKE["img_117.mrc"] and labels.read_bytes() == FAKE["lab_117.mrc"]
    assert "pip" in fake_pip[0] and "--no-deps" in fake_pip[0] and "install" not in fake_pip[0]
    datasets.fetch_lits117(tmp_path)
    assert len(fake_pip) == 1
    assert "CC BY-NC-SA 4.0" in caplog.text
    assert sorted(p.name for p in (tmp_path / "lits117").iterdir()) == sorted(FAKE)


def test_a_file_of_the_wrong_size_is_fetched_again(tmp_path, fake_pip):
    image, _ = datasets.fetch_lits117(tmp_path)
    image.write_bytes(b"truncated")
    datasets.fetch_lits117(tmp_path)
    assert len(fake_pip) == 2 and image.read_bytes() == FAKE["img_117.mrc"]


def test_default_cache_is_perfusion_data(tmp_path, fake_pip, monkeypatch):
    monkeypatch.setenv("PERFUSION_DATA", str(tmp_path / "cache"))
    assert datasets.fetch_lits117()[1] == tmp_path / "cache/lits117/lab_117.mrc"


def test_changed_package_contents_are_reported(tmp_path, fake_pip, monkeypatch):
    monkeypatch.setitem(datasets._LITS_FILES, "lab_117.mrc", (12, "0" * 64))
    with pytest.raises(GeometryError, match="does not hold the expected data/lab_117.mrc"):
        datasets.fetch_lits117(tmp_path)


@pytest.mark.parametrize("name", sorted(FAKE))
def test_hash_mismatch_is_not_an_unreachable_index(tmp_path, fake_pip, monkeypatch, name):
    """A changed package must fail the LiTS tests: its error is not the one they skip on."""
    size, _ = datasets._LITS_FILES[name]
    monkeypatch.setitem(datasets._LITS_FILES, name, (size, "0" * 64))
    with pytest.raises(GeometryError, match="the package changed") as error:
        datasets.fetch_lits117(tmp_path)
    assert not isinstance(error.value, datasets.DatasetUnreachableError)
    assert not (tmp_path / "lits117" / name).exists()


def test_unreadable_archive_is_not_an_unreachable_index(tmp_path, monkeypatch):
    def run(command, **kwargs):
        folder = command[command.index("--dest") + 1]
        (Path(folder) / "liver_ct_segmentation_package-1.6.0-py3-none-any.whl").write_bytes(b"junk")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(datasets.subprocess, "run", run)
    with pytest.raises(GeometryError, match="not a readable package archive") as error:
        datasets.fetch_lits117(tmp_path)
    assert not isinstance(error.value, datasets.DatasetUnreachableError)


def test_unreachable_index_says_how_to_fetch_by_hand(tmp_path, monkeypatch):
    def run(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution\n")

    monkeypatch.setattr(datasets.subprocess, "run", run)
    with pytest.raises(datasets.DatasetUnreachableError, match="could not be reached") as error:
        datasets.fetch_lits117(tmp_path)
    assert isinstance(error.value, GeometryError)
    assert "No matching distribution" in str(error.value)
    assert str(tmp_path / "lits117") in str(error.value) and "pip download" in str(error.value)


@pytest.mark.network
def test_real_download_has_liver_and_tumour_labels(tmp_path):
    try:
        image_path, label_path = datasets.fetch_lits117(tmp_path)
    except datasets.DatasetUnreachableError as error:
        pytest.skip(f"the Python package index is unreachable: {error}")
    labels = read_image(label_path)
    assert labels.data.shape == (128, 128, 128) and labels.spacing is None
    assert {0, 1, 2} <= set(np.unique(labels.data).tolist())
    assert read_image(image_path).data.dtype == np.float32
