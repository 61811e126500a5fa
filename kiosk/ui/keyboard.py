"""An on-screen keyboard and keypad for touch kiosks: Qt widgets do not summon the OS touch keyboard.

It types into the focused line edit by sending it ordinary key events, so validators, max length,
password echo and Enter-to-submit behave exactly as with a hardware keyboard. Its keys never take
the focus, it has no preview line (a password or code is never shown by the keyboard), and it keeps
the physical key order in right-to-left layouts (a keyboard row is not mirrored).

Languages written in another alphabet (Arabic, Hebrew, Greek, Cyrillic) get their national letter
layout besides Latin, with a key that switches between the two: an answer to a security question
is typed in the user's own script, while user IDs are mostly Latin. Languages that need an input
method (Chinese, Japanese, Korean) or whose layouts compose characters (Thai, Hindi) get Latin only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _

KEY_SIZE_PX = 52
"""Keys are at least this tall and wide: above the 48 px touch target."""

DIGIT_HINTS = (
    Qt.InputMethodHint.ImhDigitsOnly
    | Qt.InputMethodHint.ImhFormattedNumbersOnly
    | Qt.InputMethodHint.ImhDialableCharactersOnly
)


class KeyKind(StrEnum):
    """What a key does."""

    CHAR = "char"
    SHIFT = "shift"
    BACKSPACE = "backspace"
    SPACE = "space"
    ENTER = "enter"
    SYMBOLS = "symbols"
    LETTERS = "letters"
    SCRIPT = "script"
    """Switches between the Latin letters and the language's own alphabet."""


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One key: its kind, the character it types (CHAR keys) and its width in key units."""

    kind: KeyKind
    char: str = ""
    width: int = 1


def _chars(text: str) -> list[KeySpec]:
    return [KeySpec(KeyKind.CHAR, char) for char in text]


def _bottom_row(*, script_key: bool) -> list[KeySpec]:
    """@, space, . - _ and Enter; with a script-switch key the space bar is one unit shorter."""
    switch = [KeySpec(KeyKind.SCRIPT)] if script_key else []
    return [*switch, KeySpec(KeyKind.CHAR, "@"), KeySpec(KeyKind.SPACE, width=3 if script_key else 4),
            *_chars(".-_"), KeySpec(KeyKind.ENTER, width=2)]


@dataclass(frozen=True, slots=True)
class Alphabet:
    """A national letter layout: rows of letters as on that country's standard keyboard (Shift beside the last)."""

    label: str
    """The switch key's label showing this alphabet (the Latin layout's switch key says "ABC")."""
    rows: tuple[str, ...]


