"""Trees from vessel masks: voxelised capsules (a voxel is vessel when its centre is within
the radius of the axis segment); tolerances in voxels, as the module docstring of
``vessel_mask`` states.
"""
import logging

import numpy as np
import pytest

from perfusion.vascular.sources.vessel_mask import load_vessel_mask, tree_from_mask
from perfusion.vascular.tree import TreeError

MM = 1e-3
H = 0.5 * MM


def _capsule(shape, spacing, start, end, radius):
    """Voxels whose centre is within ``radius`` of the segment ``start``–``end`` [m]."""
    centres = (np.indices(shape).reshape(3, -1).T + 0.5) * spacing
    axis = end - start
    t = np.clip((centres - start) @ axis / (axis @ axis), 0, 1)
    return (np.linalg.norm(centres - start - t[:, None] * axis, axis=1) <= radius).reshape(shape)


def _to_segment(points, start, end):
    """Distance of ``points`` to the segment ``start``–``end`` and position along it."""
    axis = end - start
    t = (points - start) @ axis / (axis @ axis)
    return np.linalg.norm(points - start - np.clip(t, 0, 1)[:, None] * axis, axis=1), t


ANGLE = np.radians(35)
TRUNK = (np.array([10, 32, 4]) * H, np.array([10, 32, 40]) * H, 4 * H)
BRANCHES = [(TRUNK[1], TRUNK[1] + 40 * H * np.array([0, side * np.sin(ANGLE), np.cos(ANGLE)]),
             3 * H) for side in (1, -1)]


@pytest.fixture(scope="module")
def y_mask():
    shape = (21, 64, 80)
    return np.logical_or.reduce([_capsule(shape, H, *vessel) for vessel in (TRUNK, *BRANCHES)])


def test_mask_of_a_bifurcation_gives_its_tree(y_mask):
    tree = tree_from_mask(y_mask, H)
    degree = np.bincount(tree.segments.ravel())
    assert np.count_nonzero(degree >= 3) == 1 and len(tree.terminals) == 2
    assert np.linalg.norm(tree.points[np.argmax(degree)] - TRUNK[1]) < TRUNK[2]
    start, end, radius = TRUNK
    tip = start - radius * (end - start) / np.linalg.norm(end - start)
    assert _to_segment(tree.points[tree.roots], tip, start)[0].max() < 2 * H
    for start, end, radius in BRANCHES:
        tip = end + radius * (end - start) / np.linalg.norm(end - start)
        assert _to_segment(tree.points[tree.terminals], end, tip)[0].min() < 2 * H
    middles = tree.points[tree.segments].mean(axis=1)
    for start, end, radius in (TRUNK, *BRANCHES):
        off_axis, t = _to_segment(middles, start, end)
        inside = (off_axis < radius) & (t > 0.25) & (t < 0.75)
        assert inside.sum() >= 4
        assert np.abs(tree.radii[inside] - radius).max() < 0.5 * H
    truth = sum(np.linalg.norm(end - start) for start, end, _ in (TRUNK, *BRANCHES))
    assert abs(tree.lengths.sum() / truth - 1) < 0.1
    assert 0.7 * 2 * H < np.median(tree.lengths) < 1.5 * 2 * H   # node_spacing: 2 voxels
    every_voxel = tree_from_mask(y_mask, H, node_spacing=0)   # 26-neighbour steps
    assert np.median(every_voxel.lengths) < np.sqrt(3) * H * (1 + 1e-12)
    assert len(every_voxel.segments) > 1.4 * len(tree.segments)


def test_mask_root_at_a_position(y_mask):
    start, end, radius = BRANCHES[0]
    tip = end + radius * (end - start) / np.linalg.norm(end - start)
    tree = tree_from_mask(y_mask, H, root=tip)
    assert np.linalg.norm(tree.points[tree.roots[0]] - tip) < 2 * H
    assert len(tree.terminals) == 2
    with pytest.raises(TreeError, match=r"^mask: root .* mm from the nearest vessel"):
        tree_from_mask(y_mask, H, root=(0.2, 0.2, 0.2))


