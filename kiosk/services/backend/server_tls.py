"""The certificate and key `kiosk serve --certificate FILE --key FILE` serves HTTPS with, checked before start.

uvicorn would stop on a bad file with a traceback (or, for an encrypted key, ask for a passphrase on
the terminal); `check_server_tls` says in one line which file is wrong and what to do instead.
"""

from __future__ import annotations

import ssl
from pathlib import Path


class ServerTlsError(Exception):
    """A certificate or key `kiosk serve` cannot use; the message names the file and the fix."""


def _read(option: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ServerTlsError(f"{option} {path}: no such file; give the path of the PEM file") from None
    except IsADirectoryError:
        raise ServerTlsError(f"{option} {path}: is a folder; give the path of the PEM file") from None
    except OSError as error:
        raise ServerTlsError(
            f"{option} {path}: cannot be read ({type(error).__name__}); let the account kiosk serve runs as read it"
        ) from None


def _no_passphrase() -> bytes:
    raise ServerTlsError("encrypted")  # never prompt on the terminal


def check_server_tls(certificate: Path, key: Path) -> None:
    """Raise `ServerTlsError` unless `certificate` (PEM, the chain after it) and `key` (PEM) belong together."""
    cert_pem = _read("--certificate", certificate)
    key_pem = _read("--key", key)
    if b"-----BEGIN CERTIFICATE-----" not in cert_pem:
        raise ServerTlsError(
            f"--certificate {certificate}: not a PEM certificate; give the server's certificate in PEM form "
            "(-----BEGIN CERTIFICATE-----), the intermediate CAs after it"
        )
    if b"PRIVATE KEY-----" not in key_pem or b"-----BEGIN CERTIFICATE-----" in key_pem:
        raise ServerTlsError(
            f"--key {key}: not a PEM private key; give the certificate's private key in PEM form "
            "(-----BEGIN PRIVATE KEY-----)"
        )
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=cert_pem.decode("ascii", "replace"))
    except (ssl.SSLError, ValueError):
        raise ServerTlsError(
            f"--certificate {certificate}: the PEM certificate is damaged; export the server's certificate again"
        ) from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certificate, key, password=_no_passphrase)
    except ServerTlsError:
        raise ServerTlsError(
            f"--key {key}: is encrypted with a passphrase; give an unencrypted key (e.g. openssl pkey -in KEY "
            "-out NEW), readable only by the account kiosk serve runs as"
        ) from None
    except ssl.SSLError as error:
        if "KEY_VALUES_MISMATCH" in str(error) or error.reason == "KEY_VALUES_MISMATCH":
            raise ServerTlsError(
                f"--key {key} does not match --certificate {certificate}: give the private key of that certificate"
            ) from None
        raise ServerTlsError(
            f"--key {key}: the private key cannot be used ({error.reason or 'damaged PEM'}); "
            "give the certificate's unencrypted private key in PEM form"
        ) from None
