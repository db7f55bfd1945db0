"""Organ metabolism of free drug per tissue class (docs/model.md §6.5) and the organ clearance (§7).

Per tissue volume, on the free extracellular drug ``m = v_e c_e``:

- first order: ``R = CL_int m`` (``CL_int`` [1/s], like ``k_e``);
- saturable (Michaelis–Menten): ``R = V_max c_e/(K_m + c_e) = V_max m/(v_e K_m + m)``
  (``V_max`` [kg/(m³ s)], ``K_m`` [kg/m³] on ``c_e``); for ``c_e ≪ K_m`` it is first order
  with ``CL_int = V_max/(v_e K_m)``;
- from a published extraction ``E`` at a perfusion ``F*``: ``CL_int = E B/(A − E)`` of the
  class's well-mixed voxel at ``F*`` (``library.drug_model.WellMixedLiver``: the model's own
  Renkin–Crone exchange, solvent drag and lymph; not a flow-limited shortcut).

Defaults: a library drug's hepatic metabolism (``hepatic_extraction`` at
``hepatic_extraction_perfusion``, else ``metabolism_max_rate``/``metabolism_affinity``) in class
``normal`` of a liver case (a supply named ``hepatic_artery`` or ``portal_vein``); a case's
``[drug.metabolism.<class>]`` replaces it per class. Tumour: none unless given; necrotic: never.

Pointwise step (``ops.pointwise``): first order adds ``CL_int`` to the loss rate ``a``;
saturable holds ``R`` at its implicit end-of-step value ``R̄ = R(m_lin − β(Ū + R̄))``, the
smaller root of ``β R̄² − (K' + n + β V_max) R̄ + V_max n = 0`` (``K' = v_e K_m``,
``n = m_lin − βŪ``), written ``R̄ = 2 V_max n / (b + √(b² − 4 β V_max n))``, ``b = K' + n + β V_max``;
with cell uptake ``Ū`` and ``R̄`` are found by alternating the two solves (each decreases in the
other, so it contracts). Mass moves by ``R̄Δt``, so the budget closes whatever the iteration.

Organ clearance under IV dosing (``c_p = c_sys`` everywhere), per well-mixed voxel at steady
state (no transport): ``m = s/(B + k)``, ``s = (F_p E_RC + d⁺) c_p``, ``B = (F_p E_RC + d⁻ + ℓ)/v_e``,
``k`` every first-order loss of ``m`` (``k_e``, ``CL_int``, saturable processes at their
low-concentration limit, and linear uptake followed by bound decay, ``k_in k_c/(k_out + k_c)``):

    CL_organ = Σ_voxels V_vox (F_p E_RC + d⁺) k / (B + k)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from ..library.drug_model import WellMixedLiver

log = logging.getLogger(__name__)

LIVER_SUPPLIES = ("hepatic_artery", "portal_vein")
ALTERNATIONS = 200


@dataclass(frozen=True)
class ClassMetabolism:
    """One class's metabolism: ``intrinsic_clearance`` [1/s] or ``max_rate``/``affinity``."""

    intrinsic_clearance: float = 0.0
    max_rate: float = 0.0
    affinity: float = 0.0
    source: str = ""


def _sourced(entry, name):
    item = getattr(entry, name, None) if entry is not None else None
    if item is None:
        return None, None
    return item.value, item.source + ("" if getattr(item, "confirmed", True) else " (unconfirmed)")


