"""Memory a run needs, estimated from the case alone (the domain is not built).

``estimate(case)`` takes the grid shape (phantom: ``grid.shape``; image: the file header,
divided by ``geometry.downsample`` rounded up), counts the full-grid arrays alive at the
peak of each stage, and adds ``MARGIN`` (20%). ``w``: bytes of the working dtype (8 or 4);
``ℓ``: bytes of a drug-loop array (``w`` on CuPy; 8 on NumPy, whose reference exchange
step promotes float32 to float64); ``S`` supplies, ``C`` classes, ``T`` output times.
Counts per voxel, read from the code and checked against ``tracemalloc`` peaks of NumPy
runs (tests/compute/test_memory.py). Device (GPU on CuPy, RAM on NumPy):

* an elliptic solve (``solve_bytes``): Jacobi-CG 8 w (x r z p q D⁻¹, the solution, a
  temporary); MG-CG 7 w (x r z p q, the solution, the cropped right-hand side) +
  ``HIERARCHY`` bytes: the float32 multigrid hierarchy whatever ``w``, 9 arrays per level
  (3 faces, D and D⁻¹ on NumPy or the reaction and 2 colour weights on CuPy; iterate,
  right-hand side, residual, grid buffer), 36 bytes per voxel summed over the levels: ×8/7
  when every level halves all three axes, up to ×4/3 while thick slices are only coarsened
  in-plane: 48. In float32 + 8 bytes: the float64 copies the dot products make of their
  operands (measured: tests/compute/test_memory.py).
* supply solve: 7 kept per solved supply (p, F, 3 faces, reaction, source); the one being
  solved 15 + the solve (K, β, 3 faces + reaction, source, the previous calibration step's
  stencil, φ and F): ``(7S + 8) w + solve`` + 2 bytes (masks).
* territory: ``7S w`` on the device; on the host 41 float64 when tissue fills the grid
  (upwind triplets, their sorted copies, the sparse triangular matrix).
* IFP: ``(7S + 3) w`` kept (+ total F, territory, catheter share) + 17 + the solve (K_i,
  filtration and lymph coefficients, effective pressure, surface term, 3 faces + reaction,
  rhs, p_i, J_v, lymph, outflow, 3 face + 3 cell velocities, temporaries):
  ``(7S + 20) w + solve``.
* drug, in a step of the last route: the steady state, ``(7S + 13) w``; the tissue problem
  22 w (3 diffusion + 3 velocity faces and their 6 hybrid-flux coefficients, outflow,
  1/v_e ×2, 5 exchange coefficients, v_e,
  v_p) + 12 bytes (k_e in float64, flags), twice with embolisation (+ 10 w: re-solved
  supply, F, territory, kept to the end for the results); per route kept the exposure, 16 + ℓ + 2C bytes (AUC, Cmax in
  float64, previous C_t, class masks); the loop, 36 ℓ on NumPy (m, c, c_p, the last step's
  view and amounts: 9; exchange and saturable-Newton temporaries: 27 when tissue fills the
  grid), 20 w on CuPy (9 + kernel outputs and Heun stages).
* exposure over all time (``transport.total_exposure``, no embolisation), after the loop:
  the drug stage's arrays but the loop, each route's end state (2 ℓ), and on the host
  ``TOTALS`` = 600 bytes where tissue fills the grid: the sparse matrix from its triplets
  (7 entries of a value and two int64 indices, then CSR), the grid index arrays, ~15
  coefficient vectors, BiCGStab's ~10 and the totals of three routes, all float64.

Host: labels 1 byte and a float64 class field 8; building a phantom 16, an image
``2·itemsize + 4`` per file voxel (data, np.unique's sorted copy, labels, comparisons);
snapshots 3 float32 per output time (12T), stacked again when written (24T) with ~16
float64 of encoding buffers, and on CuPy the steady fields, AUC and Cmax copied to the host,
``(2S + 7) w + 16`` (+ 4 w: the embolised fields). On NumPy a stage needs device + host. A run needs its largest stage.
With ``geometry.background`` (the CT/MR under the figures) every stage holds one more
float32 per voxel on the host (4 bytes; ``Domain.background``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..case.protocol import output_times
from ..errors import BackendUnavailableError
from .backend import available_host_memory

MARGIN, GIB = 1.2, 2**30
#: Bytes per voxel of the float32 multigrid hierarchy of an MG-CG solve (see above).
HIERARCHY = 48
#: Host bytes per tissue voxel of the exposure over all time (see above).
TOTALS = 600
BACKENDS, PRECISIONS = ("numpy", "cupy"), {"float64": 8, "float32": 4}
#: Shape and itemsize of the public datasets (perfusion.library.datasets), so no download is needed.
DATASET_HEADERS = {"lits117": ((128, 128, 128), 2)}


@dataclass(frozen=True)
class Need:
    """Bytes a run needs: ``device`` GPU memory (0 on NumPy) and ``host`` RAM."""

    device: int
    host: int


@dataclass(frozen=True)
class MemoryEstimate:
    """What a case needs on each backend and precision (margin included)."""

    shape: tuple[int, int, int]
    needs: dict             # (backend, precision) → Need
    snapshots: int          # host bytes of the drug snapshots (included in ``needs``)
    output_times: int
    image: bool = False     # the grid comes from a label image

    def need(self, backend: str, precision: str) -> Need:
        return self.needs[(backend, precision)]

    def lines(self) -> list[str]:
        """One line per backend and precision (GiB), and the snapshots' host memory."""
        lines = [f"memory estimate for {'×'.join(map(str, self.shape))} = "
                 f"{math.prod(self.shape):,} voxels (+{MARGIN - 1:.0%} margin):"]
        for (backend, precision), need in self.needs.items():
            gpu = f"{need.device / GIB:.2f} GiB GPU + " if backend == "cupy" else ""
            lines.append(f"  {backend:<6}{precision:<9}{gpu}{need.host / GIB:.2f} GiB RAM")
        if self.output_times:
            lines.append(f"  drug snapshots kept in RAM: {self.snapshots / GIB:.2f} GiB "
                         f"({self.output_times} output times × 3 float32 fields; twice that "
                         "while written)")
        return lines


