"""`[store]`: where the backend keeps its state. A PostgreSQL URL never carries a password, names its user, and
reaches another host only over verified TLS; every refusal names the key, the line and the fix."""

from __future__ import annotations

import pytest

from kiosk.policy.loader import PolicyProblem, check_policy_text, load_policy_text
from kiosk.policy.store_schema import StoreKind


def problems(url: str, kind: str = "postgresql") -> list[PolicyProblem]:
    """The problems of a policy whose `store.url` (line 3) is `url`."""
    return check_policy_text(f'[store]\nkind = "{kind}"\nurl = "{url}"\n', "p.toml")


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("postgresql://kiosk:S3cret-Pass@127.0.0.1/kiosk", "kiosk secrets set database"),
        ("postgresql://kiosk@127.0.0.1/kiosk?password=S3cret-Pass", "kiosk secrets set database"),
        ("postgresql://kiosk@127.0.0.1/kiosk?passfile=/etc/pgpass", "kiosk secrets set database"),
        ("postgresql://127.0.0.1/kiosk", "USER@HOST"),
        ("mysql://kiosk@127.0.0.1/kiosk", "postgresql://USER@HOST"),
        ("postgresql:///kiosk", "postgresql://USER@HOST"),
        ("postgresql://kiosk@[::1/kiosk", "not a URL"),
        ("postgresql://kiosk@db.contoso.com/kiosk", "sslmode=verify-full"),
        ("postgresql://kiosk@db.contoso.com/kiosk?sslmode=require", "sslmode=verify-full"),
    ],
)
def test_a_url_that_would_leak_or_misroute_is_refused_with_the_key_the_line_and_the_fix(url: str, fix: str) -> None:
    [problem] = problems(url)
    assert (problem.key, problem.line) == ("store.url", 3)
    assert fix in problem.message
    assert "S3cret-Pass" not in problem.message  # the password is never echoed


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://kiosk@127.0.0.1:5432/kiosk",
        "postgres://kiosk@localhost/kiosk",
        "postgresql://kiosk@db.contoso.com:5432/kiosk?sslmode=verify-full&sslrootcert=/etc/kiosk/ca.pem",
        "postgresql://kiosk@10.0.0.7/kiosk?sslmode=verify-ca",
    ],
)
def test_a_url_with_a_user_and_no_password_is_accepted(url: str) -> None:
    assert problems(url) == []


def test_postgresql_needs_a_url_and_sqlite_is_the_default() -> None:
    [problem] = check_policy_text('[store]\nkind = "postgresql"\n', "p.toml")
    assert problem.key.startswith("store") and "postgresql://USER@HOST" in problem.message
    assert load_policy_text("", "p.toml").store.kind is StoreKind.SQLITE


@pytest.mark.parametrize("size", [0, 101])
def test_the_pool_size_is_bounded(size: int) -> None:
    [problem] = check_policy_text(f"[store]\npool_size = {size}\n", "p.toml")
    assert (problem.key, problem.line) == ("store.pool_size", 2)


def test_a_megabyte_url_is_refused_not_parsed() -> None:
    [problem] = problems("postgresql://kiosk@127.0.0.1/" + "k" * 1_000_000)
    assert problem.key == "store.url" and len(problem.message) < 500
