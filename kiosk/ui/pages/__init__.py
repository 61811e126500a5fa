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
from kiosk.ui.pages.refused import RefusedPage
from kiosk.ui.pages.reset_or_unlock import ResetOrUnlockPage
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
    )
}
"""Every StepKind's page class: the window builds one instance of each."""

assert set(PAGES) == set(StepKind), "every StepKind needs a page"

__all__ = ["PAGES", "Page", "PageContext", "Request"]
