"""The domain: grid, tissue labels and per-class properties on a backend (docs/model.md §1).

``build_domain(case, backend)`` turns the case's geometry into a class-index volume
(0 = outside, no flow and no transport) and resolves each present class's property set:
library default (``perfusion.library.tissues``), replaced by the class's ``preset`` where it
sets a property, and by the case's own ``[tissue.<class>]`` keys over both.
Per-voxel arrays are made on demand by :meth:`Domain.class_field`. An image case with
``geometry.background`` also carries its CT/MR on the grid (``Domain.background``), for
the figures only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .compute.backend import Backend
from .case.schema import TissueSpec
from .errors import GeometryError
from .geometry.phantom import phantom_labels
from .library.tissues import TISSUE_DEFAULTS, Default, preset_default, tissue_default

log = logging.getLogger(__name__)

#: The tissue properties every class has (SI); docs/model.md §9.
TISSUE_FIELDS = tuple(TISSUE_DEFAULTS["normal"])


@dataclass(frozen=True)
class Domain:
    """Grid, labels and resolved tissue properties of a case, on one backend."""

    backend: Backend
    spacing: tuple[float, float, float]
    labels: np.ndarray
    class_names: tuple[str, ...]
    tissue: dict[str, dict[str, float]]
    tissue_sources: dict[str, dict[str, str]]
    affine: np.ndarray
    mask: object = field(repr=False)
    #: Whether ``affine`` places the grid in a patient (an image whose header gives its
    #: geometry); False for phantoms and for images stored without one (.npy, LiTS .mrc).
    patient_oriented: bool = False
    #: The case's CT/MR (``geometry.background``) on the grid, float32 on the host; or None.
    background: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.labels.shape

    @property
    def voxel_volume(self) -> float:
        return float(np.prod(self.spacing))

    @property
    def present_classes(self) -> tuple[str, ...]:
        """The tissue classes (not ``outside``) with at least one voxel."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.class_names))
        return tuple(n for i, n in enumerate(self.class_names) if i and counts[i])

    def class_mask(self, name: str):
        """Boolean backend array of the voxels of class ``name``."""
        return self.backend.xp.asarray(self.labels == self.class_names.index(name))

    def class_field(self, values: dict[str, float]):
        """Per-voxel backend array from per-class values (0 outside and for absent keys)."""
        table = np.zeros(len(self.class_names))
        for name, value in values.items():
            table[self.class_names.index(name)] = value
        return self.backend.asarray(table[self.labels])

    def property_field(self, name: str):
        """Per-voxel array of a tissue property (0 outside)."""
        return self.class_field({c: props[name] for c, props in self.tissue.items()})

    def class_means(self, array) -> dict[str, float]:
        """Volume mean of a backend array over each present class."""
        xp = self.backend.xp
        labels = xp.asarray(self.labels)
        return {c: self.backend.sum(xp.where(labels == self.class_names.index(c), array, 0))
                / int((self.labels == self.class_names.index(c)).sum())
                for c in self.present_classes}


def resolve_tissue(name: str, spec: TissueSpec | None) -> tuple[dict[str, float], dict[str, str]]:
    """Full SI property set of class ``name``: the case's keys > its preset > library defaults."""
    base = spec.base if spec is not None else None
    preset = spec.preset if spec is not None else None
    values, sources = {}, {}
    for field_name in TISSUE_FIELDS:
        given = getattr(spec, field_name) if spec is not None else None
        default: Default = (preset_default(preset, field_name)
                            or tissue_default(name, base, field_name))
        values[field_name] = default.value if given is None else given
        sources[field_name] = "case file" if given is not None else (
            f"preset {preset}: {default.source}" if preset_default(preset, field_name)
            else default.source)
    return values, sources


def build_domain(case, backend: Backend) -> Domain:
    """Build the :class:`Domain` of a validated case on ``backend``."""
    geometry, background, patient_oriented = case.geometry, None, False
    if geometry.kind == "phantom":
        spacing = case.grid.spacing
        spacing = tuple(spacing) if isinstance(spacing, tuple) else (spacing,) * 3
        labels = phantom_labels(geometry, tuple(case.grid.shape), spacing)
        class_names = ("outside", *geometry.class_names())
        affine = np.diag([*(1e3 * np.asarray(spacing)), 1.0])
        affine[:3, 3] = 0.5e3 * np.asarray(spacing)  # voxel centres in the grid frame [mm]
    else:
        from .geometry.image import load_label_image

        image, labels, class_names, spacing = load_label_image(geometry, case.grid)
        affine = image.affine
        patient_oriented = image.spacing is not None   # the header gave size and orientation
        if geometry.background is not None:
            from .geometry.background import background_on_grid

            background = background_on_grid(geometry, labels, affine)
    if not (labels > 0).any():
        raise GeometryError("geometry: no voxel belongs to a tissue class; check the label map")
    tissue, sources = {}, {}
    present = [n for i, n in enumerate(class_names) if i and (labels == i).any()]
    for name in present:
        tissue[name], sources[name] = resolve_tissue(name, case.tissue.get(name))
    log.info("domain: %s voxels, classes %s", "×".join(map(str, labels.shape)), ", ".join(present))
    return Domain(backend=backend, spacing=tuple(float(h) for h in spacing), labels=labels,
                  class_names=tuple(class_names), tissue=tissue, tissue_sources=sources,
                  affine=np.asarray(affine, dtype=float), mask=backend.xp.asarray(labels > 0),
                  background=background, patient_oriented=patient_oriented)
