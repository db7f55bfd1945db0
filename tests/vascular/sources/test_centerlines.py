"""Trees from centre-line files, perfusion's own ``.vtp`` tree files among them.

Centre-lines: a VMTK-style Y (one polyline per outlet, the trunk stored twice) written as
ASCII ``.vtp`` here, and as binary ``.vtp``/legacy ``.vtk`` by PyVista where installed. A
tree loaded from it, written by the tree writer, reads back exactly, opens in PyVista and
loads again as centre-lines.
"""
import numpy as np
import pytest

from perfusion.vascular.sources.centerlines import load_centerlines
from perfusion.vascular.tree import TreeError
from perfusion.vascular.tree_file import read_tree_vtp, write_tree_vtp

MM = 1e-3
INLET, FORK = np.array([0.0, 0.0, 0.0]), np.array([0.0, 0.0, 10.0])
ENDS = {"left": np.array([-5.0, 0.0, 15.0]), "right": np.array([5.0, 2.5, 15.0])}


def _radius_mm(points):
    """Known radius along the Y [mm]: widest at the inlet."""
    return 1.5 - 0.05 * points[..., 2] - 0.02 * np.abs(points[..., 0])


def _y_lines():
    """Two polylines [mm] from the inlet to each outlet, sharing the trunk (as VMTK)."""
    trunk = FORK * np.linspace(0, 1, 11)[:, None]
    steps = np.linspace(0.2, 1, 5)[:, None]
    return [np.vstack([trunk, FORK + steps * (end - FORK)]) for end in ENDS.values()]


def _write_ascii_vtp(path, lines, point_data):
    """A single-piece ASCII ``.vtp`` with one polyline cell per line."""
    points = np.vstack(lines)
    offsets = np.cumsum([len(line) for line in lines])

    def array(name, values, vtk_type="Float64", components=1):
        text = " ".join(repr(v) for v in np.ravel(values).tolist())
        return (f'<DataArray type="{vtk_type}" Name="{name}" NumberOfComponents='
                f'"{components}" format="ascii">{text}</DataArray>\n')

    path.write_text(
        '<?xml version="1.0"?>\n<VTKFile type="PolyData" version="0.1" '
        'byte_order="LittleEndian">\n<PolyData>\n'
        f'<Piece NumberOfPoints="{len(points)}" NumberOfLines="{len(lines)}">\n'
        f'<PointData>\n{"".join(array(k, v) for k, v in point_data.items())}</PointData>\n'
        f'<Points>\n{array("Points", points, components=3)}</Points>\n'
        f'<Lines>\n{array("connectivity", np.arange(len(points)), "Int64")}'
        f'{array("offsets", offsets, "Int64")}</Lines>\n</Piece>\n</PolyData>\n</VTKFile>\n')
    return path


@pytest.fixture
def y_file(tmp_path):
    lines = _y_lines()
    lines[1][:11] += 1e-9   # the duplicated trunk is not bit-identical in VMTK output
    return _write_ascii_vtp(tmp_path / "y.vtp", lines,
                            {"MaximumInscribedSphereRadius": _radius_mm(np.vstack(lines)),
                             "Abscissas": np.arange(32.0)})


def _node(tree, position_mm, origin=(0, 0, 0)):
    """Index of the node at ``position_mm`` (file frame)."""
    distance = np.linalg.norm(tree.points - (MM * position_mm - np.asarray(origin)), axis=1)
    assert distance.min() < 1e-9
    return int(np.argmin(distance))


def _expected_radii(tree, origin=(0, 0, 0)):
    file_points = (tree.points + np.asarray(origin)) / MM
    return MM * _radius_mm(file_points)[tree.segments].mean(axis=1)


def test_vmtk_style_centrelines_give_one_bifurcation(y_file):
    tree = load_centerlines(y_file)
    assert (len(tree.points), len(tree.segments)) == (21, 20)   # trunk merged: 11 + 5 + 5
    degree = np.bincount(tree.segments.ravel())
    assert np.bincount(degree).tolist() == [0, 3, 17, 1]
    assert int(np.argmax(degree)) == _node(tree, FORK)
    assert tree.roots.tolist() == [_node(tree, INLET)]
    assert sorted(tree.terminals.tolist()) == sorted(_node(tree, end) for end in ENDS.values())
    np.testing.assert_allclose(tree.radii, _expected_radii(tree), rtol=0, atol=1e-12)
    assert tree.name == "y"


def test_unit_and_origin_place_the_nodes_in_the_grid_frame(y_file):
    origin = (0.01, -0.02, 0.005)
    plain = load_centerlines(y_file)
    shifted = load_centerlines(y_file, origin=origin)
    np.testing.assert_allclose(shifted.points, plain.points - origin, rtol=0, atol=1e-15)
    np.testing.assert_allclose(shifted.radii, _expected_radii(shifted, origin), atol=1e-12)
    in_metres = load_centerlines(y_file, unit=1.0)
    np.testing.assert_allclose(in_metres.points, plain.points / MM, atol=1e-12)
    np.testing.assert_allclose(in_metres.radii, plain.radii / MM, atol=1e-12)


def test_root_at_a_position_takes_the_nearest_node(y_file):
    tree = load_centerlines(y_file, root=MM * (ENDS["right"] + [0.1, 0.0, 0.2]))
    assert tree.roots.tolist() == [_node(tree, ENDS["right"])]
    assert sorted(tree.terminals.tolist()) == sorted([_node(tree, INLET),
                                                     _node(tree, ENDS["left"])])
    with pytest.raises(TreeError, match=r"y\.vtp: root .* mm from the nearest"):
        load_centerlines(y_file, root=(0.1, 0.1, 0.1))


