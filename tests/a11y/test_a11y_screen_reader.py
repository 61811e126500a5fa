"""What a screen reader gets from the running kiosk, read from another process over the AT-SPI bus.

The kiosk runs on Xvfb with accessibility on (tests/a11y/kiosk_side.py); the reader is Debian's
python3-pyatspi on the system Python, as Orca uses it (tests/a11y/reader.py). Page by page through the
flows (reset by e-mail, questions and two gates, unlock, refused, error, change, registration), in
English and, after a switch in the header's picker, in Arabic, Hebrew and Dutch, it checks:

- every focusable control has a role and a name, in the page's language (by its script in Arabic and
  Hebrew; in Dutch, no name may be an English text the Dutch catalog translates);
- Tab visits the controls in reading order (right to left in Arabic and Hebrew), the language picker last;
- every text on screen reaches the reader (as a name, description or text); a picture is not an empty panel;
- the page title is a heading, and it and each field error reach the reader as they appear (an announcement);
- password, code and answer fields are password texts that never give their text away, typed or not;
- the idle warning takes the focus and is announced once, not every second.

Missing Xvfb, the accessibility bus or the reader fails the test (`make test-deps` installs them).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
from babel.messages.pofile import read_po
from desktop import REPO, Peer, desktop

Node = dict[str, Any]

FLOWS: dict[str, list[str]] = {
    "reset by e-mail": ["identify", "enter_code", "reset_or_unlock", "new_password", "done"],
    "questions, the second gate": ["choose_method", "answer_questions", "choose_method_unchosen"],
    "unlock": ["done_unlocked"],
    "refused and error": ["refused", "error"],
    "change": ["sign_in", "new_password_change", "done_changed"],
    "registration": [
        "sign_in_register", "reconfirm", "register_first_time", "register_contact_email", "register_verify",
        "register", "register_contact", "register_questions", "register_app", "done_registered",
    ],
}
PAGES = [page for pages in FLOWS.values() for page in pages]
SECRETS = {"enter_code": "48302917", "register_verify": "48302917", "register_app": "492113"}
"""Typed into each page's code fields; the others' password and answer fields get `SECRET`."""
SECRET = "tulip-harbor-93"
"""Typed into password and answer fields (plain keys: no Shift needed on any layout)."""
CUSTOM_QUESTION = "What was the name of our first office's coffee machine?"
"""A question the user wrote themselves (the sample's), in their own words: an answer field's name."""
SCRIPTS = {"ar": "ARABIC", "he": "HEBREW"}
"""The script every control's name is written in, by language (Latin-script languages are not told apart)."""
LANGUAGES = ["en", "ar", "he", "nl"]
"""English, both right-to-left languages, and a left-to-right one that a catalog (not the script) tells apart."""
LANGUAGE_NAMES = {"English", "Nederlands", "العربية", "עברית"}
OWN_NAMES = LANGUAGE_NAMES | {CUSTOM_QUESTION}
"""Languages named in their own language in the picker, and the user's own question: the same on every page."""
NON_CONTROL_ROLES = {"filler", "panel", "unknown", "invalid", "layered pane", "scroll pane"}
"""Roles that tell a reader nothing about a control (a focusable label is selectable text: a fine role)."""
QT_NOISE = (
    # at-spi2-core 2.46's registry asks every application for this; Qt answers that it has none.
    'does not implement "GetApplicationBusAddress"',
    # A secret field has no text interface (so nothing is read out): Qt's bridge drops the field's
    # typing events for want of one, and says so.
    "Received text event for invalid interface",
    # The reader asked about a control that a page had already replaced (its event was still on the bus).
    "Could not find accessible on path",
)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Peer, Peer]]:
    """The kiosk and the reader on a private display and accessibility bus, for the whole module."""
    with desktop(tmp_path_factory.mktemp("a11y")) as peers:
        yield peers


def kiosk_says(kiosk: Peer, cmd: str, **arguments: Any) -> dict[str, Any]:
    """A command to the kiosk; Qt's warnings (other than the known noise) fail the test."""
    reply = kiosk(cmd, **arguments)
    warnings = [text for text in reply.pop("warnings") if not any(noise in text for noise in QT_NOISE)]
    assert not warnings, f"Qt warned: {warnings}"
    return reply


def show(session: tuple[Peer, Peer], page: str) -> tuple[dict[str, Any], list[Node]]:
    """Render a page in the kiosk, first without its errors, then with them, as a person meets them; return
    the kiosk's facts and what the reader heard meanwhile."""
    kiosk, reader = session
    kiosk_says(kiosk, "show", page=page, errors=False)
    facts = kiosk_says(kiosk, "show", page=page)
    return facts, reader("events", settle=0.1)["events"]


