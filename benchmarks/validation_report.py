"""The validation report, docs/validation.md, from the cases in cases/validation/.

Each row compares one published regional-pharmacology result with the same quantity taken
from a run of ``perfusion.run_case`` (NumPy backend). Parameters come from the library and
physiology (each case file says where), never from the result compared. Quantities, with
``Q_p = (1 − Hct) Σ inflow`` the organ's plasma flow and the budget columns of
timeseries.csv (cumulative ``plasma_to_tissue`` P, catheter dose ``infused_ia`` I):

- organ extraction over a window ``[t0, t1]``: ``E = ΔP / (Q_p ∫ c_sys dt + ΔI)``, the share of
  the drug brought in by the arterial, portal and catheter blood that stays in the tissue
  (``1 − venous outflow / inflow``);
- hepatic-vein AUC: ``AUC_hv = AUC_sys + (I(T) − P(T)) / Q_p`` (the venous return of §7 of
  docs/model.md integrated over the run), and the systemic/hepatic-vein AUC ratio;
- tumour-to-liver ratio of total tissue concentration ``C_t`` at a time;
- the intravenous/portal ratio of the mean systemic concentration over the last hour;
- the intra-arterial/intravenous ratio of the tumour's AUC of ``C_t``.

Verdicts: "within range" (inside the published range), "order of magnitude" (within a factor
3 of the published value), else "wrong". The headline numbers are re-run on a finer grid and
the relative difference is reported (grid convergence).

    python benchmarks/validation_report.py [docs/validation.md]
"""
from __future__ import annotations

import csv
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or loaded by file
from validation_rows import ROWS, Row  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases" / "validation"
REPORT = ROOT / "docs" / "validation.md"
VERDICTS = ("within range", "order of magnitude", "wrong")
#: finer grids of the convergence check: (shape, spacing) per case
FINE = {"fluorouracil_hepatic_artery_3h": ([48, 42, 36], "4 mm"),
        "doxorubicin_hepatic_artery_90min": ([48, 42, 36], "4 mm"),
        "fudr_hepatic_artery_bolus": ([48, 42, 36], "4 mm"),
        "bcnu_intracarotid": ([39, 33, 27], "4 mm")}

@dataclass
class Run:
    """A finished run: its metrics and time series (IA and, when run, IV)."""

    metrics: dict
    series: dict[str, np.ndarray]
    series_iv: dict[str, np.ndarray] | None
    hematocrit: float