def test_files_written_by_pyvista_give_the_same_tree(tmp_path, y_file):
    pyvista = pytest.importorskip("pyvista")
    lines = _y_lines()
    points = np.vstack(lines)
    cells = np.concatenate([[11 + 5, *range(16)], [16, *range(16, 32)]])
    mesh = pyvista.PolyData(points, lines=cells)
    mesh.point_data["MaximumInscribedSphereRadius"] = _radius_mm(points)
    reference = load_centerlines(y_file)
    for name in ("binary.vtp", "legacy.vtk"):
        mesh.save(tmp_path / name)
        tree = load_centerlines(tmp_path / name)
        assert len(tree.segments) == 20 and tree.roots.tolist() == [_node(tree, INLET)]
        order = np.lexsort(tree.points.T)
        np.testing.assert_allclose(tree.points[order], reference.points[np.lexsort(
            reference.points.T)], atol=1e-11)
        np.testing.assert_allclose(tree.radii, _expected_radii(tree), atol=1e-12)


def test_centreline_errors_name_the_file_and_the_fix(tmp_path, y_file):
    with pytest.raises(TreeError, match=r"missing\.vtp: centre-line file not found"):
        load_centerlines(tmp_path / "missing.vtp")
    with pytest.raises(TreeError, match=r"y\.vtp: no scalar point array 'Radius'.*"
                                        r"'MaximumInscribedSphereRadius', 'Abscissas'"):
        load_centerlines(y_file, radius_array="Radius")
    lines = _y_lines()
    radius = _radius_mm(np.vstack(lines))
    radius[3] = -0.2
    bad = _write_ascii_vtp(tmp_path / "bad.vtp", lines, {"R": radius})
    with pytest.raises(TreeError, match=r"bad\.vtp: 'R' is -0\.2 at point 3"):
        load_centerlines(bad, radius_array="R")
    apart = [lines[0][:5], lines[0][6:]]
    two = _write_ascii_vtp(tmp_path / "two.vtp", apart, {"R": _radius_mm(np.vstack(apart))})
    with pytest.raises(TreeError, match=r"two\.vtp: .* 2 disconnected pieces"):
        load_centerlines(two, radius_array="R")
    dots = _write_ascii_vtp(tmp_path / "dots.vtp", [p[None] for p in lines[0][:3]],
                            {"R": np.ones(3)})
    with pytest.raises(TreeError, match=r"dots\.vtp: holds no line cells"):
        load_centerlines(dots, radius_array="R")
    (tmp_path / "junk.vtp").write_text("<VTKFile")
    with pytest.raises(TreeError, match=r"junk\.vtp: not a readable VTK PolyData"):
        load_centerlines(tmp_path / "junk.vtp")


def test_written_tree_reads_back_exactly(tmp_path, y_file):
    tree = load_centerlines(y_file)
    nodes, segments = len(tree.points), len(tree.segments)
    point_data = {"pressure": np.linspace(1e4, 9e3, nodes)}
    cell_data = {"flow": np.arange(segments) * 1e-9, "catheter": np.arange(segments) < 3,
                 "drug": np.arange(2.0 * segments).reshape(segments, 2)}
    out = tmp_path / "tree.vtp"
    write_tree_vtp(out, tree, point_data=point_data, cell_data=cell_data)
    back, back_points, back_cells = read_tree_vtp(out)
    np.testing.assert_array_equal(back.segments, tree.segments)
    np.testing.assert_allclose(back.points, tree.points, rtol=1e-15)   # via mm: last digit
    np.testing.assert_allclose(back.radii, tree.radii, rtol=1e-15)
    np.testing.assert_array_equal(back_points["pressure"], point_data["pressure"])
    for name, values in cell_data.items():
        np.testing.assert_array_equal(back_cells[name], values)
    assert back_cells["catheter"].dtype == np.uint8 and set(back_cells) == set(cell_data)
    again = load_centerlines(out, radius_array="radius", unit=1.0)   # the generic reader
    np.testing.assert_allclose(sorted(map(tuple, again.points[again.segments].reshape(-1, 6))),
                               sorted(map(tuple, tree.points[tree.segments].reshape(-1, 6))),
                               rtol=1e-15)
    with pytest.raises(ValueError, match="'length' is written from the tree"):
        write_tree_vtp(out, tree, cell_data={"length": np.ones(segments)})
    with pytest.raises(ValueError, match="'flow' must have 20 rows"):
        write_tree_vtp(out, tree, cell_data={"flow": np.ones(3)})


def test_written_tree_opens_in_pyvista(tmp_path, y_file):
    pyvista = pytest.importorskip("pyvista")
    tree = load_centerlines(y_file)
    write_tree_vtp(tmp_path / "tree.vtp", tree, cell_data={"flow": np.ones(20)})
    mesh = pyvista.read(tmp_path / "tree.vtp")
    assert (mesh.n_points, mesh.n_cells) == (21, 20)
    np.testing.assert_allclose(mesh.cell_data["radius"], tree.radii * 1e3, rtol=1e-15)  # mm
    np.testing.assert_allclose(mesh.cell_data["length"], tree.lengths * 1e3)   # mm
    np.testing.assert_array_equal(mesh.lines.reshape(-1, 3)[:, 1:], tree.segments)
    inflow = mesh.point_data["radius"][tree.segments[:, 1]]
    np.testing.assert_array_equal(inflow, tree.radii * 1e3)
    (root,) = tree.roots
    assert mesh.point_data["radius"][root] == 1e3 * tree.radii[np.flatnonzero(
        tree.segments[:, 0] == root)[0]]