def estimate(case) -> MemoryEstimate:
    """Estimate the memory ``case`` needs on every backend and precision.

    Examples
    --------
    >>> from perfusion import load_case                                    # doctest: +SKIP
    >>> estimate(load_case("cases/liver_hai.toml")).need("cupy", "float32")  # doctest: +SKIP
    """
    shape, domain_host = _grid(case)
    voxels = math.prod(shape)
    drug = bool(case.infusion)
    simulation = case.simulation
    times = len(output_times(simulation.duration, simulation.output_every)) if drug else 0
    background = 4 if case.geometry.background is not None else 0   # float32 on the host
    counts = {"S": len(case.supplies), "C": len(case.geometry.class_names()), "T": times,
              "drug": drug, "iv": drug and simulation.compare_iv,
              "emb": drug and case.embolization is not None, "catheter": case.catheter is not None,
              "preconditioner": case.solver.preconditioner}
    needs = {}
    for backend in BACKENDS:
        for precision, w in PRECISIONS.items():
            stages = [(d, h + background) for d, h in
                      [(1.0, domain_host / voxels), *_stages(counts, backend, w)]]
            if backend == "numpy":
                need = Need(0, max(d + h for d, h in stages) * voxels)
            else:
                need = Need(max(d for d, _ in stages) * voxels, max(h for _, h in stages) * voxels)
            needs[(backend, precision)] = Need(int(MARGIN * need.device), int(MARGIN * need.host))
    return MemoryEstimate(shape=shape, needs=needs, snapshots=int(MARGIN * 12 * times * voxels),
                          output_times=times, image=case.geometry.kind == "image")


def _stages(n: dict, backend: str, w: int) -> list[tuple[float, float]]:
    """(device, host) bytes per voxel of each stage: supplies, territory, IFP, drug, end."""
    S, C, T = n["S"], n["C"], n["T"]
    loop_bytes = 8 if backend == "numpy" else w
    kept = (7 * S + 13) * w + 1
    exposures = (1 + n["iv"]) * (16 + loop_bytes + 2 * C)
    copies = 0 if backend == "numpy" else (2 * S + 7 + 4 * n["emb"]) * w + 16
    solve = solve_bytes(w, n["preconditioner"])
    stages = [((7 * S + 8) * w + solve + 2, 9.0), (7 * S * w + 2, 9 + 328 * n["catheter"]),
              ((7 * S + 20) * w + solve + 2, 9.0)]
    if not n["drug"]:
        return [*stages, (kept, 1 + 128 + copies)]
    embolized = n["emb"] * 10 * w
    problems = (1 + n["emb"]) * (22 * w + 12) + embolized
    loop = 36 * loop_bytes if backend == "numpy" else 20 * w
    finals = 2 * (1 + n["iv"]) * loop_bytes
    totals = 0 if n["emb"] else TOTALS
    return [*stages, (kept + problems + exposures + loop, 1 + 12 * T),
            (kept + problems + exposures + finals, 1 + 12 * T + totals),
            (kept + embolized + exposures, 1 + 24 * T + 128 + copies)]


