"""The base of every policy section, shared by the schema modules so all sections behave alike."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PolicySection(BaseModel):
    """A policy section: immutable, and unknown keys are errors (never silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
