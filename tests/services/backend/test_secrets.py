"""No secret ever leaks: whole flows with sentinel secrets, then the audit, the logs, every response body
and the raw database file are searched for them."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from kiosk.policy.schema import Method
from kiosk.services.backend import Backend
from kiosk.services.backend.directory.embedded import DirectoryUser, RegisteredQuestion
from kiosk.services.backend.hashing import hash_secret
from kiosk.services.backend.recovery.questions import normalize_answer

from .conftest import Kiosk

ANSWERS = {
    "first_pet": "Sentinel-Answer-Pet",
    "first_school": "Sentinel-Answer-School",
    "childhood_nickname": "Sentinel-Answer-Nick",
}
WRONG_ANSWER = "Sentinel-Wrong-Answer"
WEAK_PASSWORD = "sentinelweak"
NEW_PASSWORD = "Sentinel-Passw0rd-Zebra-Quartz"
TYPED_USER_ID = "Sentinel-Typed-Hunter2"
INITIAL_PASSWORD = "Sentinel-Initial-Passw0rd"


async def _add_sentinel_user(backend: Backend) -> DirectoryUser:
    questions = [
        RegisteredQuestion(question_id, None, await hash_secret(normalize_answer(answer)))
        for question_id, answer in ANSWERS.items()
    ]
    emma = await backend.directory.find_user("emma")
    assert emma is not None
    user = dataclasses.replace(
        emma,
        login="sam",
        display_name="Sam Rivers",
        aliases=("sam@contoso.com",),
        auth_email="sam@contoso.com",
        groups=("SSPR-Users", "Finance"),
        totp_secret="JBSWY3DPEHPK3PXPSENTINEL",
        questions=tuple(questions),
    )
    await backend.directory.add_user(user, await hash_secret(INITIAL_PASSWORD))
    return user


@pytest.mark.sqlite_file  # scans the SQLite file's bytes
async def test_no_secret_in_audit_logs_responses_or_database(
    kiosk: Kiosk, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = await _add_sentinel_user(backend)
    secrets: list[str] = [*ANSWERS.values(), WRONG_ANSWER, WEAK_PASSWORD, NEW_PASSWORD, TYPED_USER_ID]
    secrets += [INITIAL_PASSWORD, user.totp_secret]
    tokens: list[str] = []
    codes: list[str] = []

    # An unknown user id that looks like a password, and a wrong CAPTCHA.
    tokens.append((await kiosk.open()).token)
    await kiosk.request("POST", "/session/identify", {"user_id": TYPED_USER_ID, "captcha": "x"})
    await kiosk.identify(TYPED_USER_ID)

    # Two gates: e-mail (a wrong code first) and questions (wrong answers first); a weak, then a good password.
    tokens.append((await kiosk.open()).token)
    await kiosk.identify("sam")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    codes.append(code)
    wrong_code = code[:-1] + str((int(code[-1]) + 1) % 10)
    codes.append(wrong_code)
    await kiosk.request("POST", "/session/code", {"code": wrong_code})
    await kiosk.code(code)
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    await kiosk.request(
        "POST", "/session/answers", {"answers": [{"id": q.id, "answer": WRONG_ANSWER} for q in view.questions]}
    )
    assert (await kiosk.answer(view, ANSWERS)).status_code == 200
    await kiosk.password(WEAK_PASSWORD)
    assert (await kiosk.password(NEW_PASSWORD)).status_code == 200
    await kiosk.request("DELETE", "/session")

    # The authenticator app, with a replay.
    tokens.append((await kiosk.open()).token)
    await kiosk.identify("sam")
    app_code = await kiosk.app_code("sam")
    codes.append(app_code)
    await kiosk.choose(Method.APP_CODE)
    await kiosk.code(app_code)
    tokens.append((await kiosk.open()).token)
    await kiosk.identify("sam")
    await kiosk.choose(Method.APP_CODE)
    await kiosk.request("POST", "/session/code", {"code": app_code})

    audit_text = "\n".join(repr(record) for record in await backend.audit_records())
    assert "sam" in audit_text and "gate_passed" in audit_text  # the audit did record the flows
    database = backend.database.read_bytes()
    for secret in [*secrets, *tokens, *codes]:
        assert secret not in audit_text, "secret in audit"
        assert secret not in caplog.text, "secret in logs"
    for secret in [*ANSWERS.values(), WRONG_ANSWER, WEAK_PASSWORD, NEW_PASSWORD, INITIAL_PASSWORD, *tokens]:
        assert secret.encode() not in database, "secret stored in clear"
    for response in kiosk.responses:
        body = response.text
        for secret in secrets:
            assert secret not in body, f"secret in the body of {response.request.url.path}"
        for token in tokens:
            if response.request.url.path != "/v1/sessions":  # the one place a token is handed out
                assert token not in body, f"token in the body of {response.request.url.path}"
        for leaked in codes:
            assert leaked not in body, f"code in the body of {response.request.url.path}"
