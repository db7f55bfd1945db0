"""The base of every case-file table."""
from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Unknown keys are errors; validated tables are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
