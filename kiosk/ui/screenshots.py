"""Render every page (and the demo inbox) to PNG from sample Steps, with no backend: `render_all`.

Run `python -m kiosk.ui.screenshots OUT_DIR [LANGUAGE]` to look at the product, or use it in tests.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.flows.mapping import CHANGE_UNCONFIRMED
from kiosk.flows.steps import (
    Answer,
    AnswerQuestionsData,
    ChooseMethodData,
    DoneData,
    DoneOutcome,
    EnterCodeData,
    ErrorData,
    FieldError,
    GateProgress,
    Helpdesk,
    IdentifyData,
    MethodChoice,
    NewPasswordData,
    Question,
    RefusedData,
    RegisterContactData,
    ResetOrUnlockData,
    StartData,
    Step,
    StepKind,
)
from kiosk.i18n import current_language, set_language
from kiosk.policy.password import PasswordCheck, PasswordRules, check_password
from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Authenticator, AuthenticatorCode, Flow, Outbox, OutboxMessage, RegistrationKind
from kiosk.services.diagnosis import CheckResult, CheckStatus, DiagnosticReport
from kiosk.ui.demo_inbox import DemoInboxWindow
from kiosk.ui.diagnostics_page import DiagnosticsPanel
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.register_contact import RegisterContactPage
from kiosk.ui.pages.register_questions import RegisterQuestionsPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.registration_samples import registration_steps, registration_variants
from kiosk.ui.theme import apply_theme
from kiosk.ui.window import KioskWindow, offered_flows

SIZE = (1024, 768)
SAMPLE_NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def sample_captcha_png(text: str = "7KX4P") -> bytes:
    """A CAPTCHA-like PNG drawn with Qt (the real one comes from the backend)."""
    image = QImage(240, 90, QImage.Format.Format_RGB32)
    image.fill(QColor("#f4f4f4"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#9aa5b1"), 2))
    for index in range(6):
        painter.drawLine(QPointF(0, 12 + index * 14), QPointF(240, 80 - index * 11))
    font = QFont("DejaVu Sans Mono")
    font.setPixelSize(46)
    font.setBold(True)
    painter.setFont(font)
    for index, char in enumerate(text):
        painter.save()
        painter.translate(24 + index * 42, 64)
        painter.rotate((-1) ** index * 12)
        painter.setPen(QColor(("#2b4c7e", "#7e2b4c", "#2b7e4c")[index % 3]))
        painter.drawText(0, 0, char)
        painter.restore()
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the 6.12 stubs say bytes; runtime wants str
    return bytes(data.data())


def sample_steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind, as the engine would produce them."""
    rules = PasswordRules.from_policy(policy)
    desk = policy.kiosk.helpdesk
    helpdesk = Helpdesk(
        text=desk.text,
        phone=desk.phone or "+31 20 555 0100",
        url=desk.url or "https://help.contoso.example",
        email=desk.email or "servicedesk@contoso.example",
    )
    return {
        StepKind.START: Step(
            StepKind.START, StartData(organisation=policy.kiosk.branding.organisation, flows=offered_flows(policy))
        ),
        StepKind.IDENTIFY: Step(
            StepKind.IDENTIFY,
            IdentifyData(captcha_png=sample_captcha_png(), user_id="adele.vance@contoso.com"),
            errors=(FieldError("captcha", "captcha_wrong"),),
        ),
        StepKind.REFUSED: Step(
            StepKind.REFUSED, RefusedData(reason="too_few_methods", reference="R-7Q4M-2KXD", helpdesk=helpdesk)
        ),
        StepKind.CHOOSE_METHOD: Step(
            StepKind.CHOOSE_METHOD,
            ChooseMethodData(
                # The second gate: after a first one, contacts are shown masked (before it, every
                # user ID sees the policy's methods without contacts).
                gate=GateProgress(number=2, required=2),
                methods=(
                    MethodChoice(Method.EMAIL, "a•••••@contoso.com"),
                    MethodChoice(Method.MOBILE_SMS, "+31 •• ••• ••78"),
                    MethodChoice(Method.SECURITY_QUESTIONS),
                ),
            ),
            can_go_back=False,  # a passed gate is not undone
        ),
        StepKind.ENTER_CODE: Step(
            StepKind.ENTER_CODE,
            EnterCodeData(
                # A first gate: no contact is named, so a stranger cannot tell accounts apart.
                gate=GateProgress(number=1, required=1),
                method=Method.EMAIL,
                masked_target=None,
                attempts_left=3,
                code_length=8,
                expires_at=SAMPLE_NOW + timedelta(minutes=4, seconds=10),
                can_resend=True,
                can_choose_other=True,
            ),
            errors=(FieldError("code", "code_wrong", attempts_left=3),),
            can_go_back=True,
        ),
        StepKind.ANSWER_QUESTIONS: Step(
            StepKind.ANSWER_QUESTIONS,
            AnswerQuestionsData(
                gate=GateProgress(number=2, required=2),
                questions=(
                    Question("q1", predefined_id="first_pet"),
                    Question("q2", predefined_id="city_mother_born"),
                    Question("q3", custom_text="What was the name of our first office's coffee machine?"),
                ),
                can_choose_other=True,
            ),
            can_go_back=True,
        ),
        StepKind.RESET_OR_UNLOCK: Step(StepKind.RESET_OR_UNLOCK, ResetOrUnlockData(display_name="Adele Vance")),
        StepKind.NEW_PASSWORD: Step(
            StepKind.NEW_PASSWORD,
            NewPasswordData(rules=rules, user_names=("adele.vance", "Adele Vance"), rejected=("not_recent",)),
        ),
        StepKind.DONE: Step(
            StepKind.DONE, DoneData(outcome=DoneOutcome.RESET, countdown_seconds=policy.kiosk.done_countdown_seconds)
        ),
        StepKind.ERROR: Step(StepKind.ERROR, ErrorData(code="service_unavailable", correlation_id="c0ffee42-9b1d")),
        **registration_steps(sample_captcha_png(), SAMPLE_NOW),
    }


