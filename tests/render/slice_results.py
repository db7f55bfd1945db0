"""A hand-made results directory for the slice tests: labels, fields and an affine, no run."""
from __future__ import annotations

import json

import numpy as np


def fake_results(tmp_path, affine=None, spacing_mm=2.0, shape=(20, 16, 12), fields=None,
                 kind="image"):
    """Write ``metrics.json``, ``case.resolved.toml`` and ``fields.npz``; return it loaded."""
    from perfusion.results.load import load_results

    labels = np.zeros(shape, dtype=np.int8)
    labels[2:-2, 2:-2, 2:-2] = 1
    arrays = {"labels": labels, "class_names": np.array(["outside", "normal"]),
              "spacing": np.full(3, spacing_mm * 1e-3),
              "affine": np.diag([spacing_mm] * 3 + [1.0]) if affine is None else affine}
    arrays.update(fields or {})
    (tmp_path / "fields").mkdir(parents=True, exist_ok=True)
    np.savez(tmp_path / "fields" / "fields.npz", **arrays)
    (tmp_path / "metrics.json").write_text(json.dumps({"case": "fake"}), encoding="utf-8")
    (tmp_path / "case.resolved.toml").write_text(f'[geometry]\nkind = "{kind}"\n',
                                                 encoding="utf-8")
    return load_results(tmp_path)
