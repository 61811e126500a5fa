"""Masking of contact data."""

from __future__ import annotations

import pytest

from kiosk.services.backend.recovery.masking import mask_email, mask_phone


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("adele.vance@contoso.com", "a•••••@contoso.com"),
        ("a@contoso.com", "a•••••@contoso.com"),
        ("not-an-address", "•••••"),
    ],
)
def test_mask_email(address: str, masked: str) -> None:
    assert mask_email(address) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+31 6 1234 5678", "+31 •• ••• ••78"),
        ("+1 425 555 0100", "+1 •• ••• ••00"),
        ("0612345678", "•• ••• ••78"),
        ("+31612345678", "•• ••• ••78"),
        ("12", "•• ••• ••"),
    ],
)
def test_mask_phone(number: str, masked: str) -> None:
    assert mask_phone(number) == masked