def class_metabolism(case, domain, drug, hematocrit: float, entry=None) -> dict:
    """{class: ClassMetabolism} of the case's drug (library default, then ``[drug.metabolism]``)."""
    given = dict(case.drug.metabolism or {})
    result = {}
    liver = any(s.name in LIVER_SUPPLIES for s in case.supplies)
    if liver and "normal" in domain.present_classes and "normal" not in given:
        default = _library_default(entry, domain, drug, hematocrit)
        if default is not None:
            result["normal"] = default
    for name, spec in given.items():
        if name not in domain.present_classes or name == "necrotic":
            continue
        key = f"drug.metabolism.{name}"
        if spec.intrinsic_clearance is not None:
            result[name] = ClassMetabolism(spec.intrinsic_clearance, source=f"case file ({key})")
        elif spec.max_rate is not None:
            result[name] = ClassMetabolism(max_rate=spec.max_rate, affinity=spec.affinity,
                                           source=f"case file ({key})")
        else:
            rate = _from_extraction(spec.extraction, spec.at_perfusion, domain.tissue[name], drug,
                                    hematocrit, key)
            result[name] = ClassMetabolism(rate, source=(
                f"case file ({key}): E = {spec.extraction:g} at F = "
                f"{spec.at_perfusion * 6000:.4g} mL/min/100 mL → CL_int = {rate:.4g} 1/s "
                "(well-mixed voxel of the model's exchange)"))
    for name, item in result.items():
        log.info("metabolism in %s: %s", name, item.source)
    return result


def _library_default(entry, domain, drug, hematocrit):
    extraction, source = _sourced(entry, "hepatic_extraction")
    if extraction is not None:
        at, at_source = _sourced(entry, "hepatic_extraction_perfusion")
        tissue = domain.tissue["normal"]
        rate = _from_extraction(extraction, at, tissue, drug, hematocrit, "drug.metabolism.normal")
        where = (f"F = {at * 6000:.4g} mL/min/100 mL ({at_source})" if at is not None
                 else "the class's own perfusion")
        return ClassMetabolism(rate, source=(
            f"library: E = {extraction:g} ({source}) at {where} → CL_int = {rate:.4g} 1/s "
            "(well-mixed voxel of the model's exchange)"))
    max_rate, max_source = _sourced(entry, "metabolism_max_rate")
    affinity, affinity_source = _sourced(entry, "metabolism_affinity")
    if max_rate is not None and affinity is not None:
        return ClassMetabolism(max_rate=max_rate, affinity=affinity,
                               source=f"library: V_max {max_source}; K_m {affinity_source}")
    return None


def _from_extraction(extraction, perfusion, tissue, drug, hematocrit, key) -> float:
    """CL_int [1/s] giving ``extraction`` in a well-mixed voxel of ``tissue`` at ``perfusion``."""
    carrier = getattr(drug, "blood_to_plasma", None)
    voxel = WellMixedLiver.from_tissue(
        tissue, drug.permeability * tissue.get("permeability_factor", 1.0),
        drug.solvent_drag_reflection,
        hematocrit if carrier is None else 1.0 - carrier, perfusion)
    try:
        return voxel.elimination_for(extraction, drug.name)
    except ValueError as error:
        from ..errors import CaseError

        raise CaseError(f"{key}: {error}; give a smaller extraction or a larger permeability "
                        "(drug.permeability)") from error


@dataclass(frozen=True)
class SaturableMetabolism:
    """Per-voxel Michaelis–Menten metabolism: ``V_max`` and ``K' = v_e K_m`` (m units)."""

    max_rate: object
    half_saturation: object

    def astype(self, xp, shape, dtype) -> "SaturableMetabolism":
        full = lambda a: xp.ascontiguousarray(xp.broadcast_to(a, shape), dtype=dtype)  # noqa: E731
        return SaturableMetabolism(full(self.max_rate), full(self.half_saturation))

    def rate(self, m):
        """R(m) = V_max m/(K' + m) [kg/(m³ s)]."""
        return self.max_rate * m / (self.half_saturation + m)

    def mean(self, xp, free, beta):
        """R̄ with ``R̄ = R(free − β R̄)`` (the smaller root; module docstring)."""
        free = xp.maximum(free, 0)
        b = self.half_saturation + free + beta * self.max_rate
        root = xp.sqrt(xp.maximum(b * b - 4 * beta * self.max_rate * free, 0))
        return 2 * self.max_rate * free / (b + root)

    def joint_mean(self, xp, uptake, m_lin, beta, c_lin, delta):
        """(Ū, R̄) solving both implicit step means together."""
        if uptake.kind == "none":
            return xp.zeros_like(m_lin), self.mean(xp, m_lin, beta)
        rate = xp.zeros_like(m_lin)
        scale = float(xp.max(self.max_rate)) if self.max_rate.size else 0.0
        for _ in range(ALTERNATIONS):
            mean_uptake = uptake.step_mean(xp, m_lin - beta * rate, beta, c_lin, delta)
            new = self.mean(xp, m_lin - beta * mean_uptake, beta)
            change = float(xp.max(xp.abs(new - rate))) if new.size else 0.0
            rate = new
            if change <= 1e-13 * scale:
                break
        return mean_uptake, rate


