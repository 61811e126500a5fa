"""Masking of contact data: the kiosk only ever sees enough to recognise one's own address or number."""

from __future__ import annotations

BULLET = "•"


def mask_email(address: str) -> str:
    """`adele.vance@contoso.com` → `a•••••@contoso.com` (fixed bullets: the length is not revealed)."""
    local, at, domain = address.partition("@")
    if not at or not local:
        return BULLET * 5
    return f"{local[0]}{BULLET * 5}@{domain}"


def mask_phone(number: str) -> str:
    """`+31 6 1234 5678` → `+31 •• ••• ••78`: the country code and the last two digits only."""
    digits = [char for char in number if char.isdigit()]
    tail = "".join(digits[-2:]) if len(digits) >= 4 else ""
    body = f"{BULLET * 2} {BULLET * 3} {BULLET * 2}{tail}"
    stripped = number.strip()
    if stripped.startswith("+"):
        country = stripped[1:].split(" ", 1)[0]
        if " " in stripped[1:] and country.isdigit() and len(country) <= 3:
            return f"+{country} {body}"
    return body
