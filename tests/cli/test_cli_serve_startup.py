"""`kiosk serve` that cannot start says the cause and the fix, as `kiosk directory test` does (issue 12, part 7).

The real console script runs as a subprocess. Its keyring is chosen by PYTHON_KEYRING_BACKEND: keyring's
null backend (no secret at all), or a tiny fixed backend written to a temporary folder that holds the
directory's service password, so the next thing to fail is the CA file.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from live_servers.common import free_port

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / ".venv" / "bin" / "kiosk"
SERVICE_PASSWORD = "Service-Secret-7731!"

FIXED_KEYRING = f'''
from keyring.backend import KeyringBackend

class Keyring(KeyringBackend):
    priority = 1
    entries = {{"directory": {SERVICE_PASSWORD!r}, "enrollment-key": "{"A" * 43}="}}

    def get_password(self, service, username):
        return self.entries.get(username)

    def set_password(self, service, username, password):
        self.entries[username] = password

    def delete_password(self, service, username):
        self.entries.pop(username, None)
'''


def policy_file(folder: Path, ca_file: str = "") -> Path:
    """An OpenLDAP policy on a closed loopback port (nothing is ever reached)."""
    lines = [
        "[directory]",
        'kind = "openldap"',
        "[directory.openldap]",
        f'urls = ["ldaps://127.0.0.1:{free_port()}"]',
        'base_dn = "dc=example,dc=org"',
        'bind_dn = "cn=kiosk,dc=example,dc=org"',
        "connect_timeout_seconds = 2",
    ]
    if ca_file:
        lines.append(f'ca_file = "{ca_file}"')
    path = folder / "policy.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_kiosk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def serve_and_test(policy: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """`kiosk serve` on the policy, and the cause `kiosk directory test` prints for the same policy."""
    served = run_kiosk(env, "serve", "--policy", str(policy), "--host", "127.0.0.1", "--port", str(free_port()))
    tested = run_kiosk(env, "directory", "test", "--policy", str(policy), "someone")
    assert tested.returncode == 1
    cause = tested.stderr.strip().removeprefix("kiosk: ")
    assert cause.startswith("directory unavailable: ")
    return served, cause


def assert_told(served: subprocess.CompletedProcess[str], cause: str, *fix: str) -> None:
    assert served.returncode != 0
    output = served.stdout + served.stderr
    assert cause in output, output  # the same words as `kiosk directory test`
    for words in fix:
        assert words in output
    assert "Traceback" not in output
    assert SERVICE_PASSWORD not in output
    assert "ERROR:    DirectoryUnavailable" not in output  # the type alone, as before


def test_a_missing_keyring_secret_is_told_with_the_command_that_stores_it(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    served, cause = serve_and_test(policy_file(tmp_path), env)
    assert_told(served, cause, "the backend cannot start", "no_credential", "kiosk secrets set directory")


def test_a_missing_ca_file_is_told_with_the_setting_to_fix(tmp_path: Path) -> None:
    (tmp_path / "fixed_keyring.py").write_text(FIXED_KEYRING, encoding="utf-8")
    pythonpath = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "fixed_keyring.Keyring", "PYTHONPATH": pythonpath}
    missing = tmp_path / "no-such-ca.pem"
    served, cause = serve_and_test(policy_file(tmp_path, str(missing)), env)
    assert_told(served, cause, "the backend cannot start", f"ca_file {missing} cannot be read", "PEM file of the CA")
