"""The wizard's pages and the registry that maps each StepKind to its page class.

A page's module is imported when its page is first asked for: start-up imports the start page's
alone, so the first paint does not wait for sixteen pages nobody sees yet (bench/startup.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from kiosk.flows.steps import StepKind
from kiosk.ui.pages.base import Page, PageContext, Request

_PAGE_CLASSES: dict[StepKind, str] = {
    StepKind.START: "start:StartPage",
    StepKind.IDENTIFY: "identify:IdentifyPage",
    StepKind.REFUSED: "refused:RefusedPage",
    StepKind.CHOOSE_METHOD: "choose_method:ChooseMethodPage",
    StepKind.ENTER_CODE: "enter_code:EnterCodePage",
    StepKind.ANSWER_QUESTIONS: "answer_questions:AnswerQuestionsPage",
    StepKind.RESET_OR_UNLOCK: "reset_or_unlock:ResetOrUnlockPage",
    StepKind.NEW_PASSWORD: "new_password:NewPasswordPage",
    StepKind.DONE: "done:DonePage",
    StepKind.ERROR: "error:ErrorPage",
    StepKind.SIGN_IN: "sign_in:SignInPage",
    StepKind.RECONFIRM: "reconfirm:ReconfirmPage",
    StepKind.REGISTER: "register:RegisterPage",
    StepKind.REGISTER_CONTACT: "register_contact:RegisterContactPage",
    StepKind.REGISTER_VERIFY: "register_verify:RegisterVerifyPage",
    StepKind.REGISTER_QUESTIONS: "register_questions:RegisterQuestionsPage",
    StepKind.REGISTER_APP: "register_app:RegisterAppPage",
}


class _PageRegistry(Mapping[StepKind, type[Page]]):
    """StepKind → page class, importing the page's module on first use."""

    def __getitem__(self, kind: StepKind) -> type[Page]:
        module, name = _PAGE_CLASSES[kind].split(":")
        page = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        assert isinstance(page, type) and issubclass(page, Page) and page.kind is kind, (kind, page)
        return page

    def __iter__(self) -> Iterator[StepKind]:
        return iter(_PAGE_CLASSES)

    def __len__(self) -> int:
        return len(_PAGE_CLASSES)


PAGES: Mapping[StepKind, type[Page]] = _PageRegistry()
"""Every StepKind's page class: the window builds one instance of each, on first use."""

assert set(_PAGE_CLASSES) == set(StepKind), "every StepKind needs a page"


def import_pages() -> None:
    """Import every page's module (no widget is built): run on a worker thread once the kiosk is up, so
    a page's first showing does not pay for its import on the UI thread."""
    for kind in _PAGE_CLASSES:
        PAGES[kind]

__all__ = ["PAGES", "Page", "PageContext", "Request", "import_pages"]
