"""One colour per meaning in every 3D picture (scene.png and the interactive viewer).

A colour says what a surface is, the same in every case: the organ, the tumour, the necrotic
core, each blood supply by its *kind* (hepatic artery / arterial, portal vein / portal,
cerebral arteries), the catheter, the catheterised subtree and each AUC isosurface level.
Supplies are coloured by kind, never by their position in the case file, so two cases that
list their supplies in a different order draw the same supply in the same colour.
Isosurface levels are fractions of the target's class mean of the drawn field (AUC [µg·h/mL],
or C_t [µg/mL] at one time; :data:`ISO_LEVELS`).
"""
from __future__ import annotations

PALETTE = {
    "organ": "#8c6d4f",            # drawn as an opaque outline over a faint surface
    "tumour": "#1b9e77",
    "necrotic core": "#5b4a8a",
    "arterial": "#d62728",         # hepatic artery and other arteries
    "portal": "#1f77b4",           # portal vein
    "cerebral arteries": "#e377c2",
    "catheter": "#000000",
    "catheterised subtree": "#00d5ff",
    "iso 10 %": "#fee391",
    "iso 50 %": "#fb9a29",
    "iso 90 %": "#993404",
}

#: isosurface levels: (palette key, fraction of the target's class mean of the field, opacity)
ISO_LEVELS = (("iso 10 %", 0.1, 0.2), ("iso 50 %", 0.5, 0.4), ("iso 90 %", 0.9, 0.85))
ORGAN_OPACITY = 0.06               # the organ's faint surface; its outline is opaque


def supply_meaning(supply: dict) -> str:
    """The palette key of a resolved-case supply: its ``kind`` (default from its name, as the
    case schema does), with arterial supplies of the brain called cerebral arteries."""
    name = supply["name"].lower()
    kind = supply.get("kind") or ("portal" if "portal" in name else "arterial")
    if kind == "arterial" and "cerebral" in name:
        return "cerebral arteries"
    return kind


def supply_colour(supply: dict) -> str:
    """The colour of a supply's inlets and legend entry."""
    return PALETTE[supply_meaning(supply)]


def supply_legend(supplies: list[dict]) -> list[tuple[str, str]]:
    """``(label, colour)`` per supply meaning present, in palette order, e.g.
    ``("arterial: hepatic artery", "#d62728")``."""
    names: dict[str, list[str]] = {}
    for supply in supplies:
        names.setdefault(supply_meaning(supply), []).append(supply["name"].replace("_", " "))
    return [(f"{meaning}: {', '.join(sorted(names[meaning]))}", PALETTE[meaning])
            for meaning in PALETTE if meaning in names]
