"""Cross-field rules of a case: names that must exist, tables that must be complete.

Raised as :class:`KeyedCaseError` carrying the dotted key, so the loader can prefix the
file name; pydantic lets non-``ValueError`` exceptions through unchanged.
"""
from __future__ import annotations

import difflib

from ..errors import CaseError
from ..library.tissues import CLASS_ALIASES, TISSUE_DEFAULTS, canonical_class


class KeyedCaseError(CaseError):
    """A case error that knows the dotted key it is about."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def canonical_class_names(raw):
    """The raw case with every tissue-class name given as the built-in name it stands for.

    ``tumour`` (and ``Tumor`` …) become ``tumor`` in ``geometry.labels`` and ``segments`` values,
    ``geometry.masks`` keys, ``[tissue.X]`` tables and their ``base``, ``catheter.feeds``,
    ``supplies[].tree.feeders.feeds`` and ``exposure.target``, so that every later stage sees
    one name per class. Two spellings
    of one class given side by side raise :class:`KeyedCaseError`.
    """
    if not isinstance(raw, dict):
        return raw
    raw = dict(raw)
    geometry = raw.get("geometry")
    if isinstance(geometry, dict):
        geometry = raw["geometry"] = dict(geometry)
        for key in ("labels", "segments"):
            if isinstance(geometry.get(key), dict):
                geometry[key] = {value: _canonical(name)
                                 for value, name in geometry[key].items()}
        if isinstance(geometry.get("masks"), dict):
            geometry["masks"] = _canonical_keys(geometry["masks"], "geometry.masks",
                                                "one mask file per class")
    if isinstance(raw.get("tissue"), dict):
        tissue = _canonical_keys(raw["tissue"], "tissue", "one table per class")
        for name, table in tissue.items():
            if isinstance(table, dict) and isinstance(table.get("base"), str):
                tissue[name] = {**table, "base": canonical_class(table["base"])}
        raw["tissue"] = tissue
    for table, key in (("catheter", "feeds"), ("exposure", "target")):
        if isinstance(raw.get(table), dict) and isinstance(raw[table].get(key), str):
            raw[table] = {**raw[table], key: canonical_class(raw[table][key])}
    if isinstance(raw.get("supplies"), list):
        raw["supplies"] = [_canonical_feeders(supply) for supply in raw["supplies"]]
    return raw


def _canonical_feeders(supply):
    """``supplies[].tree.feeders.feeds`` as the built-in class name."""
    tree = supply.get("tree") if isinstance(supply, dict) else None
    feeders = tree.get("feeders") if isinstance(tree, dict) else None
    if not (isinstance(feeders, dict) and isinstance(feeders.get("feeds"), str)):
        return supply
    feeders = {**feeders, "feeds": canonical_class(feeders["feeds"])}
    return {**supply, "tree": {**tree, "feeders": feeders}}


def _canonical(name):
    return canonical_class(name) if isinstance(name, str) else name


def _canonical_keys(table: dict, key: str, fix: str) -> dict:
    out: dict = {}
    given: dict[str, str] = {}
    for name, value in table.items():
        canonical = _canonical(name)
        if canonical in out:
            raise KeyedCaseError(
                f"{key}.{name}", f"{given[canonical]!r} and {name!r} both name the tissue class "
                f"{canonical!r} (spellings such as {_aliases(canonical)} are accepted); give "
                f"{fix}: merge them into {key}.{canonical}")
        out[canonical] = value
        given[canonical] = name
    return out


def _aliases(name: str) -> str:
    return ", ".join(repr(a) for a in [*(a for a, t in CLASS_ALIASES.items() if t == name),
                                       name.capitalize()])


def unused_tissue_classes(case) -> list[str]:
    """Built-in classes with a ``[tissue.X]`` table that no geometry source of the case produces."""
    produced = case.geometry.class_names()
    return [name for name in case.tissue if name not in produced]


def check_case(case) -> None:
    """Check the cross references of a validated case; raise :class:`KeyedCaseError`."""
    _check_grid(case)
    supply_names = [s.name for s in case.supplies]
    repeated = sorted({n for n in supply_names if supply_names.count(n) > 1})
    if repeated:
        raise KeyedCaseError("supplies", f"supply names must be unique: {repeated} repeated")
    _check_catheter(case, supply_names)
    _check_tissue(case, supply_names)
    _check_protocol(case)


def _check_grid(case) -> None:
    if case.geometry.kind != "phantom":
        return
    if case.grid.shape is None:
        raise KeyedCaseError("grid.shape", "a phantom needs the grid shape, e.g. shape = [64, 64, 48]")
    if case.grid.spacing is None:
        raise KeyedCaseError("grid.spacing", 'a phantom needs the voxel size, e.g. spacing = "2 mm"')


def _check_catheter(case, supply_names: list[str]) -> None:
    catheter = case.catheter
    if catheter is None:
        return
    if catheter.supply not in supply_names:
        raise KeyedCaseError(
            "catheter.supply", f"unknown supply {catheter.supply!r}; the case has {supply_names}")
    supply = case.supplies[supply_names.index(catheter.supply)]
    if supply.tree is None:
        if not catheter.inlets:
            raise KeyedCaseError("catheter", f"supply {supply.name!r} has point inlets, not a "
                                 "tree: name the inlets the catheter feeds, inlets = [\"…\"]")
        inlet_names = [inlet.name for inlet in supply.inlets]
        for name in catheter.inlets:
            if name not in inlet_names:
                raise KeyedCaseError(
                    "catheter.inlets",
                    f"unknown inlet {name!r} of supply {supply.name!r}; its inlets are {inlet_names}")
    elif catheter.inlets:
        raise KeyedCaseError("catheter.inlets", f"supply {supply.name!r} is fed by a tree: place "
                             "the catheter with vessel = <segment id>, position = [x, y, z] or "
                             "feeds = \"tumor\"")
    if catheter.feeds is not None and catheter.feeds not in case.geometry.class_names():
        raise KeyedCaseError("catheter.feeds", f"unknown class {catheter.feeds!r}; classes: "
                             f"{case.geometry.class_names()}")


def _check_tissue(case, supply_names: list[str]) -> None:
    geometry_classes = case.geometry.class_names()
    known = list(dict.fromkeys([*geometry_classes, *TISSUE_DEFAULTS]))
    for class_name, spec in case.tissue.items():
        key = f"tissue.{class_name}"
        if class_name not in known:
            close = difflib.get_close_matches(class_name, known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise KeyedCaseError(key, f"unknown tissue class {class_name!r}; {hint}classes in this "
                                 f"case: {geometry_classes} (image classes are named in "
                                 "geometry.labels)")
        for field in ("supply_fractions", "capillary_conductance"):
            for supply in (getattr(spec, field) or {}):
                if supply not in supply_names:
                    raise KeyedCaseError(f"{key}.{field}.{supply}",
                                         f"unknown supply {supply!r}; the case has {supply_names}")
    if len(supply_names) < 2:
        return
    for class_name in geometry_classes:
        spec = case.tissue.get(class_name)
        if class_name == "necrotic" and (spec is None or spec.perfusion in (None, 0.0)):
            continue
        if spec is None or (spec.supply_fractions is None and spec.capillary_conductance is None):
            raise KeyedCaseError(
                f"tissue.{class_name}.supply_fractions",
                f"the case has several supplies {supply_names}: say how class {class_name!r} "
                f"divides its perfusion, e.g. supply_fractions = "
                f"{{ {supply_names[0]} = 0.25, {supply_names[1]} = 0.75 }}")


#: Parameters a drug outside the library must give (the uptake model adds its own).
DRUG_PARAMETERS = ("diffusivity", "permeability", "solvent_drag_reflection", "elimination_rate",
                   "uptake", "cell_elimination_rate")
UPTAKE_PARAMETERS = {"none": (), "linear": ("uptake_rate", "release_rate"),
                     "saturable": ("max_uptake_rate", "extracellular_affinity",
                                   "intracellular_affinity")}
SYSTEMIC_PARAMETERS = ("central_volume", "peripheral_volume", "clearance", "k12", "k21")


def _check_protocol(case) -> None:
    if not case.infusion:
        for key in ("drug", "embolization"):
            if getattr(case, key) is not None:
                raise KeyedCaseError(key, "given without any [[infusion]]; add the schedule or "
                                     f"remove [{key}]")
        return
    if case.drug is None:
        raise KeyedCaseError("drug", 'the infusion needs a drug: [drug] name = "doxorubicin"')
    _check_drug(case)
    duration = case.simulation.duration
    if duration is None:
        raise KeyedCaseError("simulation.duration", 'a drug run needs its length, e.g. duration = "4 h"')
    windows: dict[str, list] = {}
    for n, infusion in enumerate(case.infusion):
        if infusion.route in CATHETER_ROUTES:
            _check_route(case, n, infusion.route)
        for start, end in infusion.windows():
            if end > duration * (1 + 1e-12):
                raise KeyedCaseError(f"infusion.{n}", f"runs until {end / 60:g} min, after the end "
                                     f"of the simulation ({duration / 60:g} min); shorten it or "
                                     "lengthen simulation.duration")
            for other_start, other_end, m in windows.get(infusion.route, []):
                if start < other_end and other_start < end:
                    raise KeyedCaseError(f"infusion.{n}", f"overlaps infusion.{m} on the same "
                                         "route; give one infusion with the summed rate instead")
            windows.setdefault(infusion.route, []).append((start, end, n))
    if case.simulation.compare_iv and not any(route in windows for route in CATHETER_ROUTES):
        raise KeyedCaseError("simulation.compare_iv", "the IV comparator needs an intra-arterial "
                             "(or portal-venous) infusion to compare with")
    embolization = case.embolization
    if embolization is not None:
        if case.catheter is None:
            raise KeyedCaseError("embolization", "embolisation acts on the catheter's territory: "
                                 "add a [catheter]")
        if embolization.time >= duration:
            raise KeyedCaseError("embolization.time", "must be before the end of the simulation")
    target = case.exposure.target
    if target is not None and target not in case.geometry.class_names():
        raise KeyedCaseError("exposure.target", f"unknown class {target!r}; classes: "
                             f"{case.geometry.class_names()}")


#: the catheter routes and the supply kind each one needs (docs/model.md §8.2)
CATHETER_ROUTES = {"intra-arterial": "arterial", "portal-venous": "portal"}


def _check_route(case, n: int, route: str) -> None:
    """A catheter route needs a catheter on a supply of its kind."""
    key = f"infusion.{n}.route"
    if case.catheter is None:
        raise KeyedCaseError(key, f"an {route} infusion needs a [catheter] naming the supply and "
                             "inlets it feeds")
    supply = next(s for s in case.supplies if s.name == case.catheter.supply)
    if supply.vessel_kind != CATHETER_ROUTES[route]:
        other = next(r for r, kind in CATHETER_ROUTES.items() if kind == supply.vessel_kind)
        raise KeyedCaseError(key, f"route = {route!r} needs the catheter on a "
                             f"{CATHETER_ROUTES[route]} supply, but catheter.supply = "
                             f"{supply.name!r} is {supply.vessel_kind} (supplies.kind, default from "
                             f"the name); give route = {other!r}, or move the catheter to a "
                             f"{CATHETER_ROUTES[route]} supply")


def _check_drug(case) -> None:
    from ..library.drugs import drugs_closest_first, get_drug

    spec = case.drug
    try:
        get_drug(spec.name)
    except KeyError:
        missing = [k for k in DRUG_PARAMETERS if getattr(spec, k) is None]
        missing += [k for k in UPTAKE_PARAMETERS.get(spec.uptake or "none", ())
                    if getattr(spec, k) is None]
        missing += [f"systemic.{k}" for k in SYSTEMIC_PARAMETERS if getattr(case.systemic, k) is None]
        if missing:
            raise KeyedCaseError("drug.name", f"{spec.name!r} is not in the drug library "
                                 f"(library drugs, closest first: "
                                 f"{', '.join(drugs_closest_first(spec.name))}); name one of "
                                 f"them, or give every parameter of a new drug; missing: "
                                 f"{', '.join(missing)}")
    for class_name in spec.metabolism or {}:
        if class_name == "necrotic":
            raise KeyedCaseError("drug.metabolism.necrotic", "necrotic tissue does not "
                                 "metabolise (docs/model.md §6.5); remove this table")
        if class_name not in case.geometry.class_names():
            raise KeyedCaseError(f"drug.metabolism.{class_name}", f"unknown class; classes: "
                                 f"{case.geometry.class_names()}")
