"""Small clinical-format inputs the clinic tests write themselves: a 3D Slicer .seg.nrrd, a
TotalSegmentator folder and a DICOM CT series with its DICOM-SEG. Each writer returns the
case's ``[geometry]`` table and the affine [mm, RAS+] its labels must have, worked out by
hand from what was written (not by the readers under test).
"""
from pathlib import Path

import nibabel
import nrrd
import numpy as np

SHAPE = (16, 12, 8)  # [i, j, k]
ORGAN = (slice(2, 14), slice(2, 10), slice(1, 7))
TUMOUR = (slice(4, 7), slice(4, 6), slice(3, 5))
# Slicer: columns are the i, j, k steps in LPS mm (i and j turned by 90°).
SLICER_DIRECTIONS_LPS = np.array([[0.0, 0.8, 0.0], [-0.7, 0.0, 0.0], [0.0, 0.0, 2.5]])
SLICER_ORIGIN_LPS = np.array([-12.0, 30.5, 7.25])
DICOM_SPACING_MM = (0.7, 0.8, 2.5)
DICOM_ORIGIN_LPS = (-20.0, 15.0, 40.0)


def organ_and_tumour():
    """(organ mask containing the tumour, tumour mask), boolean ``[i, j, k]``."""
    organ, tumour = np.zeros(SHAPE, bool), np.zeros(SHAPE, bool)
    organ[ORGAN], tumour[TUMOUR] = True, True
    return organ, tumour


def slicer_header(segments, **extra) -> dict:
    """A .seg.nrrd header: ``segments`` is [(name, label value, layer)]."""
    header = {"space": "left-posterior-superior", "space origin": SLICER_ORIGIN_LPS,
              "space directions": SLICER_DIRECTIONS_LPS.T, "kinds": ["domain"] * 3, **extra}
    for n, (name, value, layer) in enumerate(segments):
        header.update({f"Segment{n}_Name": name, f"Segment{n}_LabelValue": str(value),
                       f"Segment{n}_Layer": str(layer), f"Segment{n}_ID": f"Segment_{n}"})
    return header


def slicer_affine() -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3] = np.diag([-1.0, -1.0, 1.0]) @ SLICER_DIRECTIONS_LPS
    affine[:3, 3] = SLICER_ORIGIN_LPS * [-1, -1, 1]
    return affine


def write_slicer(folder: Path):
    organ, tumour = organ_and_tumour()
    data = organ.astype(np.uint8) + tumour  # liver 1, tumour 2 (one layer)
    path = folder / "Segmentation.seg.nrrd"
    nrrd.write(str(path), data, slicer_header([("liver", 1, 0), ("tumor 1", 2, 0)]),
               index_order="F")
    geometry = {"kind": "image", "path": str(path),
                "segments": {"liver": "normal", "tumor 1": "tumor"}}
    return geometry, slicer_affine()


def totalsegmentator_affine() -> np.ndarray:
    """x mirrored, voxels 0.9 × 0.75 × 3 mm, origin off the grid (as a CT's NIfTI)."""
    affine = np.diag([-0.9, 0.75, 3.0, 1.0])
    affine[:3, 3] = [60.0, -110.5, -30.0]
    return affine


def write_totalsegmentator(folder: Path, vessels: bool = True):
    out = folder / "segmentations"
    out.mkdir()
    organ, tumour = organ_and_tumour()
    vessel = np.zeros(SHAPE, bool)
    vessel[3:13, 6, 4] = True
    masks = {"liver": organ, "liver_tumor": tumour, "spleen": np.zeros(SHAPE, bool)}
    if vessels:
        masks["liver_vessels"] = vessel
    for name, mask in masks.items():
        nibabel.save(nibabel.Nifti1Image(mask.astype(np.uint8), totalsegmentator_affine()),
                     out / f"{name}.nii.gz")
    geometry = {"kind": "image", "totalsegmentator": str(out),
                "segments": {"liver": "normal", "liver_tumor": "tumor"}}
    return geometry, totalsegmentator_affine()


def dicom_affine() -> np.ndarray:
    affine = np.diag([-DICOM_SPACING_MM[0], -DICOM_SPACING_MM[1], DICOM_SPACING_MM[2], 1.0])
    affine[:3, 3] = np.multiply(DICOM_ORIGIN_LPS, [-1, -1, 1])
    return affine


def write_ct_series(folder: Path) -> list:
    """An axial CT series, ``SHAPE[2]`` slices, written in reverse order of position."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    slices = []
    for k in range(SHAPE[2]):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.update({"PatientID": "p", "PatientName": "Test^Patient", "PatientBirthDate": "",
                   "PatientSex": "O", "StudyDate": "20240101", "StudyTime": "120000",
                   "AccessionNumber": "", "StudyID": "1", "ReferringPhysicianName": "",
                   "Modality": "CT", "SeriesNumber": 1, "InstanceNumber": k + 1,
                   "Manufacturer": "test", "SamplesPerPixel": 1,
                   "PhotometricInterpretation": "MONOCHROME2", "BitsAllocated": 16,
                   "BitsStored": 16, "HighBit": 15, "PixelRepresentation": 1,
                   "RescaleIntercept": 0, "RescaleSlope": 1})
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [DICOM_ORIGIN_LPS[0], DICOM_ORIGIN_LPS[1],
                                   DICOM_ORIGIN_LPS[2] + k * DICOM_SPACING_MM[2]]
        ds.PixelSpacing = [DICOM_SPACING_MM[1], DICOM_SPACING_MM[0]]  # rows (j), columns (i)
        ds.SliceThickness = DICOM_SPACING_MM[2]
        ds.Rows, ds.Columns = SHAPE[1], SHAPE[0]
        ds.PixelData = np.full((SHAPE[1], SHAPE[0]), 40 + k, np.int16).tobytes()
        ds.save_as(folder / f"ct{SHAPE[2] - k:03d}.dcm", enforce_file_format=True)
        slices.append(ds)
    return slices


def write_dicom_seg(path: Path, slices: list, masks: dict) -> None:
    """A binary DICOM-SEG of ``masks`` (name → boolean ``[i, j, k]``) on ``slices``."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    pixels = np.stack([m.transpose(2, 1, 0) for m in masks.values()], axis=-1).astype(np.uint8)
    category = hd.sr.CodedConcept("91723000", "SCT", "Anatomical Structure")
    kind = hd.sr.CodedConcept("10200004", "SCT", "Liver")
    descriptions = [hd.seg.SegmentDescription(
        segment_number=n, segment_label=name, segmented_property_category=category,
        segmented_property_type=kind, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
        for n, name in enumerate(masks, start=1)]
    hd.seg.Segmentation(
        source_images=slices, pixel_array=pixels, segmentation_type="BINARY",
        segment_descriptions=descriptions, series_instance_uid=generate_uid(),
        series_number=2, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer="test", manufacturer_model_name="test", software_versions="0",
        device_serial_number="0").save_as(path)


def write_dicom(folder: Path):
    organ, tumour = organ_and_tumour()
    slices = write_ct_series(folder / "ct")
    write_dicom_seg(folder / "seg.dcm", slices, {"liver": organ, "tumor 1": tumour})
    geometry = {"kind": "image", "dicom": str(folder / "ct"),
                "segmentation": str(folder / "seg.dcm"),
                "segments": {"liver": "normal", "tumor 1": "tumor"}}
    return geometry, dicom_affine()