def sample_variants(policy: Policy) -> dict[str, Step]:
    """Other faces of the pages worth a screenshot (besides one per kind), by file name."""
    steps = sample_steps(policy)
    organisation = policy.kiosk.branding.organisation
    return {
        "start_recover_only": Step(StepKind.START, StartData(organisation=organisation, flows=(Flow.RECOVER,))),
        **registration_variants(steps, PasswordRules.from_policy(policy), policy.kiosk.done_countdown_seconds),
    }


class ScreenshotFakeEngine:
    """A stand-in engine for screenshots only: shows a fixed Step and checks passwords locally."""

    def __init__(self, step: Step, rules: PasswordRules, user_names: tuple[str, ...]) -> None:
        self.step = step
        self._rules = rules
        self._user_names = user_names

    def check_password(self, password: str) -> PasswordCheck:
        """The real local rule check, as the engine does it."""
        return check_password(password, self._rules, self._user_names)

    async def submit(self, answer: Answer) -> Step:
        """Screenshots never move on: the same Step again."""
        return self.step

    async def back(self) -> Step:
        """The same Step again."""
        return self.step

    async def cancel(self) -> Step:
        """The same Step again."""
        return self.step

    async def restart(self) -> Step:
        """The same Step again."""
        return self.step

    async def retry(self) -> Step:
        """The same Step again."""
        return self.step

    async def refresh_captcha(self) -> Step:
        """The same Step again."""
        return self.step

    async def captcha_audio(self) -> bytes:
        """No audio in screenshots."""
        return b""

    async def resend_code(self) -> Step:
        """The same Step again."""
        return self.step


async def _nothing_to_close() -> None:
    return None


def _grab(widget: QWidget, path: Path) -> Path:
    QApplication.processEvents()
    widget.grab().save(str(path), "PNG")
    return path


def _sample_inbox() -> tuple[Outbox, Authenticator]:
    sent = SAMPLE_NOW
    outbox = Outbox(messages=(
        OutboxMessage(id=1, channel=Method.EMAIL, to="adele.vance@contoso.com", subject="Your Contoso account code",
                      body="Use 48302917 to verify it's you. The code expires in 5 minutes.", sent_at=sent),
        OutboxMessage(id=2, channel=Method.MOBILE_SMS, to="+31 6 1234 5678", subject="SMS",
                      body="Contoso code: 55120384", sent_at=sent + timedelta(minutes=1)),
    ))
    authenticator = Authenticator(codes=(
        AuthenticatorCode(user_id="adele.vance@contoso.com", code="492 113", seconds_left=17),
        AuthenticatorCode(user_id="alex.wilber@contoso.com", code="880 245", seconds_left=17),
    ))
    return outbox, authenticator


