"""`[audit.syslog]`: off by default, what it accepts, and what `kiosk policy check` says (key and line) when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.policy.audit_schema import SyslogFacility, SyslogProtocol, SyslogSettings
from kiosk.policy.loader import PolicyProblem, check_policy_text, load_policy, load_policy_text

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def one_problem(lines: str) -> PolicyProblem:
    """The one problem of a policy whose [audit.syslog] table (from line 2) holds `lines`."""
    [problem] = check_policy_text("[audit.syslog]\n" + lines, "p.toml")
    return problem


def test_forwarding_is_off_by_default_and_in_the_demo() -> None:
    assert not SyslogSettings().enabled
    assert not load_policy(RESOURCES / "demo-policy.toml").audit.syslog.enabled


def test_a_tls_server_with_its_defaults() -> None:
    policy = load_policy_text('[audit.syslog]\nhost = "syslog.contoso.com"\nca_file = "/etc/ca.pem"\n', "p.toml")
    syslog = policy.audit.syslog
    assert syslog.enabled and syslog.protocol is SyslogProtocol.TLS and syslog.effective_port == 6514
    assert syslog.facility is SyslogFacility.AUTHPRIV and syslog.app_name == "AccountRecoveryKiosk"
    assert syslog.enterprise_number == 32473


@pytest.mark.parametrize(("protocol", "port"), [("udp", 514), ("tcp", 514)])
def test_udp_and_tcp_default_to_port_514(protocol: str, port: int) -> None:
    assert SyslogSettings(host="10.0.0.5", protocol=SyslogProtocol(protocol)).effective_port == port
    assert SyslogSettings(host="10.0.0.5", protocol=SyslogProtocol(protocol), port=1514).effective_port == 1514


@pytest.mark.parametrize(
    ("lines", "key", "line", "words"),
    [
        ('host = "tls://syslog.contoso.com:6514"\n', "audit.syslog.host", 2, "must be a host name or an address"),
        ('host = "x"\nprotocol = "relp"\n', "audit.syslog.protocol", 3, "tcp"),
        ('host = "x"\nport = 70000\n', "audit.syslog.port", 3, "between 0 and 65535"),
        ('host = "x"\nfacility = "kern"\n', "audit.syslog.facility", 3, "authpriv"),
        ('host = "x"\napp_name = "account recovery"\n', "audit.syslog.app_name", 3, "without spaces"),
        (
            'host = "x"\nprotocol = "udp"\nca_file = "ca.pem"\n',
            "audit.syslog",
            1,
            'ca_file is used with protocol = "tls" only',
        ),
        ('host = "x"\nsyslog_port = 514\n', "audit.syslog.syslog_port", 3, "unknown key"),
    ],
)
def test_bad_settings_name_key_and_line(lines: str, key: str, line: int, words: str) -> None:
    problem = one_problem(lines)
    assert (problem.key, problem.line) == (key, line), problem
    assert words in problem.message
