"""Exposure metrics against values computed here from the run's written outputs.

``time_above_threshold``, ``target_auc_fraction_above_threshold``, ``dose_fraction_in_target``
and ``cmax`` are recomputed from timeseries.csv, fields.npz (snapshots at every step) and
case.resolved.toml — not by calling the observers — with the definitions documented in
``perfusion/results/exposure.py`` and ``perfusion/transport/observers.py``:

- total tissue concentration ``C_t = v_p c_p + v_e c_e + c_c``; within a step ``c_p`` is
  constant in its infusion term, so ``C_t`` jumps at an infusion start/stop by
  ``v_p w ΔI/Q_cath`` (``w`` the territory field, ``Q_cath = (1 − Hct) ∫ F w dV``, docs/model.md
  §6.1) and is taken as linear from ``C_t(t₀⁺)`` to ``C_t(t₁⁻)`` over the step;
- ``cmax.<class>``: peak of the class-mean curve, over both ends of every step;
- ``time_above_threshold.<class>``: time the linear class-mean curve spends above
  ``exposure.concentration_threshold``;
- ``target_auc_fraction_above_threshold``: share of target (tumour) voxels whose
  ``AUC = ∫ C_t dt`` (trapezoid per step) exceeds ``exposure.auc_threshold``;
- ``dose_fraction_in_target``: tissue drug ``∫_target (v_e c_e + c_c) dV`` over the dose, its
  peak over the step ends and its final value.

Sampling: the observers act on every step while outputs are sampled at ``output_every``;
here ``output_every = max_step = 1 min``, so every step's end is written (time series in
float64, snapshots in float32) and nothing is missed between samples. Tolerances therefore
only cover arithmetic: rel 1e-9 for quantities from the float64 time series (cmax, time
above; same numbers summed in another order), rel 1e-5 for those from the float32
snapshots (AUC map, dose fraction: float32 rounding 6e-8 per value), and the AUC fraction
exactly, unless a voxel lies within that rounding of the threshold (counted and allowed).
The thresholds are chosen so that the curves cross them mid-step and, for the normal class,
by the infusion stop's jump (ignoring that jump would add ~9 s, 1e8 × the tolerance).
"""
from __future__ import annotations

import copy
import csv
import tomllib

import numpy as np
import pytest

from perfusion import run_case
from perfusion.case import case_from_dict

DOSE = 50e-6                       # kg
CONCENTRATION_THRESHOLD = 0.0175   # kg/m³ (17.5 µg/mL): crossed mid-step and by the stop's jump
AUC_THRESHOLD = 100.0              # kg·s/m³: splits the tumour's voxels


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from case_data import LIVER

    raw = copy.deepcopy(LIVER)
    # no hepatic metabolism (the library default in a liver's normal class): the thresholds
    # below are set for these curves, and this test checks the exposure arithmetic only
    raw["drug"] = {"name": "doxorubicin",
                   "metabolism": {"normal": {"intrinsic_clearance": "0 1/s"}}}
    raw["infusion"] = [{"route": "intra-arterial", "start": "10 min", "duration": "30 min",
                        "dose": "50 mg"}]
    raw["simulation"] = {"duration": "1 h", "output_every": "1 min", "max_step": "1 min"}
    raw["exposure"] = {"target": "tumor",
                       "concentration_threshold": f"{CONCENTRATION_THRESHOLD} kg/m^3",
                       "auc_threshold": f"{AUC_THRESHOLD} kg*s/m^3"}
    result = run_case(case_from_dict(raw), tmp_path_factory.mktemp("exposure") / "out",
                      backend="numpy")
    d = result.directory
    rows = list(csv.DictReader(open(d / "timeseries.csv")))
    series = {key: np.array([float(r[key]) for r in rows]) for key in rows[0]}
    fields = dict(np.load(d / "fields" / "fields.npz"))
    resolved = tomllib.loads((d / "case.resolved.toml").read_text())
    return result.metrics, series, fields, resolved