def render_all(out_dir: Path, policy: Policy, *, language: str = "en") -> list[Path]:
    """Render every StepKind to `<kind>.png` and the variants to `<name>.png`, the idle warning, the
    administrator prompt and diagnostics page, the on-screen keyboard and the demo inbox; returns the paths."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "render_all needs a QApplication"
    out_dir.mkdir(parents=True, exist_ok=True)
    apply_theme(app, policy.kiosk.branding.accent_color, policy.kiosk.theme)
    paths: list[Path] = []
    rules = PasswordRules.from_policy(policy)
    window = KioskWindow(policy, demo=policy.demo, now=lambda: SAMPLE_NOW)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.resize(*SIZE)
    window.show()
    try:
        window.set_language(language)
        shots = {kind.value: step for kind, step in sample_steps(policy).items()} | sample_variants(policy)
        for name, step in shots.items():
            engine = ScreenshotFakeEngine(step, rules, ("adele.vance", "Adele Vance"))
            window.attach(KioskServices(flow=engine, demo_feed=None, close=_nothing_to_close))
            if current_language() != language:
                window.set_language(language)  # a start page puts the kiosk back in its own language
            fill_sample_inputs(window.current_page)
            paths.append(_grab(window, out_dir / f"{name}.png"))
        paths.append(_render_busy_retrying(window, policy, out_dir))
        paths.append(_render_change_unconfirmed(window, out_dir))
        window.render_step(sample_steps(policy)[StepKind.IDENTIFY])
        window.idle_warning.show_seconds(23)
        paths.append(_grab(window, out_dir / "idle_warning.png"))
        window.idle_warning.dismiss()
        window.admin_prompt.open_prompt(can_exit=True, can_diagnose=True)
        paths.append(_grab(window, out_dir / "admin_prompt.png"))
        window.admin_prompt.close_prompt()
        paths.append(_render_diagnostics(window, out_dir))
        paths.extend(_render_keyboard(out_dir, policy, rules, language))
        inbox = DemoInboxWindow()
        inbox.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        inbox.show()
        outbox, authenticator = _sample_inbox()
        inbox.show_outbox(outbox)
        inbox.show_authenticator(authenticator)
        paths.append(_grab(inbox, out_dir / "demo_inbox.png"))
        inbox.close()
        inbox.deleteLater()
    finally:
        window.current_page.leave()
        window.close()
        window.deleteLater()
        set_language("en")
    return paths


def fill_sample_inputs(page: QWidget) -> None:
    """Type what a user would have typed by the time of the screenshot."""
    if isinstance(page, NewPasswordPage):
        page.password.edit.setText("Summer2025!")
        page.confirm.edit.setText("Summer2025")
        page.run_check(wait=True)
    elif isinstance(page, RegisterQuestionsPage):
        for row, answer in zip(page.rows, ("Rex the dog", "Nu", "Klaas"), strict=False):
            row.answer.edit.setText(answer)
        page.clear_field_errors()
        page.show_step(page.step, fresh=False)  # the sample's field error, over what was typed


def _render_busy_retrying(window: KioskWindow, policy: Policy, out_dir: Path) -> Path:
    """The new-password page while its call waits to try again: the backend answered `busy`."""
    window.render_step(sample_steps(policy)[StepKind.NEW_PASSWORD])
    window._show_busy(True)  # what an engine call in flight shows (no call runs here)
    window.show_retrying(True)
    try:
        return _grab(window, out_dir / "busy_retrying.png")
    finally:
        window.show_retrying(False)
        window._show_busy(False)


def _render_change_unconfirmed(window: KioskWindow, out_dir: Path) -> Path:
    """The error page after a new password's answer was lost on every try: it may have been changed."""
    step = Step(StepKind.ERROR, ErrorData(code=CHANGE_UNCONFIRMED, correlation_id="kiosk-5e1f0c2a9b7d"))
    window.render_step(step)
    return _grab(window, out_dir / "error_change_unconfirmed.png")