def metabolism_fields(domain, metabolism: dict, v_e):
    """(CL_int per voxel [1/s], SaturableMetabolism or None) from the per-class values."""
    xp = domain.backend.xp
    first_order = domain.class_field({c: m.intrinsic_clearance for c, m in metabolism.items()})
    saturable = {c: m for c, m in metabolism.items() if m.max_rate > 0}
    if not saturable:
        return first_order, None
    max_rate = domain.class_field({c: m.max_rate for c, m in saturable.items()})
    affinity = domain.class_field({c: m.affinity for c, m in saturable.items()})
    half = xp.where(max_rate > 0, v_e * affinity, 1.0)
    return first_order, SaturableMetabolism(max_rate, half)


def free_drug_loss(first_order, saturable, k_in, k_out, k_c: float):
    """λ, every first-order loss of free drug [1/s] per m: ``first_order`` (``k_e + CL_int``),
    ``saturable`` (a Michaelis–Menten metabolism's rate per m, 0 without one) and uptake
    followed by bound decay, ``k_in k_c/(k_out + k_c)``."""
    loss = first_order + saturable
    if k_c > 0:
        loss = loss + k_in * k_c / (k_out + k_c)
    return loss


def first_order_rates(problem, xp) -> dict:
    """The tissue's rates at low concentration, per voxel (docs/model.md §7): ``inflow``
    ``F_p E + d⁺`` [1/s] per c_p, ``back`` ``(F_p E + d⁻ + ℓ)/v_e`` [1/s] per m, ``loss`` every
    first-order loss of free drug [1/s] per m (``k_e``, ``CL_int``, saturable metabolism and
    uptake at their low-concentration limits ``V_max/K'``, ``V_max/(v_e² K_e)``, ``V_max/K_i``,
    uptake followed by bound decay ``k_in k_c/(k_out + k_c)``), and the uptake's ``k_in``,
    ``k_out`` [1/s] (0 where inactive). ``linear`` is False where a saturable process was
    linearised."""
    k, uptake = problem.exchange, problem.uptake
    saturable = (0.0 if k.saturable is None
                 else k.saturable.max_rate / k.saturable.half_saturation)
    k_in = k_out = 0.0
    if uptake.kind == "linear":
        k_in, k_out = uptake.uptake_rate, uptake.release_rate
    elif uptake.kind == "saturable":
        v_e = uptake.extracellular_fraction
        k_in = uptake.max_rate / (v_e * v_e * uptake.extracellular_affinity)
        k_out = uptake.max_rate / uptake.intracellular_affinity
    active = uptake.active if uptake.kind != "none" else False
    k_in, k_out = xp.where(active, k_in, 0.0), xp.where(active, k_out, 0.0)
    k_c = uptake.cell_elimination
    loss = free_drug_loss(k.elimination + k.metabolism, saturable, k_in, k_out, k_c)
    return {"inflow": k.clearance + k.drag_in,
            "back": (k.clearance + k.drag_out + k.lymph) * k.inverse_ve,
            "loss": loss, "uptake": k_in, "release": k_out, "bound_decay": k_c,
            "linear": k.saturable is None and uptake.kind != "saturable"}


def organ_clearance(problem, voxel_volume: float, backend) -> float:
    """CL_organ [m³/s] of the tissue under IV dosing (module docstring)."""
    xp = backend.xp
    rates = first_order_rates(problem, xp)
    inside = problem.exchange.inverse_ve > 0
    loss = rates["loss"]
    total = rates["back"] + loss
    per_volume = xp.where(inside & (total > 0),
                          rates["inflow"] * loss / xp.where(total > 0, total, 1), 0)
    return backend.sum(per_volume) * voxel_volume
