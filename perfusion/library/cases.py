"""The built-in cases: ``cases/*.toml`` of the source tree, shipped inside the wheel."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class DataSource:
    """Where the external data of a case come from and where perfusion expects them."""

    name: str
    short: str        # one line: authors, year, licence
    origin: str       # who made the data, publication, licence
    placement: str    # where to put the files (or how they are fetched)


#: Known public data, by the name of the folder that holds them (or the ``dataset`` key).
DATA_SOURCES: dict[str, DataSource] = {
    "brain-hodneland2019": DataSource(
        "brain-hodneland2019",
        "Hodneland et al. 2019, PLOS Comput. Biol. 15:e1007073, CC BY 4.0",
        "Hodneland E. et al. (2019), PLOS Comput. Biol. 15:e1007073, supporting files S5 "
        "(white matter), S6 (grey matter), S7 (arteries), S8 (veins); licence CC BY 4.0 (cite "
        "the paper wherever these data are used or shown)",
        "download the supporting files S5–S8 of the paper (journals.plos.org, "
        "doi:10.1371/journal.pcbi.1007073) and place them as white_matter.nii.gz, "
        "grey_matter.nii.gz, arteries.nii.gz and veins.nii.gz in ../shared/data/"
        "brain-hodneland2019/ beside the checkout, or point "
        "the case at your copies with --set (e.g. --set 'geometry.masks.grey=\"/data/"
        "grey_matter.nii.gz\"')"),
    "lits117": DataSource(
        "lits117",
        "LiTS volume 117 (Bilic et al. 2023), CC BY-NC-SA 4.0, downloaded on first use",
        "volume 117 of the Liver Tumor Segmentation Benchmark (LiTS; Bilic et al., Medical "
        "Image Analysis 84:102680, 2023); licence CC BY-NC-SA 4.0",
        "downloaded on first use (pip download of liver-ct-segmentation-package 1.6.0) into "
        "$PERFUSION_DATA or ~/.cache/perfusion; needs the package index once"),
}


@dataclass(frozen=True)
class CaseData:
    """The external data a case file reads: its files (as written in the case) and sources."""

    files: tuple[str, ...]
    dataset: str | None
    sources: tuple[DataSource, ...]

    @property
    def external(self) -> bool:
        return bool(self.files or self.dataset)


def case_data(path: Path) -> CaseData:
    """What external data the case file ``path`` needs, read from its geometry and tree paths.

    The files are ``geometry.path``, every ``geometry.masks`` entry and every
    ``supplies[].tree.path``; ``geometry.dataset`` names a public dataset fetched on first use.
    A phantom case with no tree file needs none.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return CaseData((), None, ())
    geometry = raw.get("geometry") if isinstance(raw.get("geometry"), dict) else {}
    files = [geometry["path"]] if isinstance(geometry.get("path"), str) else []
    masks = geometry.get("masks")
    if isinstance(masks, dict):
        files += [v for v in masks.values() if isinstance(v, str)]
    for supply in raw.get("supplies") or []:
        tree = supply.get("tree") if isinstance(supply, dict) else None
        if isinstance(tree, dict) and isinstance(tree.get("path"), str):
            files.append(tree["path"])
    dataset = geometry.get("dataset") if isinstance(geometry.get("dataset"), str) else None
    return CaseData(tuple(files), dataset, data_sources([*files, *([dataset] if dataset else [])]))


def data_sources(paths) -> tuple[DataSource, ...]:
    """The known sources of these file paths (by a folder name in the path) or dataset names."""
    found = []
    for path in paths:
        parts = Path(str(path)).parts
        for key, source in DATA_SOURCES.items():
            if (key in parts or str(path) == key) and source not in found:
                found.append(source)
    return tuple(found)


def data_summary(path: Path) -> str:
    """One line for ``perfusion cases``: which external data the case needs and from where."""
    data = case_data(path)
    if not data.external:
        return "data: none external (built-in phantom)"
    if data.dataset and not data.files:
        where = f"dataset {data.dataset!r}"
    else:
        folders = sorted({str(Path(f).parent) for f in data.files})
        names = ", ".join(Path(f).name for f in data.files)
        where = f"{names} in {', '.join(folders)}"
        missing = [f for f in data.files if not (path.parent / f).exists()]
        where += f" ({len(missing)} not found here)" if missing else " (found)"
    origin = "; ".join(s.short for s in data.sources) or "source not recorded"
    return f"needs external data: {where} — {origin}"


def missing_data_hint(paths) -> str:
    """Where to get missing data files, when they belong to a known source."""
    sources = data_sources(paths)
    if not sources:
        return ""
    return " ".join(f"These files are {s.origin}: {s.placement}." for s in sources)
