"""The policy simulator on the real servers (OpenLDAP + ppolicy, Samba AD): listing every user, explain, diff."""

from __future__ import annotations

import io
from typing import Any

import ldap3
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import live_policy

from kiosk.cli.policy_sim_cmd import diff_policies, explain_user
from kiosk.policy.schema import EnabledFor, Policy
from kiosk.services.backend.credentials import ENROLLMENT_KEY, SERVICE
from kiosk.services.backend.directory import ldap as ldap_directory
from kiosk.services.backend.directory.ldap import LdapDirectory


async def test_all_users_lists_every_user_page_by_page_as_find_user_reads_them(
    live: Any, directory: LdapDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ldap_directory, "PAGE_SIZE", 3)  # several pages, whichever server
    listed = await directory.all_users()
    logins = [user.login for user in listed]
    assert set(live.users) <= set(logins)
    assert len(logins) == len(set(logins)) and logins == sorted(logins, key=str.casefold)
    for login in live.users:
        assert next(user for user in listed if user.login == login) == await directory.find_user(login), login
    if live.kind == "samba_ad":
        # The domain controller's own computer account is an objectClass=user entry: never listed.
        with live.connect() as admin:
            admin.search(live.base_dn, "(objectClass=computer)", search_scope=ldap3.SUBTREE, attributes=["cn"])
            assert admin.entries, "the test needs a computer account to leave out"
        assert not any(login.endswith("$") for login in logins)
    carol = next(user for user in listed if user.login == "carol")
    assert carol.is_admin and live.groups.admin in carol.groups


def explain(policy: Policy, user_id: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = explain_user(policy, user_id, False, out, err)
    return code, out.getvalue(), err.getvalue()


def test_explain_on_the_live_directory(live: Any, fake_keyring: FakeMemoryKeyring) -> None:
    policy = live_policy(live)
    code, out, err = explain(policy, "carol")
    assert (code, err) == (0, "")
    assert "verdict: may use self-service: 2 gates, choosing among email, mobile_sms" in out
    assert "gates: 2: administrators always need 2 (methods.required = 1)" in out
    assert "  ok  password managed on premises, written back (on_premises.writeback = true)" in out
    code, out, _ = explain(policy, live.users["bob"].mail)  # by e-mail; enabled through the nested group
    assert code == 0 and f"self-service allowed: member of {live.groups.enabled} (reset.groups)" in out
    code, out, _ = explain(policy, "frank")
    assert code == 3 and "  NO  0 usable factor(s) (none) for 1 gate(s)" in out and "refusal is never told" in out
    code, out, _ = explain(policy, "grace")
    assert code == 3 and "verdict: REFUSED (account_disabled)" in out
    code, out, _ = explain(policy, "erin")
    assert code == 3 and f"not a member of {live.groups.enabled}" in out
    code, out, err = explain(policy, live.users["twin1"].mail)
    assert (code, out) == (1, "") and "matches more than one entry" in err
    code, out, err = explain(policy, "nobody-here")
    assert (code, out) == (1, "") and err.startswith("kiosk: no user matches 'nobody-here' in ")
    assert (SERVICE, ENROLLMENT_KEY) not in fake_keyring.entries  # read-only: no key was created
    code, _, err = explain(live_policy(live, ca_file=live.wrong_ca_file), "alice")
    assert code == 1 and err.startswith("kiosk: directory unavailable: tls")


def diff(old: Policy, new: Policy) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = diff_policies(old, new, new, "new.toml", False, out, err)
    return code, out.getvalue(), err.getvalue()


def section(out: str, title: str) -> set[str]:
    """The logins listed under one heading of the impact report."""
    lines = out.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(title))
    logins = set()
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        logins.add(line.split()[0])
    return logins


def test_diff_on_the_live_directory_lists_who_loses_and_who_gains(live: Any, fake_keyring: FakeMemoryKeyring) -> None:
    old = live_policy(live)  # e-mail and SMS enabled, 1 gate
    two_gates = old.model_copy(update={"methods": old.methods.model_copy(update={"required": 2})})
    code, out, err = diff(old, two_gates)
    assert (code, err) == (3, "")
    assert "  methods.required: 1 → 2" in out.splitlines()
    # Only a mail address: alice, the twins, obrien (an office phone, but office_call is not enabled).
    assert section(out, "lose self-service") == {"alice", "twin1", "twin2", "obrien"}
    assert "gain self-service: nobody" in out
    assert "WARNING: 4 user(s) would lose self-service" in out

    everyone = old.model_copy(update={"reset": old.reset.model_copy(update={"enabled_for": EnabledFor.ALL})})
    code, out, _ = diff(old, everyone)
    assert code == 0 and "lose self-service: nobody" in out
    assert section(out, "gain self-service") == {"erin"}  # outside the group, with a mail address