def _setup(series, fields, resolved):
    """Per-step times, class masks, v_p/v_e maps and the C_t jump per unit rate change."""
    t1 = series["time_s"]
    dt = np.diff(np.concatenate([[0.0], t1]))
    assert np.allclose(dt, 60.0)                           # one row per 1-min step
    assert np.array_equal(fields["drug_times"], t1)        # a snapshot at every step end
    labels, names = fields["labels"], list(fields["class_names"])
    masks = {c: labels == names.index(c) for c in names[1:] if np.any(labels == names.index(c))}
    v_p, v_e = np.zeros(labels.shape), np.zeros(labels.shape)
    for c, mask in masks.items():
        v_p[mask] = resolved["tissue"][c]["plasma_fraction"]
        v_e[mask] = resolved["tissue"][c]["extracellular_fraction"]
    hematocrit = resolved["blood"]["hematocrit"]
    w = fields["territory"]
    q_cath = (1 - hematocrit) * np.sum(fields["perfusion"] * w) * float(np.prod(fields["spacing"]))
    rate = np.diff(np.concatenate([[0.0], series["infused_ia_kg"]])) / dt     # I over each step
    change = np.diff(np.concatenate([[0.0], rate]))                           # I(t₀⁺) − I(t₀⁻)
    jump_per_rate = v_p * w / q_cath                                          # ΔC_t / ΔI
    return dt, masks, v_e, rate, change, jump_per_rate


def _class_curves(series, masks, change, jump_per_rate):
    """Class means of C_t at t₀⁺ and t₁⁻ of every step."""
    curves = {}
    for c, mask in masks.items():
        end = series[f"c_t_{c}"]
        start = np.concatenate([[0.0], end[:-1]]) + change * jump_per_rate[mask].mean()
        curves[c] = (start, end)
    return curves


def _time_above(start, end, threshold, dt):
    total = 0.0
    for a, b, h in zip(start, end, dt):
        if a > threshold and b > threshold:
            total += h
        elif (a > threshold) != (b > threshold):     # one crossing of the linear curve
            crossing = (threshold - a) / (b - a)
            total += h * (1 - crossing if b > a else crossing)
    return total


def test_cmax_and_time_above_threshold(run):
    metrics, series, fields, resolved = run
    dt, masks, _, rate, change, jump_per_rate = _setup(series, fields, resolved)
    assert rate.max() == pytest.approx(DOSE / 1800.0, rel=1e-9)
    curves = _class_curves(series, masks, change, jump_per_rate)
    for c, (start, end) in curves.items():
        assert metrics["cmax"][c] == pytest.approx(max(start.max(), end.max()), rel=1e-9), c
        expected = _time_above(start, end, CONCENTRATION_THRESHOLD, dt)
        assert metrics["time_above_threshold"][c] == pytest.approx(expected, rel=1e-9, abs=1e-9), c
    # the thresholds exercise partial steps and the stop's jump, not just whole steps
    above = metrics["time_above_threshold"]
    assert 0 < above["tumor"] < 3600 and above["tumor"] % 60 != 0
    assert 0 < above["normal"] < 3600 and above["normal"] % 60 != 0
    start, end = curves["normal"]
    stop = int(np.argmin(change))                                # the infusion stop
    assert start[stop] < CONCENTRATION_THRESHOLD < end[stop - 1]   # crossed by the jump


def test_target_auc_fraction_and_dose_fraction(run):
    metrics, series, fields, resolved = run
    dt, masks, v_e, _, change, jump_per_rate = _setup(series, fields, resolved)
    c_t = fields["c_t"].astype(np.float64)                       # C_t(t₁⁻) per step
    previous = np.concatenate([np.zeros((1, *c_t.shape[1:])), c_t[:-1]])
    start = previous + change[:, None, None, None] * jump_per_rate
    auc = np.einsum("k,k...->...", 0.5 * dt, start + c_t)
    assert np.allclose(auc, fields["auc"], rtol=1e-5, atol=1e-6 * auc.max())   # the map too
    tumour = masks["tumor"]
    fraction = np.count_nonzero(auc[tumour] > AUC_THRESHOLD) / np.count_nonzero(tumour)
    borderline = np.count_nonzero(np.abs(auc[tumour] - AUC_THRESHOLD) < 1e-5 * AUC_THRESHOLD)
    assert 0.05 < fraction < 0.95                                 # the threshold splits it
    assert abs(metrics["target_auc_fraction_above_threshold"] - fraction) \
        <= borderline / np.count_nonzero(tumour) + 1e-12
    voxel = float(np.prod(fields["spacing"]))
    tissue = v_e * fields["c_e"].astype(np.float64) + fields["c_c"].astype(np.float64)
    amount = tissue[:, tumour].sum(axis=1) * voxel               # drug in the target per step
    assert metrics["dose_fraction_in_target"]["peak"] == pytest.approx(amount.max() / DOSE, rel=1e-5)
    assert metrics["dose_fraction_in_target"]["final"] == pytest.approx(amount[-1] / DOSE, rel=1e-5)
    assert int(np.argmax(amount)) < len(amount) - 1              # peak before the end