def controls(tree: list[Node]) -> list[Node]:
    """The focusable controls a reader finds on screen."""
    return [node for node in tree if "focusable" in node["states"] and node["role"] != "list item"]


def spoken_name(node: Node) -> str:
    """What a reader says a control is called: its name, or (a combo box on Linux) its label's."""
    if node["role"] == "combo box":
        return " ".join(node["labelled_by"])
    return str(node["name"])


def in_script(text: str, script: str) -> bool:
    """True when `text` has a letter of `script` (ARABIC, HEBREW)."""
    return any(unicodedata.name(char, "").startswith(script) for char in text if char.isalpha())


def announced(events: list[Node], text: str) -> bool:
    """True when the reader heard `text` announced."""
    return any(event["type"] == "object:announcement" and event["data"] == text for event in events)


def letters(text: str) -> str:
    """The letters and digits of `text`, case-folded: what is said, whatever the spacing and punctuation."""
    return "".join(char for char in text.casefold() if char.isalnum())


def middle(extents: list[int]) -> tuple[float, float]:
    x, y, width, height = extents
    return x + width / 2, y + height / 2


def follows(before: Node, after: Node, rtl: bool) -> bool:
    """True when `after` comes after `before` in reading order: lower down, or on the same row further on."""
    (x1, y1), (x2, y2) = middle(before["extents"]), middle(after["extents"])
    _, top, _, height = after["extents"]
    _, top_before, _, height_before = before["extents"]
    same_row = top <= y1 <= top + height or top_before <= y2 <= top_before + height_before
    if same_row:
        return x2 < x1 if rtl else x2 > x1
    return y2 > y1


def left_in_english(language: str) -> set[str]:
    """English texts that `language` translates differently: a control named by one was not translated."""
    with (REPO / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    return {message.id for message in catalog if isinstance(message.id, str) and message.string not in ("", message.id)}


def check_page(session: tuple[Peer, Peer], page: str, language: str, *, tab: bool = True) -> list[str]:
    """Everything the reader checks on one page (Tab order too, with `tab`); returns the problems found."""
    _, reader = session
    problems: list[str] = []
    english = left_in_english(language) if language not in ("en", *SCRIPTS) else set()
    facts, events = show(session, page)
    where = f"{language} {page}"
    if page != "start" and not announced(events, facts["title"]):  # the start page is on show already
        problems.append(f"{where}: the title {facts['title']!r} was not announced")
    for error in facts["errors"]:
        if not announced(events, error):
            problems.append(f"{where}: the error {error!r} was not announced")
    tree = reader("tree")["tree"]
    texts = {str(node["name"]) for node in tree} | {str(node["text"]) for node in tree}
    if facts["title"] not in texts:
        problems.append(f"{where}: the title {facts['title']!r} is not in the reader's tree")
    elif not any(node["role"] == "heading" and node["name"] == facts["title"] for node in tree):
        problems.append(f"{where}: the title {facts['title']!r} is not a heading (a reader's H key skips it)")
    readable = [letters(" ".join(str(node[key] or "") for key in ("name", "description", "text"))) for node in tree]
    for text in facts["texts"]:
        if not any(letters(text) in said for said in readable):
            problems.append(f"{where}: the screen shows {text!r}, the reader never gets it")
    for node in tree:
        if node["role"] in ("filler", "panel") and node["name"] and not node["children"]:
            problems.append(f"{where}: {node['name']!r} is an empty {node['role']} to the reader (a picture?)")
    found = controls(tree)
    if not found:
        problems.append(f"{where}: no focusable control at all")
    for node in found:
        name = spoken_name(node).strip()
        label = f"{where}: {node['role']} {node['name']!r}"
        if node["role"] in NON_CONTROL_ROLES:
            problems.append(f"{label} is focusable but has no control role")
        if not name:
            problems.append(f"{label} has no name")
        elif language in SCRIPTS and name not in OWN_NAMES and not in_script(name, SCRIPTS[language]):
            problems.append(f"{label} is not named in {language}")
        elif language not in ("en", *SCRIPTS) and name in english:
            problems.append(f"{label} is named in English, not {language}")
    if tab:
        problems += check_focus_order(reader, facts, where)
    return problems


def check_focus_order(reader: Peer, facts: dict[str, Any], where: str) -> list[str]:
    """Tab visits the page's controls, then Back and Cancel, in reading order; the language picker last."""
    stops = reader("tab_cycle")["stops"]
    pickers = [index for index, stop in enumerate(stops) if stop["name"] in LANGUAGE_NAMES]
    if len(pickers) != 1:
        return [f"{where}: the Tab cycle has {len(pickers)} language pickers: {[s['name'] for s in stops]}"]
    # The cycle read from just after the picker: the page's first control first, the picker last.
    cycle = stops[pickers[0] + 1:] + stops[: pickers[0] + 1]
    problems = []
    for before, after in pairwise(cycle[:-1]):
        if not follows(before, after, facts["rtl"]):
            problems.append(
                f"{where}: Tab goes from {before['role']} {before['name']!r} {before['extents']} back to "
                f"{after['role']} {after['name']!r} {after['extents']}"
            )
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_reads_in_order_with_names_titles_and_errors(session: tuple[Peer, Peer], language: str) -> None:
    """Walk every flow's pages in `language` (chosen in the header's picker on the start page); Tab's order
    in English and the right-to-left languages (Dutch lays out as English does)."""
    kiosk, reader = session
    problems: list[str] = []
    facts, _ = show(session, "start")
    if language != "en":
        facts = kiosk_says(kiosk, "language", tag=language)
        tree = reader("tree", settle=0.1)["tree"]
        frame = next(node for node in tree if node["role"] == "frame")
        assert frame["name"] not in left_in_english(language), frame
        assert facts["rtl"] is (language in SCRIPTS)
    tab = language == "en" or language in SCRIPTS
    problems += check_page(session, "start", language, tab=tab)
    for page in PAGES:
        problems += check_page(session, page, language, tab=tab)
    assert not problems, "the screen reader found:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", ["enter_code", "answer_questions", "new_password", "sign_in", "register_verify",
                                  "register_questions", "register_app"])