def sample_report() -> DiagnosticReport:
    """A diagnostics report as `kiosk diagnose` gives it for a typical deployment (one of each status)."""
    checks = (
        CheckResult("policy", CheckStatus.OK, r"C:\ProgramData\Contoso\Kiosk\policy.toml: valid"),
        CheckResult("backend", CheckStatus.OK, r"embedded: store C:\ProgramData\Contoso\Kiosk\kiosk.sqlite3 opens, "
                    "is intact and writable (812 KiB)"),
        CheckResult("directory TLS dc1.contoso.com:636", CheckStatus.WARN, "ldaps://dc1.contoso.com: connected in "
                    "14 ms; TLSv1.3, certificate verified (CN=dc1.contoso.com), valid until 2025-04-02 08:00 UTC "
                    "(18 days left)", "renew the server's certificate (warned under 30 days)"),
        CheckResult("directory bind dc1.contoso.com:636", CheckStatus.OK, "bound as the service account "
                    "kiosk-service@contoso.com"),
        CheckResult("directory base DN dc1.contoso.com:636", CheckStatus.OK, "found: DC=contoso,DC=com; "
                    "OU=Staff,DC=contoso,DC=com"),
        CheckResult("SMTP connection smtp.contoso.com:587", CheckStatus.OK, "greeting and EHLO in 31 ms: "
                    "smtp.contoso.com ESMTP ready"),
        CheckResult("SMTP TLS smtp.contoso.com:587", CheckStatus.OK, "STARTTLS, TLSv1.3, certificate verified "
                    "(CN=smtp.contoso.com), valid until 2025-11-30 23:59 UTC (261 days left)"),
        CheckResult("SMTP login smtp.contoso.com:587", CheckStatus.FAIL, "the login was refused",
                    "store the right password with `kiosk secrets set smtp`"),
        CheckResult("gateway", CheckStatus.SKIP, 'not configured (delivery.gateway.kind = "none"): no SMS or voice '
                    "calls"),
        CheckResult("keyring", CheckStatus.OK, "backend: Windows WinVaultKeyring"),
        CheckResult("clock", CheckStatus.OK, "within a second of the directory's currentTime (ldaps://dc1.contoso.com)"),
    )
    return DiagnosticReport(checks=checks, started_at=SAMPLE_NOW, seconds=0.4)


async def _no_diagnose() -> DiagnosticReport:
    return sample_report()


def _render_diagnostics(window: KioskWindow, out_dir: Path) -> Path:
    """The administrator's diagnostics page showing the sample report."""
    root = window.centralWidget()
    assert root is not None
    panel = DiagnosticsPanel(root, _no_diagnose)
    try:
        panel.retranslate()
        panel.open()
        panel.show_report(sample_report())
        QApplication.processEvents()  # the rows' heights settle once their width is known
        return _grab(window, out_dir / "diagnostics.png")
    finally:
        panel.close_panel()
        panel.deleteLater()


def _render_keyboard(out_dir: Path, policy: Policy, rules: PasswordRules, language: str) -> list[Path]:
    """A touch kiosk: the password page with the keyboard, and the phone number page with the dial pad."""
    touch = policy.model_copy(update={"kiosk": policy.kiosk.model_copy(update={"on_screen_keyboard": True})})
    window = KioskWindow(touch, demo=touch.demo, now=lambda: SAMPLE_NOW)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.resize(*SIZE)
    window.show()
    try:
        window.set_language(language)
        step = sample_steps(touch)[StepKind.NEW_PASSWORD]
        window.attach(KioskServices(
            flow=ScreenshotFakeEngine(step, rules, ("adele.vance", "Adele Vance")), demo_feed=None,
            close=_nothing_to_close,
        ))
        page = window.current_page
        assert isinstance(page, NewPasswordPage) and window.keyboard is not None
        page.password.edit.setText("Summer2025!")
        page.password.edit.setFocus()
        window.keyboard.attach(page.password.edit)  # offscreen windows get no focus-change events
        paths = [_grab(window, out_dir / "keyboard.png")]
        phone = Step(StepKind.REGISTER_CONTACT, RegisterContactData(kind=RegistrationKind.PHONE, value="+31 6 12"))
        window.render_step(phone)
        contact = window.current_page
        assert isinstance(contact, RegisterContactPage)
        contact.contact.edit.setFocus()
        window.keyboard.attach(contact.contact.edit)
        paths.append(_grab(window, out_dir / "keyboard_phone.png"))
        return paths
    finally:
        window.current_page.leave()
        window.close()
        window.deleteLater()


def render_screenshots(out_dir: Path, policy: Policy, *, language: str = "en") -> list[Path]:
    """`kiosk screenshots`: render every page offscreen, creating the QApplication if there is none."""
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    return render_all(out_dir, policy, language=language)
