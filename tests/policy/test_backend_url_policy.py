"""`backend.url` and `backend.ca_file`: a shared backend is reached over https://, plain http:// only on loopback."""

from __future__ import annotations

import pytest

from kiosk.policy.loader import PolicyProblem, check_policy_text, load_policy_text


def problems(url: str) -> list[PolicyProblem]:
    """The problems of a shared-mode policy whose `backend.url` (line 3) is `url`."""
    return check_policy_text(f'[backend]\nmode = "shared"\nurl = "{url}"\n', "p.toml")


@pytest.mark.parametrize("url", ["http://example.com", "http://kiosk.contoso.com:8765/", "http://10.0.0.5:8765"])
def test_plain_http_to_another_host_is_refused_with_the_key_the_line_and_the_fix(url: str) -> None:
    [problem] = problems(url)
    assert (problem.key, problem.line) == ("backend.url", 3)
    assert "loopback" in problem.message and "https://" in problem.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.3.4.5:8765/",
        "http://localhost:8765",
        "http://[::1]:8765",
        "https://kiosk.contoso.com",
        "https://10.0.0.5:8765/",
    ],
)
def test_https_anywhere_and_http_on_loopback_are_accepted(url: str) -> None:
    assert problems(url) == []


def test_the_ca_file_is_kept() -> None:
    policy = load_policy_text(
        '[backend]\nmode = "shared"\nurl = "https://kiosk.contoso.com"\nca_file = "/etc/kiosk/ca.pem"\n', "p.toml"
    )
    assert policy.backend.ca_file == "/etc/kiosk/ca.pem"
    assert load_policy_text("", "p.toml").backend.ca_file == ""  # empty: the OS trust store