def test_spur_pruning_removes_a_bump_on_the_wall():
    shape = (30, 30, 60)
    trunk = _capsule(shape, H, np.array([15, 15, 8]) * H, np.array([15, 15, 52]) * H, 4 * H)
    bump = _capsule(shape, H, np.array([15, 15, 30]) * H, np.array([15, 20, 30]) * H, 2 * H)
    assert len(tree_from_mask(trunk | bump, H, min_branch_length=0).terminals) == 2
    pruned = tree_from_mask(trunk | bump, H)
    assert len(pruned.terminals) == 1 and np.bincount(pruned.segments.ravel()).max() == 2


def test_pieces_are_kept_or_bridged(caplog):
    shape = (30, 30, 60)
    first = _capsule(shape, H, np.array([15, 15, 5]) * H, np.array([15, 15, 30]) * H, 3 * H)
    second = _capsule(shape, H, np.array([15, 15, 38]) * H, np.array([15, 15, 52]) * H, 3 * H)
    assert not (first | second)[:, :, 33:35].any() and (first | second)[:, :, 32].any()
    largest = tree_from_mask(first | second, H)
    assert largest.points[:, 2].max() < 33 * H
    bridged = tree_from_mask(first | second, H, keep="all", bridge_gaps=1.5 * MM)
    assert len(bridged.terminals) == 1
    assert bridged.points[:, 2].min() < 10 * H and bridged.points[:, 2].max() > 45 * H
    with caplog.at_level(logging.WARNING):
        tree_from_mask(first | second, H, keep="all", bridge_gaps=0.25 * MM)
    assert f"dropped {second.sum()} vessel voxels in 1 pieces" in caplog.text
    with pytest.raises(TreeError, match="keep='all' with bridge_gaps > 0"):
        tree_from_mask(first | second, H, keep="all")


def test_anisotropic_spacing():
    spacing = np.array([0.4, 0.4, 1.0]) * MM
    shape, radius = (60, 60, 30), 1.2 * MM
    direction = np.array([0.6, 0.0, 0.8])
    start = np.array(shape) * spacing / 2 - 10 * MM * direction
    end = start + 20 * MM * direction
    tree = tree_from_mask(_capsule(shape, spacing, start, end, radius), spacing)
    assert len(tree.terminals) == 1 and np.bincount(tree.segments.ravel()).max() == 2
    off_axis, t = _to_segment(tree.points[tree.segments].mean(axis=1), start, end)
    middle = (t > 0.25) & (t < 0.75)
    assert off_axis.max() < 1.5 * spacing.max()
    assert np.abs(tree.radii[middle] - radius).max() < 0.5 * spacing.max()
    assert 0.9 * 20 * MM < tree.lengths.sum() < 20 * MM + 2 * radius + spacing.max()


def test_mask_errors():
    with pytest.raises(TreeError, match="^vessels.nii: the vessel mask has no vessel voxel"):
        tree_from_mask(np.zeros((5, 5, 5), bool), H, source="vessels.nii")
    ball = _capsule((20, 20, 20), H, np.full(3, 10 * H), np.full(3, 10.01 * H), 6 * H)
    with pytest.raises(TreeError, match="^mask: the largest vessel piece is a blob"):
        tree_from_mask(ball, H)


def test_load_vessel_mask_reads_labels_and_spacing(tmp_path, y_mask):
    labels = np.ones(y_mask.shape, np.uint8)
    labels[y_mask] = 2
    path = tmp_path / "vessels.npz"
    np.savez(path, labels=labels, spacing=[H, H, H])
    tree = load_vessel_mask(path, label=2)
    direct = tree_from_mask(y_mask, H)
    np.testing.assert_array_equal(tree.points, direct.points)
    np.testing.assert_array_equal(tree.radii, direct.radii)
    assert tree.name == "vessels"
    with pytest.raises(TreeError, match=r"vessels\.npz: no voxel has label 7; .* \[1, 2\]"):
        load_vessel_mask(path, label=7)
    with pytest.raises(TreeError, match=r"absent\.nii: label image not found"):
        load_vessel_mask(tmp_path / "absent.nii")