def solve_bytes(w: int, preconditioner: str) -> int:
    """Bytes per voxel of one elliptic solve (CG and its preconditioner) in working-precision
    bytes ``w``: ``8 w`` for Jacobi-CG, ``7 w + HIERARCHY`` for MG-CG, + 8 in float32."""
    dots = 8 if w == 4 else 0
    return (8 * w if preconditioner == "jacobi" else 7 * w + HIERARCHY) + dots


def _grid(case) -> tuple[tuple[int, int, int], float]:
    """(shape of the solver grid, host bytes needed to build the labels)."""
    geometry = case.geometry
    if geometry.kind == "phantom":
        shape = tuple(int(n) for n in case.grid.shape)
        return shape, 17.0 * math.prod(shape)
    if geometry.dataset is not None:
        full, itemsize = DATASET_HEADERS[geometry.dataset]
    elif geometry.segments is not None:  # a .seg.nrrd, TotalSegmentator or DICOM-SEG
        from ..geometry.segments import segmented_shape  # noqa: PLC0415

        full = segmented_shape(geometry)
        itemsize = len(geometry.segments) + 2  # a boolean mask each, the int16 labels
    else:
        headers = [image_header(p) for p in (geometry.masks or {"": geometry.path}).values()]
        full = tuple(min(h[0][a] for h in headers) for a in range(3))
        itemsize = sum(h[1] for h in headers)
    shape = tuple(-(-int(n) // geometry.downsample) for n in full)
    return shape, max((2 * itemsize + 4) * math.prod(full), _vessel_mask_bytes(case))


def _vessel_mask_bytes(case) -> float:
    """Host bytes to turn a vessel mask into a tree: the mask, its labels and distances."""
    masks = [s.tree.path for s in case.supplies if s.tree is not None and s.tree.source == "mask"]
    return max((math.prod(shape) * (itemsize + 21)
                for shape, itemsize in map(image_header, masks)), default=0.0)


def image_header(path) -> tuple[tuple[int, ...], int]:
    """(shape ``[i, j, k]``, itemsize) of a label image: from the header for NIfTI, NRRD
    (itemsize taken as 8) and ``.npy``; other formats are read whole."""
    from ..geometry import readers  # noqa: PLC0415  (nibabel, nrrd: only for image cases)

    name = str(path).lower()
    try:
        if name.endswith((".nii", ".nii.gz")):
            image = readers.nibabel.load(path)
            shape, itemsize = image.shape, image.header.get_data_dtype().itemsize
        elif name.endswith((".nrrd", ".nhdr")):
            shape, itemsize = readers.nrrd.read_header(str(path))["sizes"], 8
        elif name.endswith(".npy"):
            array = np.load(path, mmap_mode="r")
            shape, itemsize = array.shape, array.dtype.itemsize
        else:
            raise ValueError("no cheap header")
        return tuple(int(n) for n in shape)[:3], itemsize
    except Exception:  # noqa: BLE001  (no usable header: read_image says what is wrong)
        data = readers.read_image(path).data
        return data.shape, data.dtype.itemsize


def check_fits(memory: MemoryEstimate, backend) -> None:
    """Raise :class:`BackendUnavailableError` if the run cannot fit; allocate nothing."""
    need = memory.need(backend.name, backend.precision)
    short = []
    free_device = backend.free_memory()
    if free_device is not None and need.device > free_device:
        short.append(f"{need.device / GIB:.2f} GiB of GPU memory but {free_device / GIB:.2f} GiB "
                     f"is free ({backend.device})")
    free_host = available_host_memory()
    if free_host is not None and need.host > free_host:
        short.append(f"{need.host / GIB:.2f} GiB of RAM but {free_host / GIB:.2f} GiB is available")
    if short:
        raise BackendUnavailableError(
            f"not enough memory: this run ({backend.name}, {backend.precision}) needs about "
            f"{' and '.join(short)}. {remedies(memory, backend)} If the estimate is wrong for "
            "this case, --skip-memory-check runs it anyway.")


def remedies(memory: MemoryEstimate, backend) -> str:
    """What to change to need less memory."""
    steps = []
    if backend.precision == "float64":
        figure = getattr(memory.need(backend.name, "float32"),
                         "device" if backend.name == "cupy" else "host")
        steps.append(f"--precision float32 (about {figure / GIB:.2f} GiB)")
    grid = ("a larger geometry.downsample, or crop the image to the organ" if memory.image
            else "grid.shape with a larger grid.spacing")
    steps.append(f"a coarser grid ({grid}: half the voxels along each axis needs 1/8 of the memory)")
    if memory.output_times:
        steps.append(f"fewer output times (simulation.output_every: {memory.output_times} "
                     f"snapshots take {memory.snapshots / GIB:.2f} GiB of RAM)")
    steps += ["freeing the GPU (nvidia-smi shows who uses it)"] if backend.name == "cupy" else []
    return "Use " + "; ".join(steps) + "."
