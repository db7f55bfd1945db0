"""Read a case file (TOML), apply ``--set`` overrides, validate it into a :class:`Case`.

Every problem becomes one :class:`~perfusion.errors.CaseError` whose message names the
file, the dotted key (``supplies.0.inlets.1.flow``), what was wrong and the fix.
Relative paths in the case are resolved against the case file's folder.
"""
from __future__ import annotations

import copy
import logging
import tomllib
import typing
from pathlib import Path

import pydantic

from ..errors import CaseError
from .checks import KeyedCaseError, unused_tissue_classes
from .dosing import warn_implausible
from .geometry_spec import DATASET_BACKGROUND
from .introspect import model_of
from .schema import Case

log = logging.getLogger(__name__)


def load_case(path: str | Path, overrides: typing.Sequence[str] = ()) -> Case:
    """Load and validate the case file ``path``, with ``key=value`` overrides applied.

    Examples
    --------
    >>> case = load_case("cases/liver_hai.toml", ["grid.shape=[24,24,20]"])  # doctest: +SKIP
    >>> case.grid.shape                                                      # doctest: +SKIP
    (24, 24, 20)
    """
    path = Path(path)
    if not path.is_file():
        raise CaseError(f"{path}: case file not found; check the path (perfusion cases lists "
                        "the built-in cases)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CaseError(f"{path}: not valid TOML ({exc}); fix the syntax at that line") from None
    return case_from_dict(raw, source=path, overrides=overrides)


def case_from_dict(raw: dict, source: str | Path = "<case>",
                   overrides: typing.Sequence[str] = ()) -> Case:
    """Validate a case given as a dict (e.g. built in Python); ``source`` names it in errors."""
    source = Path(source)
    raw = copy.deepcopy(raw)
    for override in overrides:
        apply_override(raw, override, source)
    _resolve_paths(raw, source)
    try:
        case = Case.model_validate(raw)
    except KeyedCaseError as exc:
        raise CaseError(f"{source}: {exc.key}: {exc.message}") from None
    except pydantic.ValidationError as exc:
        raise CaseError(format_validation_error(exc, source, raw)) from None
    object.__setattr__(case, "__source__", str(source))
    produced = case.geometry.class_names()
    for name in unused_tissue_classes(case):
        log.warning("%s: tissue.%s: no geometry source of this case produces class %r (it has "
                    "%s), so this table is ignored; remove it, or map a label to %r in "
                    "geometry.labels", source, name, name, produced, name)
    warn_implausible(case, source)
    return case


def case_source(case: Case) -> str:
    """The file a case was loaded from (for error messages of later stages)."""
    return getattr(case, "__source__", "<case>")


def apply_override(raw: dict, override: str, source: Path) -> None:
    """Apply one ``dotted.key=TOML value`` override to the raw case dict in place."""
    key, sep, text = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise CaseError(f"--set {override!r}: expected key=value, e.g. --set grid.shape=[48,48,40]")
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        raise CaseError(f"--set {override!r}: the value is not TOML; "
                        f"{_override_fix(key, text.strip())}") from None
    parts = key.split(".")
    node = raw
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: depth + 1]), override)
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, key, override)] = value
    else:
        node[last] = value


def _override_fix(key: str, text: str) -> str:
    """The fix for an override value that is not TOML: a list in brackets, else a quoted string."""
    if "," in text and not text.startswith(("[", "{", '"', "'")):
        items = [item.strip() for item in text.split(",")]
        for array in (f"[{', '.join(items)}]",
                      "[" + ", ".join(f'"{item}"' for item in items) + "]"):
            try:
                tomllib.loads(f"value = {array}")
            except tomllib.TOMLDecodeError:
                continue
            return f"give a list as a TOML array in brackets, e.g. --set '{key}={array.replace(', ', ',')}'"
    return f"quote strings, e.g. --set '{key}=\"{text}\"'"


