"""Looking inside the schema's annotations: the unit of a quantity field, the model of a table."""
from __future__ import annotations

import typing

import pydantic

from .quantity import Unit


def unit_of(annotation, metadata=()) -> Unit | None:
    """The ``Unit`` of a (possibly nested: Optional, tuple, dict) quantity annotation."""
    for meta in (*metadata, *getattr(annotation, "__metadata__", ())):
        if isinstance(meta, Unit):
            return meta
    for arg in typing.get_args(annotation):
        found = unit_of(arg)
        if found is not None:
            return found
    return None


def model_of(annotation) -> tuple[type[pydantic.BaseModel] | None, object]:
    """(model class, container origin) of a field such as ``list[InletSpec]`` or ``Optional[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation, None
    for arg in typing.get_args(annotation):
        model, origin = model_of(arg)
        if model is not None:
            return model, origin or typing.get_origin(annotation)
    return None, None
