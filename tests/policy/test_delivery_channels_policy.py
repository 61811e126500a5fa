"""Methods the delivery cannot carry (issue 11, finding 2): SMS and voice codes need `[delivery.gateway]`
when delivery is SMTP. `kiosk policy check` (and loading the policy) refuses them with the key, its
line and the fix, instead of a code that can never be sent."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.cli.policy_cmd import policy_check
from kiosk.policy.group_policy import DictRegistryReader, RegistryValue, RegType
from kiosk.policy.loader import PolicyError, check_policy_text, load_policy, load_policy_sources, load_policy_text
from kiosk.policy.schema import (
    DeliveryKind,
    DeliverySettings,
    GatewayKind,
    GatewaySettings,
    Method,
    MethodSettings,
    Policy,
    SmtpSettings,
)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"

SMTP = """\
[methods]
enabled = {methods}

[delivery]
kind = "smtp"

[delivery.smtp]
host = "mail.contoso.com"
"""
GATEWAY = '\n[delivery.gateway]\nkind = "webhook"\nurl = "https://sms.contoso.com/send"\n'


@pytest.mark.parametrize("method", ["mobile_sms", "mobile_call", "office_call"])
def test_a_phone_method_without_a_gateway_names_the_key_its_line_and_the_fix(method: str) -> None:
    [problem] = check_policy_text(SMTP.format(methods=f'["email", "{method}"]'), "p.toml")
    assert (problem.key, problem.line) == ("methods.enabled", 2)
    assert method in problem.message and "no gateway" in problem.message
    assert "[delivery.gateway]" in problem.message and "remove" in problem.message  # both ways out


def test_every_phone_method_is_named_once() -> None:
    text = SMTP.format(methods='["mobile_call", "email", "office_call", "mobile_sms"]')
    [problem] = check_policy_text(text, "p.toml")
    assert "mobile_call, office_call, mobile_sms" in problem.message


def test_with_a_gateway_or_without_phone_methods_the_policy_loads() -> None:
    policy = load_policy_text(SMTP.format(methods='["email", "mobile_sms", "mobile_call"]') + GATEWAY, "p.toml")
    assert policy.delivery.gateway.kind is GatewayKind.WEBHOOK
    assert load_policy_text(SMTP.format(methods='["email", "security_questions"]'), "p.toml").delivery.kind is (
        DeliveryKind.SMTP
    )


def test_the_demo_policy_stays_valid_its_dev_outbox_carries_sms_too() -> None:
    policy = load_policy(RESOURCES / "demo-policy.toml")
    assert Method.MOBILE_SMS in policy.methods.enabled and policy.delivery.kind is DeliveryKind.DEV_OUTBOX
    assert policy.delivery.gateway.kind is GatewayKind.NONE


def test_the_installed_starting_policy_is_valid() -> None:
    load_policy(RESOURCES / "installed-policy.toml")


def test_kiosk_policy_check_prints_one_line_and_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(RESOURCES.parent)
    out, err = io.StringIO(), io.StringIO()
    assert policy_check("resources/examples/sms-without-gateway.toml", out, err) == 1
    assert err.getvalue().startswith("resources/examples/sms-without-gateway.toml:3: methods.enabled: mobile_sms ")
    assert len(err.getvalue().splitlines()) == 1 and out.getvalue() == ""
    with pytest.raises(PolicyError):
        load_policy(RESOURCES / "examples" / "sms-without-gateway.toml")


def test_group_policy_enabling_sms_is_refused_at_its_registry_path(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(SMTP.format(methods='["email"]'), encoding="utf-8")
    assert load_policy(path).methods.enabled == (Method.EMAIL,)
    registry = DictRegistryReader(
        {("methods",): {"enabled": RegistryValue(RegType.REG_MULTI_SZ, ("email", "mobile_sms"))}}
    )
    with pytest.raises(PolicyError) as raised:
        load_policy_sources(path, registry)
    [problem] = raised.value.problems
    assert problem.key == "methods.enabled" and "mobile_sms" in problem.message
    assert problem.location is not None and problem.location.endswith("methods\\enabled")


def test_the_schema_refuses_the_same_outside_the_loader() -> None:
    smtp = DeliverySettings(kind=DeliveryKind.SMTP, smtp=SmtpSettings(host="mail.contoso.com"))
    with pytest.raises(ValidationError, match="mobile_sms"):
        Policy(methods=MethodSettings(enabled=(Method.EMAIL, Method.MOBILE_SMS)), delivery=smtp)
    gateway = smtp.model_copy(update={"gateway": GatewaySettings(kind=GatewayKind.WEBHOOK, url="https://s.test")})
    assert Policy(methods=MethodSettings(enabled=(Method.EMAIL, Method.MOBILE_SMS)), delivery=gateway)
