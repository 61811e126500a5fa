"""Every policy setting carries help text, so administrators (and generated templates) always have it."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from kiosk.policy.schema import Policy


def settings(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, type[BaseModel], str]]:
    """(dotted key, model, field name) for every field of the policy, nested sections included."""
    for name, field in model.model_fields.items():
        yield f"{prefix}{name}", model, name
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from settings(field.annotation, f"{prefix}{name}.")


def test_every_setting_has_a_description() -> None:
    keys = list(settings(Policy))
    assert len(keys) > 50
    undocumented = [key for key, model, name in keys if not (model.model_fields[name].description or "").strip()]
    assert undocumented == []


def test_every_section_has_a_docstring() -> None:
    for key, model, name in settings(Policy):
        annotation = model.model_fields[name].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            assert (annotation.__doc__ or "").strip(), key


def test_defaults_are_a_valid_policy() -> None:
    assert Policy.model_validate({}) == Policy()