def _read_series(path: Path) -> dict[str, np.ndarray]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    columns = {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    # the run starts empty at t = 0: prepend that row so integrals cover [0, T]
    return {k: np.concatenate([[0.0], v]) for k, v in columns.items()}


def run_validation_case(name: str, workdir: Path, grid=None) -> Run:
    """Run ``cases/validation/<name>.toml`` (optionally on another grid) into ``workdir``."""
    from perfusion import load_case, run_case

    overrides = [] if grid is None else [f"grid.shape={grid[0]}", f'grid.spacing="{grid[1]}"']
    case = load_case(CASES / f"{name}.toml", overrides)
    out = workdir / (name + ("" if grid is None else "-fine"))
    result = run_case(case, out, backend="numpy", overwrite=True)
    iv = out / "timeseries_iv.csv"
    return Run(result.metrics, _read_series(out / "timeseries.csv"),
               _read_series(iv) if iv.exists() else None, case.blood.hematocrit)


def _plasma_flow(run: Run) -> float:
    """Q_p [m³/s]: plasma flow into the organ, (1 − Hct) × the supplies' blood inflow."""
    return (1 - run.hematocrit) * sum(run.metrics["inflow_ml_min"].values()) / 6e7


def _integral(series, column, t1):
    t, c = series["time_s"], series[column]
    keep = t <= t1 + 1e-9
    return float(np.trapezoid(c[keep], t[keep]))


def _at(series, column, t):
    return float(np.interp(t, series["time_s"], series[column]))


def organ_extraction(run: Run, q_p: float, t1: float, iv: bool = False) -> float:
    """E over [0, t1]: tissue uptake over the drug brought in by blood and catheter."""
    s = run.series_iv if iv else run.series
    taken = _at(s, "plasma_to_tissue_kg", t1)
    brought = q_p * _integral(s, "c_sys", t1) + _at(s, "infused_ia_kg", t1)
    return taken / brought


def systemic_to_hepatic_vein(run: Run, q_p: float, iv: bool = False) -> float:
    """AUC_sys / AUC_hv over the run, AUC_hv = AUC_sys + (I − P)/Q_p."""
    s = run.series_iv if iv else run.series
    t_end = s["time_s"][-1]
    auc_sys = _integral(s, "c_sys", t_end)
    auc_hv = auc_sys + (s["infused_ia_kg"][-1] - s["plasma_to_tissue_kg"][-1]) / q_p
    return auc_sys / auc_hv


def simulate(row: Row, runs: dict[str, Run]) -> float:
    """The simulated value of ``row`` from the finished runs."""
    run = runs[row.case]
    q_p = _plasma_flow(run)
    if row.key == "bading-liver-E":
        return organ_extraction(run, q_p, 60.0)
    if row.key in ("sigurdson-HA-T/L", "sigurdson-PV-T/L"):
        return run.metrics["auc"]["tumor"] / run.metrics["auc"]["normal"]
    if row.key in ("didolkar-HA-sys/HV", "didolkar-PV-sys/HV"):
        return systemic_to_hepatic_vein(run, q_p)
    if row.key == "didolkar-IV-sys/HV":
        return systemic_to_hepatic_vein(run, q_p, iv=True)
    if row.key == "gustavsson-PV-E":
        return organ_extraction(run, q_p, 3 * 3600.0)
    if row.key == "gustavsson-IV/PV-csys":
        def late_mean(s):
            return (_integral(s, "c_sys", 3 * 3600.0) - _integral(s, "c_sys", 2 * 3600.0)) / 3600
        return late_mean(run.series_iv) / late_mean(run.series)
    if row.key == "swine-dox-E-HA":
        return organ_extraction(run, q_p, 90 * 60.0)
    if row.key == "swine-dox-E-IV":
        return organ_extraction(run, q_p, 90 * 60.0, iv=True)
    if row.key == "hochberg-BCNU-IA/IV":
        return run.metrics["auc"]["tumor"] / run.metrics["iv"]["auc"]["tumor"]
    raise KeyError(row.key)


def verdict(row: Row, value: float) -> str:
    """within range / order of magnitude (factor 3) / wrong."""
    if row.low <= value <= row.high:
        return VERDICTS[0]
    if row.published / 3 <= value <= row.published * 3:
        return VERDICTS[1]
    return VERDICTS[2]


def run_all(workdir: Path) -> dict[str, Run]:
    """Every case the rows need, once."""
    return {name: run_validation_case(name, workdir) for name in sorted({r.case for r in ROWS})}


def evaluate(workdir: Path) -> list[tuple[Row, float, str]]:
    runs = run_all(workdir)
    return [(row, value, verdict(row, value))
            for row in ROWS for value in [simulate(row, runs)]]


def convergence(workdir: Path, coarse: dict[str, float]) -> list[tuple[str, float, float]]:
    """Headline rows re-run on the finer grids of :data:`FINE`: (key, coarse, fine)."""
    fine_runs = {name: run_validation_case(name, workdir, grid) for name, grid in FINE.items()}
    out = []
    for row in ROWS:
        if row.case in FINE and row.key in HEADLINE:
            out.append((row.key, coarse[row.key], simulate(row, fine_runs)))
    return out


HEADLINE = ("bading-liver-E", "sigurdson-HA-T/L", "didolkar-HA-sys/HV", "swine-dox-E-HA",
            "hochberg-BCNU-IA/IV")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def markdown(results, conv) -> str:
    tally = {v: sum(1 for _, _, verdict_ in results if verdict_ == v) for v in VERDICTS}
    lines = [
        "# Validation against published regional pharmacology",
        "",
        "Generated by `benchmarks/validation_report.py` (`make validation`) from the cases in "
        "`cases/validation/`; `tests/verification/test_validation.py` holds each verdict. Every "
        "parameter comes from the library drugs, the library tissue defaults or physiology "
        "(each case file says which) — none was fitted to the result it is compared with. "
        "Sources marked \"abstract read\" were read as abstracts only. Verdicts: *within range* "
        "(inside the published range), *order of magnitude* (within a factor 3 of the published "
        "value), *wrong*. How each simulated value is computed: the module docstring of the "
        "script.",
        "",
        f"**Tally: {tally['within range']} within range, {tally['order of magnitude']} right "
        f"order of magnitude, {tally['wrong']} wrong** (of {len(results)}).",
        "",
        "| id | published result (conditions) | published value [range] | source | case | "
        "simulated | simulated quantity | parameters that matter (sources) | verdict | "
        "missing physics / parameter (where not within range) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row, value, v in results:
        lines.append(
            f"| {row.key} | {row.result} | {_fmt(row.published)} [{_fmt(row.low)}–"
            f"{_fmt(row.high)}]; {row.uncertainty} | {row.source} | `{row.case}` | "
            f"{_fmt(value)} | {row.quantity} | {row.parameters} | {v} | "
            f"{'' if v == VERDICTS[0] else row.missing} |")
    lines += ["", "## Grid convergence of the headline numbers", "",
              "Coarse: the case grids (6 mm); fine: 4 mm (the same phantoms). The issue asks "
              "for ≤ 2 %.", "",
              "| id | 6 mm | 4 mm | relative difference |", "|---|---|---|---|"]
    for key, coarse, fine in conv:
        lines.append(f"| {key} | {_fmt(coarse)} | {_fmt(fine)} | "
                     f"{abs(coarse - fine) / abs(fine):.1%} |")
    return "\n".join(lines) + "\n"


def generate(path: Path = REPORT) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        results = evaluate(Path(tmp))
        conv = convergence(Path(tmp), {r.key: v for r, v, _ in results})
    text = markdown(results, conv)
    path.write_text(text, encoding="utf-8")
    return text


def recorded(path: Path = REPORT) -> dict[str, tuple[float, str]]:
    """Row id → (simulated value, verdict) as docs/validation.md records them."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0] in {r.key for r in ROWS}:
            out[cells[0]] = (float(cells[5]), cells[8])
    return out


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPORT
    generate(target)
    sys.stdout.write(f"wrote {target}\n")
