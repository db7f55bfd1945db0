"""Public example data, downloaded on first use and cached; never shipped with perfusion.

:func:`fetch_lits117` gives volume 117 of the Liver Tumor Segmentation Benchmark (LiTS;
Bilic et al., Medical Image Analysis 84:102680, 2023): a contrast CT cropped around the
liver and resampled to 128³, with its segmentation (0 background, 1 liver, 2 tumour), as
shipped inside the PyPI package ``liver-ct-segmentation-package`` 1.6.0. The files are MRC
(1024-byte header, data stored z, y, x) without a voxel size, so a case using them must give
``grid.spacing``.

The LiTS data are licensed CC BY-NC-SA 4.0 (attribution, non-commercial use only,
share-alike), whatever the licence of the package that carries them.
"""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from ..errors import GeometryError

log = logging.getLogger(__name__)

LITS_LICENCE = "CC BY-NC-SA 4.0 (LiTS challenge data: attribution, non-commercial, share-alike)"
_LITS_PACKAGE = "liver-ct-segmentation-package==1.6.0"
# file name -> (size in bytes, SHA-256) of the copies inside the 1.6.0 wheel
_LITS_FILES = {
    "img_117.mrc": (8_389_632, "6519548844be8c92a6f37dff22961800ec4baad72a4efbb9f7061ffd265e1780"),
    "lab_117.mrc": (4_195_328, "0f4950afdb218ae1a8790c2367a3f1bffe3d68cf186239cdfae897e4d4f99240"),
}
_DOWNLOAD_TIMEOUT_S = 600


class DatasetUnreachableError(GeometryError):
    """The package index could not be reached (or refused the download).

    Raised only for a failed download, never for a package whose contents changed (that
    stays a plain :class:`~perfusion.errors.GeometryError`), so tests may skip on this
    error alone and still fail when the data are wrong.
    """


def fetch_lits117(cache_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Return the CT image and label volume of LiTS volume 117, downloading them once.

    The data (licence CC BY-NC-SA 4.0: non-commercial use only) are fetched with
    ``pip download`` of ``liver-ct-segmentation-package==1.6.0`` (never installed: it pins
    an old PyTorch) and the two MRC files are copied out of it into ``cache_dir/lits117``.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Where to keep the files; default ``$PERFUSION_DATA`` or ``~/.cache/perfusion``.

    Returns
    -------
    tuple of pathlib.Path
        ``(image, labels)``: ``img_117.mrc`` (float32 CT numbers) and ``lab_117.mrc``
        (uint16: 0 background, 1 liver, 2 tumour), both 128 × 128 × 128.

    Raises
    ------
    DatasetUnreachableError
        The package index could not be reached (a :class:`GeometryError` subclass); the
        message says how to fetch the files by hand.
    GeometryError
        The package no longer holds the expected files (wrong size or SHA-256) or is not a
        readable archive; the message says how to fetch them by hand.

    Examples
    --------
    >>> from perfusion.geometry.readers import read_image
    >>> image_path, label_path = fetch_lits117()  # doctest: +SKIP
    >>> read_image(label_path).data.shape  # doctest: +SKIP
    (128, 128, 128)
    """
    root = Path(cache_dir or os.environ.get("PERFUSION_DATA") or Path.home() / ".cache/perfusion")
    target = root / "lits117"
    paths = [target / name for name in _LITS_FILES]
    log.info("LiTS volume 117 is licensed %s", LITS_LICENCE)
    if not all(path.is_file() and path.stat().st_size == _LITS_FILES[path.name][0]
               for path in paths):
        _download(target)
    return paths[0], paths[1]


def _download(target: Path) -> None:
    """Download the package into a temporary folder and copy the two files to ``target``."""
    log.info("downloading %s from the Python package index into %s", _LITS_PACKAGE, target)
    with tempfile.TemporaryDirectory(prefix="perfusion-lits-") as folder:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
                   "--disable-pip-version-check", "--dest", folder, _LITS_PACKAGE]
        try:
            result = subprocess.run(command, capture_output=True, text=True,
                                    timeout=_DOWNLOAD_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DatasetUnreachableError(_unreachable(target, str(exc))) from exc
        archives = sorted(Path(folder).iterdir())
        if result.returncode != 0 or not archives:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise DatasetUnreachableError(_unreachable(target, detail[-1] if detail else "no file"))
        try:
            contents = _read_members(archives[0])
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            raise GeometryError(f"{archives[0].name} is not a readable package archive "
                                f"({exc}). {_manual(target)}") from exc
    target.mkdir(parents=True, exist_ok=True)
    for name, (size, digest) in _LITS_FILES.items():
        data = contents.get(name)
        if data is None or len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise GeometryError(f"{archives[0].name} does not hold the expected data/{name} "
                                f"({size} bytes); the package changed. {_manual(target)}")
        partial = target / f".{name}.partial"
        partial.write_bytes(data)
        os.replace(partial, target / name)


def _read_members(archive: Path) -> dict[str, bytes]:
    """The ``data/<name>`` files of a wheel (zip) or source distribution (tar or zip)."""
    wanted = {f"data/{name}": name for name in _LITS_FILES}
    found = {}
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                key = "/".join(member.name.split("/")[-2:])
                if key in wanted and member.isfile():
                    found[wanted[key]] = tar.extractfile(member).read()
        return found
    with zipfile.ZipFile(archive) as package:
        for member in package.namelist():
            key = "/".join(member.split("/")[-2:])
            if key in wanted:
                found[wanted[key]] = package.read(member)
    return found


def _unreachable(target: Path, detail: str) -> str:
    """Message for a download that failed."""
    return (f"Could not download {_LITS_PACKAGE}: the Python package index could not be "
            f"reached or refused it (pip: {detail}). {_manual(target)}")


def _manual(target: Path) -> str:
    """How to put the files in place by hand."""
    return (f"To fetch the data by hand, on a machine with internet access run "
            f"'pip download --no-deps {_LITS_PACKAGE}', open the .whl as a zip archive and "
            f"copy liver_ct_segmentation_package/data/img_117.mrc and lab_117.mrc into "
            f"{target} (licence {LITS_LICENCE}).")
