"""The base of every settings model (pure): unknown keys are errors, camelCase in stack files.

Stack files write camelCase (``pullPolicy``), Python code snake_case (``pull_policy``); both
are accepted when constructing a model in code. Models are frozen: settings are values.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Unknown keys are errors; stack files write camelCase, Python code snake_case."""

    # defer_build: a model's validator is built when it is first used, not at import; a
    # stack without tenants or a registry never pays for those models (CLI start-up).
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, defer_build=True
    )
