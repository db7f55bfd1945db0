"""Generate the README's case-file reference from the schema, so it cannot drift.

``python -m perfusion.case.docs README.md`` rewrites the text between the markers
``<!-- case-reference:start -->`` and ``<!-- case-reference:end -->``; a test checks that
the README is current. Tissue defaults are shown per library class with their source.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .introspect import model_of, unit_of
from .schema import Case, TissueSpec
from ..library.tissues import BLOOD_DEFAULTS, SUPPLY_DEFAULTS, TISSUE_DEFAULTS
from ..library.units import format_quantity

START, END = "<!-- case-reference:start -->", "<!-- case-reference:end -->"
DRUGS_START, DRUGS_END = "<!-- drug-library:start -->", "<!-- drug-library:end -->"

#: Defaults that live in the library, not in the schema, by dotted key.
_LIBRARY_DEFAULTS = {
    **{f"blood.{k}": d for k, d in BLOOD_DEFAULTS.items()},
    "supplies[].conductivity": SUPPLY_DEFAULTS["conductivity"],
    "supplies[].pressure_drop": SUPPLY_DEFAULTS["pressure_drop"],
    "supplies[].inlets[].radius": SUPPLY_DEFAULTS["inlet_radius"],
}
_DISPLAY_UNITS = {"Pa": "mmHg", "m": "mm", "m^3/s": "mL/min", "1/s": "1/s"}


def _show(value, unit_text: str) -> str:
    if isinstance(value, float) and unit_text:
        shown = _DISPLAY_UNITS.get(unit_text, unit_text)
        if unit_text == "1/s" and "perfusion" in shown:
            shown = "mL/min/(100 mL)"
        return f"`{format_quantity(value, shown)}`"
    return f"`{value}`" if value is not None else ""


def _rows(model, prefix: str):
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        if model is Case and name == "tissue":
            yield from _tissue_rows()
            continue
        inner, origin = model_of(info.annotation)
        if inner is not None:
            suffix = "[]." if origin is list else "."
            yield from _rows(inner, f"{key}{suffix}")
            continue
        unit = unit_of(info.annotation, info.metadata)
        library = _LIBRARY_DEFAULTS.get(key)
        if library is not None:
            default = f"{_show(library.value, unit.text if unit else '')} ({library.source})"
        elif info.is_required():
            default = "required"
        elif info.default is None and key.split(".")[0] in ("drug", "systemic"):
            default = "the library drug's value (table below)"
        else:
            default = _show(info.default, unit.text if unit else "") if info.default not in (None, {}, []) else "—"
        yield key, (unit.text if unit and unit.text else "–"), default, info.description or ""


def _tissue_rows():
    for name, info in TissueSpec.model_fields.items():
        unit = unit_of(info.annotation, info.metadata)
        unit_text = unit.text if unit else ""
        defaults = []
        for class_name, table in TISSUE_DEFAULTS.items():
            if name in table:
                value = table[name].value
                shown = f"{value * 6000:g} mL/min/(100 mL)" if name == "perfusion" else \
                    _show(value, unit_text).strip("`")
                defaults.append(f"{class_name}: `{shown}` ({table[name].source})")
        yield (f"tissue.<class>.{name}", unit_text or "–", "; ".join(defaults) or "—",
               info.description or "")


def case_reference() -> str:
    """The Markdown table of every case key: unit, default (with source), meaning."""
    lines = ["| key | SI unit | default (source) | meaning |", "|---|---|---|---|"]
    for key, unit, default, description in _rows(Case, ""):
        lines.append(f"| `{key}` | {unit} | {default} | {description} |")
    return "\n".join(lines)


def drug_table() -> str:
    """The drug library as a Markdown table (values in common units; * = unconfirmed)."""
    from ..library.drugs import DRUGS

    def show(item, factor, digits=3):
        if item is None:
            return "–"
        star = "" if item.confirmed else "*"
        return f"{item.value * factor:.{digits}g}{star}"

    lines = ["| drug | MW g/mol | D m²/s | P m/s | uptake | CL mL/min | V₁ L | V₂ L | k12 1/h | k21 1/h |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, drug in DRUGS.items():
        lines.append(
            f"| {name} | {drug.molecular_weight:g} | {show(drug.diffusivity, 1)} | "
            f"{show(drug.permeability, 1)} | {drug.uptake} | {show(drug.clearance, 6e7)} | "
            f"{show(drug.central_volume, 1e3)} | {show(drug.peripheral_volume, 1e3)} | "
            f"{show(drug.k12, 3600)} | {show(drug.k21, 3600)} |")
    return "\n".join(lines)


def _replace_between(text: str, start: str, end: str, body: str) -> str:
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{body}\n{end}{tail}"


def update_readme(path: Path) -> bool:
    """Rewrite the generated tables in ``path``; return whether it changed."""
    text = path.read_text(encoding="utf-8")
    updated = _replace_between(text, START, END, case_reference())
    updated = _replace_between(updated, DRUGS_START, DRUGS_END, drug_table())
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    changed = update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    sys.stdout.write("README updated\n" if changed else "README already current\n")
