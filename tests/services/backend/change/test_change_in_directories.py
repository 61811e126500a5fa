"""How the directories' answers to a user's own change are read (no server: the live runs are in
tests/services/backend/directories/test_live_change.py), and the embedded directory's change itself."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.policy.password import PasswordRule
from kiosk.services.backend import Backend
from kiosk.services.backend.directory.active_directory import _raise_write_error
from kiosk.services.backend.directory.errors import (
    PasswordRefused,
    WriteFailed,
    WrongCurrentPassword,
    change_required,
)

from ..conftest import DEMO_PASSWORD, GOOD_PASSWORD

# Samba 4.17's messages, as measured (Windows AD's differ only in the DSID and version).
BIND_MUST_CHANGE = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 773, v1db1"
BIND_EXPIRED = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 532, v1db1"
BIND_WRONG = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1"
BIND_LOCKED = "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 775, v1db1"


def test_only_must_change_and_expired_binds_count_as_the_right_password() -> None:
    assert change_required(BIND_MUST_CHANGE) and change_required(BIND_EXPIRED)
    assert not change_required(BIND_WRONG) and not change_required(BIND_LOCKED) and not change_required("")


@given(st.text(max_size=200))
def test_no_other_message_counts_as_the_right_password(message: str) -> None:
    assert change_required(message) == any(code in message.casefold() for code in ("data 773", "data 532"))


def _refusal(description: str, message: str) -> Exception:
    try:
        _raise_write_error(SimpleNamespace(description=description, message=message))
    except Exception as error:  # noqa: BLE001 - the mapped error is what is looked at
        return error
    raise AssertionError("no error raised")


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("0000052D: Constraint violation - check_password_restrictions: password is too young to change!",
         PasswordRule.DIRECTORY_TOO_YOUNG),
        ("0000052D: Constraint violation - check_password_restrictions: the password was already used (in history)!",
         PasswordRule.DIRECTORY_HISTORY),
        ("0000052D: Constraint violation - check_password_restrictions: the password does not meet the complexity "
         "criteria!", PasswordRule.DIRECTORY_COMPLEXITY),
        ("0000052D: AtrErrConstraintViolation: DSID-03191083, problem 1005 (CONSTRAINT_ATT_TYPE), data 0",
         PasswordRule.DIRECTORY_POLICY),  # Windows AD says no more than that
    ],
)  # fmt: skip
def test_the_domains_refusals_of_a_change_keep_their_reason(message: str, rule: PasswordRule) -> None:
    refused = _refusal("constraintViolation", message)
    assert isinstance(refused, PasswordRefused) and refused.rule is rule


def test_a_wrong_old_password_is_no_password_refusal() -> None:
    message = "00000056: Constraint violation - check_password_restrictions: The old password specified doesn't match!"
    assert isinstance(_refusal("constraintViolation", message), WrongCurrentPassword)


def test_samba_acl_refusal_is_a_rights_problem() -> None:
    refused = _refusal("constraintViolation", "error in module acl: Constraint violation during LDB_MODIFY (19)")
    assert isinstance(refused, WriteFailed) and refused.result == "insufficientAccessRights"


async def test_the_embedded_change_checks_the_current_password(backend: Backend) -> None:
    directory = backend.directory
    with pytest.raises(WrongCurrentPassword):
        await directory.change_password("emma", "Not-Her-Password-1", GOOD_PASSWORD)
    assert await directory.verify_password("emma", DEMO_PASSWORD)
    await backend.directory.set_locked("emma", True)
    await directory.change_password("emma", DEMO_PASSWORD, GOOD_PASSWORD)
    assert await directory.verify_password("emma", GOOD_PASSWORD)
    assert await directory.is_locked("emma")  # a change is no unlock
    assert await directory.password_recently_used("emma", DEMO_PASSWORD, 5)  # the old one is history now


async def test_of_two_racing_changes_only_one_lands(backend: Backend) -> None:
    directory = backend.directory
    results = await asyncio.gather(
        directory.change_password("emma", DEMO_PASSWORD, GOOD_PASSWORD),
        directory.change_password("emma", DEMO_PASSWORD, "Copper-Willow-Tundra-58"),
        return_exceptions=True,
    )
    assert sorted(type(result).__name__ for result in results) == ["NoneType", "WrongCurrentPassword"]
    winner = GOOD_PASSWORD if results[0] is None else "Copper-Willow-Tundra-58"
    assert await directory.verify_password("emma", winner)
