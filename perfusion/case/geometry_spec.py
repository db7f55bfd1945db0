"""Case-file tables of the geometry: a phantom, or a label image and how its values or
named segments become tissue classes (``[geometry]``).

Label sources of ``kind = "image"`` (exactly one): ``path`` (a label image; a 3D Slicer
``.seg.nrrd`` with ``segments``), ``dataset``, ``masks`` (one file per class), a
``totalsegmentator`` output folder, or a ``dicom`` series with its DICOM-SEG
``segmentation``. The named sources map segment names to classes with ``segments``.
``background`` names the CT or MR image the labels lie on, for the figures' grey underlay
(:mod:`perfusion.geometry.background`).
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from .quantity import Length, Position
from .schema_base import Strict

Name = str
SLICER_SUFFIX = ".seg.nrrd"
#: ``background`` value that takes the public dataset's own image (its CT).
DATASET_BACKGROUND = "dataset"


class OrganSpec(Strict):
    shape: Literal["ellipsoid", "sphere", "box"] = Field(description="Organ shape.")
    center: Optional[Position] = Field(None, description="Centre (grid frame); default: grid centre.")
    radii: Optional[tuple[Length, Length, Length]] = Field(None, description="Ellipsoid semi-axes.")
    radius: Optional[Length] = Field(None, description="Sphere radius.")
    size: Optional[tuple[Length, Length, Length]] = Field(
        None, description="Box edge lengths; default: the whole grid.")

    @model_validator(mode="after")
    def _needs_dimensions(self):
        if self.shape == "ellipsoid" and self.radii is None:
            raise ValueError('an ellipsoid needs radii = ["… mm", "… mm", "… mm"]')
        if self.shape == "sphere" and self.radius is None:
            raise ValueError('a sphere needs radius = "… mm"')
        return self


class TumorSpec(Strict):
    center: Optional[Position] = Field(None, description="Centre (grid frame, lengths).")
    voxel: Optional[tuple[int, int, int]] = Field(None, description="Centre as voxel indices.")
    radius: Length = Field(description="Tumour radius (viable rim outer radius).")
    necrotic_radius: Optional[Length] = Field(None, description="Radius of the necrotic core.")

    @model_validator(mode="after")
    def _one_centre(self):
        if (self.center is None) == (self.voxel is None):
            raise ValueError("give exactly one of center = [x, y, z] (lengths) or voxel = [i, j, k]")
        if self.necrotic_radius is not None and self.necrotic_radius >= self.radius:
            raise ValueError("necrotic_radius must be smaller than radius")
        return self


class GeometrySpec(Strict):
    kind: Literal["phantom", "image"] = Field(description="Built-in phantom or a label image.")
    organ: Optional[OrganSpec] = Field(None, description="Phantom organ (kind = phantom).")
    tumors: list[TumorSpec] = Field([], description="Phantom tumours, each a sphere.")
    path: Optional[str] = Field(
        None, description="Label image (.nii/.nii.gz/.nrrd/.mha/.mhd/.vti/.npy/.npz/.mrc), "
        "relative to the case file.")
    dataset: Optional[Literal["lits117"]] = Field(
        None, description="A public dataset fetched on first use instead of path "
        "(lits117: LiTS volume 117 labels, CC BY-NC-SA 4.0).")
    labels: Optional[dict[int, Name]] = Field(
        None, description="Image value → tissue class; other values are outside.")
    masks: Optional[dict[Name, str]] = Field(
        None, description="Tissue class → binary mask file (instead of path: one file per "
        "class, same grid), relative to the case file.")
    totalsegmentator: Optional[str] = Field(
        None, description="A TotalSegmentator output folder (one NIfTI per structure, e.g. "
        "liver.nii.gz), relative to the case file; needs segments.")
    dicom: Optional[str] = Field(
        None, description="A folder holding the CT/MR DICOM series the labels lie on; needs "
        "segmentation and segments.")
    segmentation: Optional[str] = Field(
        None, description="The DICOM-SEG file segmenting the dicom series.")
    segments: Optional[dict[str, Name]] = Field(
        None, description="Segment name → tissue class, for a 3D Slicer .seg.nrrd path, a "
        "totalsegmentator folder (structure names) or a DICOM-SEG (segment labels); "
        "unlisted segments are outside. Painted in the order given: where segments "
        "overlap the later wins, so list the organ first and its tumours after.")
    downsample: int = Field(
        1, ge=1, le=16, description="Merge f×f×f image voxels into one (majority class).")
    background: Optional[str] = Field(
        None, description="The CT or MR image the labels lie on (any format path reads), "
        "relative to the case file; drawn grey under the drug in the slice figures, its "
        "values (e.g. HU) resampled onto the label grid through both affines (fields.npz "
        "background). With dataset, \"dataset\" takes the dataset's own image.")

    @model_validator(mode="after")
    def _kind_fields(self):
        image_keys = ("path", "dataset", "labels", "masks", "totalsegmentator", "dicom",
                      "segmentation", "segments", "background")
        if self.kind == "phantom":
            if self.organ is None:
                raise ValueError('a phantom needs organ = { shape = "ellipsoid", … }')
            if any(getattr(self, key) for key in image_keys) or self.downsample != 1:
                raise ValueError(f"{', '.join(image_keys)} and downsample belong to "
                                 "kind = \"image\"")
            return self
        sources = ("path", "dataset", "masks", "totalsegmentator", "dicom")
        if sum(getattr(self, key) is not None for key in sources) != 1:
            raise ValueError('an image geometry needs exactly one of path = "…", dataset = "…", '
                             'masks = { class = "…" }, totalsegmentator = "folder/" or '
                             'dicom = "series folder/"')
        if self.background == DATASET_BACKGROUND and self.dataset is None:
            raise ValueError(f'background = "{DATASET_BACKGROUND}" takes the image of a dataset; '
                             'without dataset give the image file, background = "ct.nii.gz"')
        if (self.dicom is None) != (self.segmentation is None):
            raise ValueError('dicom = "series folder/" and segmentation = "seg.dcm" go together')
        named = (self.totalsegmentator or self.dicom
                 or (self.path or "").lower().endswith(SLICER_SUFFIX))
        if named and self.segments is None:
            raise ValueError('name the segments that are tissue, e.g. segments = { liver = '
                             '"normal", "tumor 1" = "tumor" }')
        if self.segments is not None and not named:
            raise ValueError("segments belong to a .seg.nrrd path, totalsegmentator or dicom; "
                             "a label image maps its values with labels = { 1 = \"normal\" }")
        if self.labels is not None and (self.masks is not None or named):
            raise ValueError("labels belong to a plain label image path = \"…\"; masks name "
                             "their classes, and segmentations map names with segments")
        if self.organ is not None or self.tumors:
            raise ValueError("organ and tumors belong to kind = \"phantom\"")
        return self

    def class_names(self) -> list[str]:
        """The tissue classes this geometry can contain."""
        if self.kind == "phantom":
            names = ["normal"]
            if self.tumors:
                names.append("tumor")
            if any(t.necrotic_radius for t in self.tumors):
                names.append("necrotic")
            return names
        if self.masks:
            return list(self.masks)
        if self.segments:
            return list(dict.fromkeys(self.segments.values()))
        labels = self.labels or {1: "normal", 2: "tumor"}
        return list(dict.fromkeys(labels.values()))