def test_secret_fields_are_password_texts_that_never_give_their_text_away(
    session: tuple[Peer, Peer], page: str
) -> None:
    """Type into every password, code and answer field with real keys: the reader never gets the text."""
    kiosk, reader = session
    facts, _ = show(session, page)
    assert facts["secrets"] > 0, page
    heard: list[Node] = []
    secret = SECRETS.get(page, SECRET)
    for index in range(facts["secrets"]):
        kiosk_says(kiosk, "focus_secret", index=index)
        reader("keys", keys=list(secret))
        assert kiosk_says(kiosk, "secret_text", index=index)["text"] == secret, "the typed keys did not arrive"
        heard += reader("events", settle=0.1)["events"]
    tree = reader("tree")["tree"]
    fields = [node for node in tree if "editable" in node["states"]]
    secrets = [node for node in fields if node["role"] == "password text"]
    assert len(secrets) == facts["secrets"], [(node["role"], node["name"]) for node in fields]
    for node in secrets:
        assert node["name"].strip(), node
        assert node["text"] in (None, ""), node
        assert node["value"] in (None, 0.0), node
    leaks = [node for node in tree if secret[:5] in json.dumps(node, ensure_ascii=False)]
    assert not leaks, leaks
    leaks = [event for event in heard if secret[:5] in json.dumps(event, ensure_ascii=False)]
    assert not leaks, leaks


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_idle_countdown_is_announced_once_not_every_second(session: tuple[Peer, Peer], language: str) -> None:
    """The warning takes the focus and is announced as it appears; its ticking is not announced."""
    kiosk, reader = session
    show(session, "start")
    if language != "en":
        kiosk_says(kiosk, "language", tag=language)
    show(session, "enter_code")
    first = kiosk_says(kiosk, "idle", seconds=31)
    assert first["shown"] and first["seconds_left"] == 29
    heard = reader("events", settle=0.1)["events"]
    ticking: list[Node] = []
    for _ in range(8):  # 28 … 21 seconds left
        seconds = kiosk_says(kiosk, "idle", seconds=1)
        ticking += reader("events", settle=0.1)["events"]
    assert seconds["seconds_left"] == 21 and seconds["message"] != first["message"]
    announcements = [event["data"] for event in heard + ticking if event["type"] == "object:announcement"]
    assert announcements == [first["message"]], announcements
    focus = [event for event in heard if event["type"] == "object:state-changed:focused" and event["detail1"]]
    assert focus and focus[-1]["role"] == "push button", focus
    if language in SCRIPTS:
        assert in_script(focus[-1]["name"], SCRIPTS[language]), focus[-1]
    # A reader speaks every change to the focused control: the ticking must not touch it.
    spoken = [event for event in ticking if event["name"] == focus[-1]["name"] and event["role"] == "push button"]
    assert not spoken, spoken
    assert not [event for event in ticking if event["type"] == "object:state-changed:focused"]
    reader("keys", keys=[" "])  # "I need more time", pressed
    assert not kiosk_says(kiosk, "idle", seconds=0)["shown"]