def _child(node, part: str, prefix: str, override: str):
    if isinstance(node, list):
        return node[_index(node, part, prefix, override)]
    if not isinstance(node, dict):
        raise CaseError(f"--set {override!r}: {prefix} is a value, not a table")
    return node.setdefault(part, {})


def _index(node: list, part: str, prefix: str, override: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise CaseError(f"--set {override!r}: {prefix}: expected an index 0…{len(node) - 1}")
    return int(part)


def _resolve_paths(raw: dict, source: Path) -> None:
    """Make the case's file paths absolute (relative ones are relative to the case file)."""
    tables = [("geometry", raw.get("geometry"))]
    supplies = raw.get("supplies")
    if isinstance(supplies, list):
        tables += [(f"supplies.{n}.tree", s.get("tree")) for n, s in enumerate(supplies)
                   if isinstance(s, dict)]
    geometry = raw.get("geometry")
    if isinstance(geometry, dict) and isinstance(geometry.get("masks"), dict):
        tables += [("geometry.masks", geometry["masks"])]
    missing: list[tuple[str, Path]] = []
    for key, table in tables:
        if not isinstance(table, dict):
            continue
        names = {"geometry": ["path", "totalsegmentator", "dicom", "segmentation", "background"],
                 "geometry.masks": list(table)}.get(key, ["path"])
        for name in names:
            if isinstance(table.get(name), str) and not (
                    name == "background" and table[name] == DATASET_BACKGROUND):
                table[name] = _existing(Path(table[name]).expanduser(), source, f"{key}.{name}",
                                        missing)
    if missing:
        raise CaseError(_missing_files(source, missing))


def _existing(path: Path, source: Path, key: str, missing: list) -> str:
    if not path.is_absolute():
        path = source.parent / path
    if not path.exists():
        missing.append((key, path))
    return str(path.resolve())


def _missing_files(source: Path, missing: list[tuple[str, Path]]) -> str:
    """One message naming every missing file and, for known data, where to get it."""
    from ..library.cases import missing_data_hint

    files = "; ".join(f"{key}: {str(path)!r}" for key, path in missing)
    verb = "does not exist" if len(missing) == 1 else f"do not exist ({len(missing)} files)"
    hint = missing_data_hint([path for _, path in missing])
    return (f"{source}: {files} {verb}; give a path relative to the case file or an absolute "
            "one (or override it with --set KEY='\"PATH\"')" + (f". {hint}" if hint else ""))


def _dotted(loc: tuple) -> str:
    keys = [str(p) for p in loc if isinstance(p, int) or ("[" not in p and "(" not in p)]
    return ".".join(keys) or "(top level)"


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names of the model at ``loc`` (for 'unknown key' messages)."""
    model: typing.Any = Case
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, pydantic.BaseModel)):
            continue
        if part not in model.model_fields:
            break
        model = model_of(model.model_fields[part].annotation)[0]
    if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
        return list(model.model_fields)
    return []


def _named(raw: dict, loc: tuple) -> str:
    """Append the name of the list item the key is in, e.g. (inlet 'left')."""
    node, hint = raw, ""
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(part, int) and isinstance(node, dict) and "name" in node:
            hint = f" ({node['name']!r})"
    return hint


def format_validation_error(exc: pydantic.ValidationError, source: Path, raw: dict) -> str:
    """One line per problem: file: dotted.key (name): what is wrong and the fix."""
    lines: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = error["loc"]
        key = _dotted(loc)
        kind = error["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
        elif kind == "missing":
            message = "required key is missing; add it"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if kind != "value_error" and "input" in error:
                message += f" (got {error['input']!r})"
        lines.setdefault(f"{key}{_named(raw, loc)}", [])
        if message not in lines[f"{key}{_named(raw, loc)}"]:
            lines[f"{key}{_named(raw, loc)}"].append(message)
    body = "\n".join(f"  {key}: {' — or: '.join(messages)}" for key, messages in lines.items())
    count = len(lines)
    return f"{source}: {count} problem{'s' if count > 1 else ''} in the case:\n{body}"
