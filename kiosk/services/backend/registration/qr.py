"""What the kiosk shows to register an authenticator app: the `otpauth://` URI and its QR code (SVG).

The backend draws the QR code (segno), so the kiosk needs no QR library and shows a picture it cannot
get wrong; the secret is shown as text beside it for apps that cannot scan.
"""

from __future__ import annotations

import io

from kiosk.services.backend.recovery.authenticator import DIGITS, STEP_SECONDS


def provisioning_uri(secret: str, login: str, issuer: str) -> str:
    """`otpauth://totp/<issuer>:<login>?secret=…&issuer=<issuer>&digits=6&period=30` (Key Uri Format)."""
    import pyotp

    uri = str(pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=login, issuer_name=issuer))
    # pyotp leaves out the defaults; some apps read a missing value differently, so both are always said.
    for name, value in (("digits", DIGITS), ("period", STEP_SECONDS)):
        if f"&{name}=" not in uri:
            uri += f"&{name}={value}"
    return uri


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an SVG document (error correction M, a 4-module quiet zone), one SVG unit a module:
    the kiosk draws a whole number of pixels a unit, so every module is the same size and its edges sharp."""
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(out, kind="svg", border=4, xmldecl=False)
    return out.getvalue().decode("utf-8")
