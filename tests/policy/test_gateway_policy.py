"""`[delivery.gateway]`: what the policy accepts, and what `kiosk policy check` says (key and line) when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.policy.loader import PolicyError, PolicyProblem, check_policy_text, load_policy, load_policy_text
from kiosk.policy.schema import TWILIO_API_URL, DeliveryKind, GatewayKind, GatewaySettings

HEAD = """\
[delivery]
kind = "smtp"

[delivery.smtp]
host = "mail.contoso.com"

[delivery.gateway]
"""


def problems(gateway_lines: str) -> list[PolicyProblem]:
    """The problems of an SMTP policy whose [delivery.gateway] table (from line 8) holds `gateway_lines`."""
    return check_policy_text(HEAD + gateway_lines, "p.toml")


def one_problem(gateway_lines: str) -> PolicyProblem:
    """The one problem of such a policy."""
    [problem] = problems(gateway_lines)
    return problem


def test_a_webhook_and_a_twilio_gateway_load() -> None:
    policy = load_policy_text(
        HEAD + 'kind = "webhook"\nurl = "https://sms.contoso.com/send"\nfrom_number = "+15550100"\n', "p.toml"
    )
    assert policy.delivery.kind is DeliveryKind.SMTP
    assert policy.delivery.gateway.kind is GatewayKind.WEBHOOK
    assert policy.delivery.gateway.base_url == "https://sms.contoso.com/send"
    twilio = load_policy_text(
        HEAD + 'kind = "twilio"\naccount = "AC123"\nfrom_number = "+15550100"\ntimeout_seconds = 5\n', "p.toml"
    )
    assert twilio.delivery.gateway.base_url == TWILIO_API_URL  # no url: Twilio's own API
    assert GatewaySettings().kind is GatewayKind.NONE  # the default: no gateway


def test_plain_http_to_a_remote_host_names_the_url_and_its_line() -> None:
    problem = one_problem('kind = "webhook"\nurl = "http://sms.contoso.com/send"\n')
    assert (problem.key, problem.line) == ("delivery.gateway.url", 9)
    assert "only allowed to a loopback host" in problem.message and "use https://" in problem.message


def test_http_to_loopback_is_allowed() -> None:
    for url in ("http://127.0.0.1:8080/send", "http://localhost/send", "http://[::1]:9000/"):
        assert GatewaySettings(kind=GatewayKind.WEBHOOK, url=url).url == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sms.contoso.com", "must be an address like https://"),
        ("ftp://sms.contoso.com", "must be an address like https://"),
        ("https://[::1", "must be an address like https://"),
        ("https://sms.contoso.com:99999/", "must be an address like https://"),
        ("https://kiosk:secret@sms.contoso.com/", "kiosk secrets set gateway"),
    ],
)
def test_a_bad_url_is_refused(url: str, words: str) -> None:
    problem = one_problem(f'kind = "webhook"\nurl = "{url}"\n')
    assert (problem.key, problem.line) == ("delivery.gateway.url", 9)
    assert words in problem.message
    assert "secret" not in problem.message.replace("kiosk secrets set", "")  # the URL's password is not echoed


def test_twilio_without_account_and_number_says_what_is_missing() -> None:
    problem = one_problem('kind = "twilio"\nurl = "https://api.twilio.com"\n')
    assert (problem.key, problem.line) == ("delivery.gateway", 7)
    assert problem.message.startswith('kind = "twilio" needs account and from_number')
    problem = one_problem('kind = "twilio"\naccount = "AC123"\n')
    assert "needs from_number" in problem.message and "account and" not in problem.message


def test_a_webhook_needs_its_url() -> None:
    problem = one_problem('kind = "webhook"\n')
    assert (problem.key, problem.line) == ("delivery.gateway", 7)
    assert 'kind = "webhook" needs url' in problem.message


def test_wrong_kinds_and_numbers_name_key_and_line() -> None:
    first, second = problems('kind = "carrier_pigeon"\ntimeout_seconds = 0\n')
    assert (first.key, first.line) == ("delivery.gateway.kind", 8)
    assert "one of: none, webhook, twilio" in first.message and "carrier_pigeon" in first.message
    assert (second.key, second.line) == ("delivery.gateway.timeout_seconds", 9)
    unknown = one_problem('kind = "webhook"\nurl = "https://sms.contoso.com"\ntoken = "s3cret"\n')
    assert (unknown.key, unknown.line) == ("delivery.gateway.token", 10)
    assert "unknown key" in unknown.message


def test_a_gateway_with_the_dev_outbox_is_refused() -> None:
    text = '[delivery]\nkind = "dev_outbox"\n\n[delivery.gateway]\nkind = "webhook"\nurl = "https://sms.contoso.com"\n'
    [problem] = check_policy_text(text, "p.toml")
    assert (problem.key, problem.line) == ("delivery", 1)
    assert 'used with delivery.kind = "smtp" only' in problem.message


def test_the_schema_refuses_the_same_outside_the_loader() -> None:
    with pytest.raises(ValidationError, match="needs account and from_number"):
        GatewaySettings(kind=GatewayKind.TWILIO)


def test_the_insecure_gateway_example_is_refused_with_key_and_line() -> None:
    path = Path(__file__).resolve().parents[2] / "resources" / "examples" / "insecure-gateway.toml"
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    [problem] = raised.value.problems
    assert (problem.key, problem.line) == ("delivery.gateway.url", 10)
    assert "use https://" in problem.message
