"""Case files: schema, loading, overrides and the resolved case written with results."""
from .loader import case_from_dict, case_source, load_case
from .schema import Case

__all__ = ["Case", "case_from_dict", "case_source", "load_case"]
