"""The wizard's pages and the registry that maps each StepKind to its page class."""

from __future__ import annotations

from kiosk.flows.steps import StepKind
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.base import Page, PageContext, Request
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.error import ErrorPage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.reconfirm import ReconfirmPage
from kiosk.ui.pages.refused import RefusedPage
from kiosk.ui.pages.register import RegisterPage
from kiosk.ui.pages.register_app import RegisterAppPage
from kiosk.ui.pages.register_contact import RegisterContactPage
from kiosk.ui.pages.register_questions import RegisterQuestionsPage
from kiosk.ui.pages.register_verify import RegisterVerifyPage
from kiosk.ui.pages.reset_or_unlock import ResetOrUnlockPage
from kiosk.ui.pages.sign_in import SignInPage
from kiosk.ui.pages.start import StartPage

PAGES: dict[StepKind, type[Page]] = {
    page.kind: page
    for page in (
        StartPage,
        IdentifyPage,
        RefusedPage,
        ChooseMethodPage,
        EnterCodePage,
        AnswerQuestionsPage,
        ResetOrUnlockPage,
        NewPasswordPage,
        DonePage,
        ErrorPage,
        SignInPage,
        ReconfirmPage,
        RegisterPage,
        RegisterContactPage,
        RegisterVerifyPage,
        RegisterQuestionsPage,
        RegisterAppPage,
    )
}
"""Every StepKind's page class: the window builds one instance of each."""

assert set(PAGES) == set(StepKind), "every StepKind needs a page"

__all__ = ["PAGES", "Page", "PageContext", "Request"]