ALPHABETS: dict[str, Alphabet] = {
    # Arabic (101), Hebrew (SI-1452), Greek, Russian, Ukrainian, Kazakh (ЙЦУКЕН with its letters
    # on the top row) and Bulgarian (phonetic): every letter of the alphabet, in the national
    # layout's key order, without its punctuation keys. Arabic has no capitals, so the alef forms
    # that Shift gives on a physical keyboard get keys of their own.
    "ar": Alphabet("أبج", ("ضصثقفغعهخحجد", "شسيبلاتنمكطأ", "ذئءؤرىةوزظإآ")),
    "he": Alphabet("אבג", ("קראטוןםפ", "שדגכעיחלךף", "זסבהנמצתץ")),
    "el": Alphabet("ΑΒΓ", ("ςερτυθιοπ", "ασδφγηξκλ", "ζχψωβνμ")),
    "ru": Alphabet("АБВ", ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбюё")),
    "uk": Alphabet("АБВ", ("йцукенгшщзхї", "фівапролджє", "ячсмитьбюґ")),
    "bg": Alphabet("АБВ", ("явертъуиопшщ", "асдфгхйклчю", "зьцжбнм")),
    "kk": Alphabet("АБВ", ("әіңғүұқөһ", "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбюё")),
}
"""Alphabets besides Latin, by language (the language part of the locale tag)."""


def _letters(rows: tuple[str, ...], *, script_key: bool) -> list[list[KeySpec]]:
    *upper, last = rows
    return [
        _chars("1234567890"),
        *(_chars(row) for row in upper),
        [KeySpec(KeyKind.SHIFT, width=2), *_chars(last), KeySpec(KeyKind.BACKSPACE, width=2)],
        [KeySpec(KeyKind.SYMBOLS, width=2), *_bottom_row(script_key=script_key)],
    ]


LATIN_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
LETTERS: list[list[KeySpec]] = _letters(LATIN_ROWS, script_key=False)


def _symbols(*, script_key: bool) -> list[list[KeySpec]]:
    return [
        _chars("1234567890"),
        _chars("!#$%^&*()+"),
        _chars("=[]{};:'\"?"),
        [*_chars(",/\\|~`<>"), KeySpec(KeyKind.BACKSPACE, width=2)],
        [KeySpec(KeyKind.LETTERS, width=2), *_bottom_row(script_key=script_key)],
    ]


SYMBOLS: list[list[KeySpec]] = _symbols(script_key=False)
KEYPAD: list[list[KeySpec]] = [
    _chars("123"),
    _chars("456"),
    _chars("789"),
    [KeySpec(KeyKind.BACKSPACE), KeySpec(KeyKind.CHAR, "0"), KeySpec(KeyKind.ENTER)],
]


DIALPAD: list[list[KeySpec]] = [
    _chars("123"),
    _chars("456"),
    _chars("789"),
    [KeySpec(KeyKind.CHAR, "+"), KeySpec(KeyKind.CHAR, "0"), KeySpec(KeyKind.BACKSPACE)],
    [KeySpec(KeyKind.SPACE), KeySpec(KeyKind.ENTER, width=2)],
]
"""A phone number: digits, the `+` of the country code and a space between groups."""

LATIN_HINTS = (
    Qt.InputMethodHint.ImhPreferLatin
    | Qt.InputMethodHint.ImhLatinOnly
    | Qt.InputMethodHint.ImhEmailCharactersOnly
    | Qt.InputMethodHint.ImhUrlCharactersOnly
)


def wants_keypad(edit: QLineEdit) -> bool:
    """True for a digits-only field (the one-time code, a phone number): it gets a numeric pad."""
    return bool(edit.inputMethodHints() & DIGIT_HINTS)


def wants_dialpad(edit: QLineEdit) -> bool:
    """True for a phone number field: the pad with `+` and space."""
    return bool(edit.inputMethodHints() & Qt.InputMethodHint.ImhDialableCharactersOnly)


def wants_latin(edit: QLineEdit) -> bool:
    """True for a field written in Latin letters (a user ID, an e-mail address): it opens on the Latin letters."""
    return bool(edit.inputMethodHints() & LATIN_HINTS)


class Key(QPushButton):
    """A touch-sized key that never takes the focus from the field being typed into."""

    def __init__(self, spec: KeySpec) -> None:
        super().__init__()
        self.spec = spec
        self.setObjectName("key")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoDefault(False)
        self.setMinimumSize(KEY_SIZE_PX, KEY_SIZE_PX)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAutoRepeat(spec.kind is KeyKind.BACKSPACE)


class OnScreenKeyboard(QFrame):
    """Letters (with shift), symbols and a numeric keypad; follows the focused line edit of its window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyboard")
        self.setStyleSheet(
            f"#keyboard QPushButton#key {{ padding: 0 2px; min-height: {KEY_SIZE_PX}px; font-size: 20px; }}"
        )
        # Key order is physical, not textual: keep QWERTY left to right in Arabic or Hebrew too.
        self.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.target: QLineEdit | None = None
        self.shifted = False
        self.keys: list[Key] = []
        self.pages = QStackedWidget()
        self.alphabet: Alphabet | None = None
        """The current language's own alphabet, when it is not written in Latin letters."""
        self.keypad = self._page(KEYPAD, max_width=KEY_SIZE_PX * 3 * 2)
        self.dialpad = self._page(DIALPAD, max_width=KEY_SIZE_PX * 3 * 2)
        self.letters = self._page(LETTERS)
        self.symbols = self._page(SYMBOLS)
        self.native: QWidget | None = None
        """The page of `alphabet`'s letters (None for languages written in Latin letters)."""
        self.pages.setCurrentWidget(self.letters)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 10)
        outer.addWidget(self.pages)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        self.retranslate()
        self.hide()

    # --- typing -------------------------------------------------------------------------------

    def press(self, key: Key) -> None:
        """Type what `key` means into the target field (or switch layout / shift)."""
        spec = key.spec
        match spec.kind:
            case KeyKind.SHIFT:
                self._set_shift(not self.shifted)
            case KeyKind.SYMBOLS:
                self.pages.setCurrentWidget(self.symbols)
            case KeyKind.LETTERS:
                self.pages.setCurrentWidget(self.letters)
            case KeyKind.SCRIPT:
                on_native = self.pages.currentWidget() is self.native
                self.pages.setCurrentWidget(self.letters if on_native or self.native is None else self.native)
            case KeyKind.BACKSPACE:
                self._send(Qt.Key.Key_Backspace, "")
            case KeyKind.SPACE:
                self._send(Qt.Key.Key_Space, " ")
            case KeyKind.ENTER:
                self._send(Qt.Key.Key_Return, "\r")
            case KeyKind.CHAR:
                char = spec.char.upper() if self.shifted else spec.char
                self._send(_key_code(char), char, shift=char != spec.char)
                if self.shifted:
                    self._set_shift(False)

    def attach(self, edit: QLineEdit | None) -> None:
        """Type into `edit` from now on (None: nothing to type into, the keyboard hides)."""
        self.target = edit
        if edit is None:
            self.hide()
            return
        if wants_dialpad(edit):
            self.pages.setCurrentWidget(self.dialpad)
        elif wants_keypad(edit):
            self.pages.setCurrentWidget(self.keypad)
        elif self.pages.currentWidget() in (self.keypad, self.dialpad) or (
            wants_latin(edit) and self.pages.currentWidget() is self.native
        ):
            self.pages.setCurrentWidget(self.letters)
        self.show()

    def set_language(self, tag: str) -> None:
        """Offer the letters of `tag`'s alphabet besides Latin (or Latin alone), and name the keys in that language."""
        alphabet = ALPHABETS.get(tag.replace("_", "-").split("-")[0].lower())
        if alphabet != self.alphabet:
            self.alphabet = alphabet
            current = self.pages.currentWidget()
            for page in (self.letters, self.symbols, self.native):
                if page is not None:
                    self._drop(page)
            script_key = alphabet is not None
            self.letters = self._page(_letters(LATIN_ROWS, script_key=script_key))
            self.symbols = self._page(_symbols(script_key=script_key))
            self.native = None if alphabet is None else self._page(_letters(alphabet.rows, script_key=True))
            self.pages.setCurrentWidget(current if current in (self.keypad, self.dialpad) else self.letters)
        self.retranslate()

    def _send(self, key: Qt.Key, text: str, *, shift: bool = False) -> None:
        target = self.target
        if target is None or not target.isVisible() or not target.isEnabled():
            return
        modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(kind, key, modifiers, text))

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is None or self.window() is not new.window():
            return  # the window lost the focus (or another window got it): keep the target
        if isinstance(new, QLineEdit) and not new.isReadOnly():
            self.attach(new)
        elif not self.isAncestorOf(new):
            self.attach(None)

    # --- building -----------------------------------------------------------------------------

    def _page(self, rows: list[list[KeySpec]], *, max_width: int | None = None) -> QWidget:
        page = QWidget()
        grid = QGridLayout()
        grid.setSpacing(6)
        columns = max(sum(spec.width for spec in row) for row in rows)
        for row_index, row in enumerate(rows):
            # Rows narrower than the widest are centred, as on a physical keyboard.
            # Two grid columns per key unit, so a row can be offset by half a key.
            column = columns - sum(spec.width for spec in row)
            for spec in row:
                key = Key(spec)
                key.clicked.connect(lambda _checked=False, key=key: self.press(key))
                grid.addWidget(key, row_index, column, 1, spec.width * 2)
                column += spec.width * 2
                self.keys.append(key)
        row_layout = QHBoxLayout(page)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addStretch(0 if max_width is None else 1)
        holder = QWidget()
        holder.setLayout(grid)
        if max_width is not None:
            holder.setMaximumWidth(max_width)
        row_layout.addWidget(holder, 1 if max_width is None else 0)
        row_layout.addStretch(0 if max_width is None else 1)
        self.pages.addWidget(page)
        return page

    def _drop(self, page: QWidget) -> None:
        self.keys = [key for key in self.keys if not page.isAncestorOf(key)]
        self.pages.removeWidget(page)
        page.deleteLater()

    def _set_shift(self, shifted: bool) -> None:
        self.shifted = shifted
        self.retranslate()

    def retranslate(self) -> None:
        """Key labels and accessible names (the special keys' names follow the language)."""
        names = {
            KeyKind.SHIFT: (_("Shift"), "⇧"),
            KeyKind.BACKSPACE: (_("Backspace"), "⌫"),
            KeyKind.SPACE: (_("Space"), _("Space")),
            KeyKind.ENTER: (_("Enter"), "↵"),
            # An isolate keeps "?123" reading left to right inside a right-to-left language.
            KeyKind.SYMBOLS: (_("Symbols"), "\u2066?123\u2069"),
            KeyKind.LETTERS: (_("Letters"), "ABC"),
        }
        latin = (_("Latin letters"), "ABC")
        own = latin if self.alphabet is None else (_("Letters of this language"), self.alphabet.label)
        self.setAccessibleName(_("On-screen keyboard"))
        for key in self.keys:
            spec = key.spec
            if spec.kind is KeyKind.CHAR:
                char = spec.char.upper() if self.shifted else spec.char
                # A left-to-right isolate: in a right-to-left language Qt would draw "(" as ")"
                # (bidi mirroring), so the key would show one bracket and type the other.
                key.setText("\u2066" + char.replace("&", "&&") + "\u2069")
                key.setAccessibleName(char)
            else:
                on_native = self.native is not None and self.native.isAncestorOf(key)
                name, text = (latin if on_native else own) if spec.kind is KeyKind.SCRIPT else names[spec.kind]
                if spec.kind is KeyKind.SPACE and self.dialpad.isAncestorOf(key):
                    text = "␣"  # one key wide: a word ("Space", "مسافة") would widen the dial pad's first column
                key.setText(text)
                key.setAccessibleName(name)
            if spec.kind is KeyKind.SHIFT:
                key.setCheckable(True)
                key.setChecked(self.shifted)


def _key_code(char: str) -> Qt.Key:
    """The Qt key code of a typed character (ASCII keys share their upper-case code point)."""
    try:
        return Qt.Key(ord(char.upper()))
    except ValueError:
        return Qt.Key.Key_unknown
