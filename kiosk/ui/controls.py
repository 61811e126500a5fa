"""Small reusable widgets of the pages: a labelled field with its error, a two-line choice button, labels.

Two accessibility pieces live here because every page uses them: error labels announce themselves
to screen readers (`AlertLabel`), and secret fields (`SecretLineEdit`: passwords, codes, answers)
never hand their text to an assistive technology, nor to the clipboard, a drag or a context menu.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAccessibleInterface,
    QClipboard,
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPaintEvent,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAccessibleWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _

ALERT_STYLES = frozenset({"banner", "fieldError"})
"""Label styles that show errors: such labels announce every new text (`AlertLabel`)."""
TITLE_STYLES = frozenset({"title", "heroTitle"})
"""Label styles of titles (a page's, the start page's, an overlay's): headings to assistive technologies."""


def announce(widget: QObject, message: str) -> None:
    """Have screen readers speak `message` now, interrupting (an error the user must hear)."""
    event = QAccessibleAnnouncementEvent(widget, message)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


class AlertLabel(QLabel):
    """A label whose new, non-empty texts are announced: a live region for errors."""

    announced = Signal(str)

    def setText(self, text: str, /) -> None:
        """Show the text and, when it is new, announce it."""
        changed = text != self.text()
        super().setText(text)
        if changed and text:
            announce(self, text)
            self.announced.emit(text)


class SecretFieldAccessible(QAccessibleWidget):
    """What assistive technologies see of a secret field: its name, role and state, never its text.

    Qt's own line-edit interface returns the text of a Normal or PasswordEchoOnEdit field (and the
    length of a Password one) as its value and through its text interface; this one has neither.
    """

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget, QAccessible.Role.EditableText)

    def text(self, t: QAccessible.Text) -> str:
        """Name and description as usual; the value is always empty."""
        if t == QAccessible.Text.Value:
            return ""
        return super().text(t)

    def state(self) -> QAccessible.State:
        """An editable, protected field."""
        state = super().state()
        state.editable = True
        state.passwordEdit = True
        return state


class HeadingAccessible(QAccessibleWidget):
    """A page's title as assistive technologies see it: a heading (a screen reader's heading keys find
    it), named by its text. Qt reads every QLabel as a plain label."""

    def __init__(self, widget: QLabel) -> None:
        super().__init__(widget, QAccessible.Role.Heading)
        self._label = widget

    def text(self, t: QAccessible.Text) -> str:
        """The name is the title's text (unless it was given another)."""
        if t == QAccessible.Text.Name:
            return self._label.accessibleName() or self._label.text()
        return super().text(t)


def _accessible_factory(key: str, target: QObject) -> QAccessibleInterface | None:
    if isinstance(target, SecretLineEdit):
        return SecretFieldAccessible(target)
    if isinstance(target, QLabel) and target.objectName() in TITLE_STYLES:
        return HeadingAccessible(target)
    return None


_factory_installed = False


def _install_factory() -> None:
    global _factory_installed
    if not _factory_installed:
        QAccessible.installFactory(_accessible_factory)
        _factory_installed = True


_NO_CLIPBOARD_KEYS = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut)


def forget_own_selection(edit: QLineEdit, clipboard: QClipboard) -> None:
    """Take back what Qt just published from `edit` as the selection clipboard (X11's PRIMARY).

    A line edit with visible text (a code, an answer being typed) copies every selection to it on
    mouse release and after keys (Ctrl+A): a middle click elsewhere would paste it. Platforms without
    a selection clipboard (Windows, macOS) have nothing to take back.
    """
    if not clipboard.supportsSelection() or not clipboard.ownsSelection():
        return
    selected = edit.selectedText()
    if selected and clipboard.text(QClipboard.Mode.Selection) == selected:
        clipboard.clear(QClipboard.Mode.Selection)


class SecretLineEdit(QLineEdit):
    """A line edit for a password, a code or an answer: its text never reaches assistive technology.

    Nor the clipboard: a kiosk is shared, and a code copied or cut (every key binding of the platform:
    Ctrl+C, Ctrl+Insert, Ctrl+X, Shift+Delete …), dragged out or taken from a context menu would wait
    there for the next person. Copy and cut keys do nothing, there is no context menu, dragging stays
    off, and a selection Qt publishes as the X11 selection clipboard is taken back at once.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        _install_factory()
        super().__init__(parent)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        super().setDragEnabled(False)

    def setDragEnabled(self, b: bool, /) -> None:
        """Dragging the text out stays off, whatever is asked."""
        super().setDragEnabled(False)

    def keyPressEvent(self, event: QKeyEvent, /) -> None:
        """Swallow copy and cut; everything else as usual."""
        if any(event.matches(key) for key in _NO_CLIPBOARD_KEYS):
            event.accept()
            return
        super().keyPressEvent(event)
        forget_own_selection(self, QGuiApplication.clipboard())

    def mouseReleaseEvent(self, event: QMouseEvent, /) -> None:
        """As usual, without leaving the selection in the selection clipboard."""
        super().mouseReleaseEvent(event)
        forget_own_selection(self, QGuiApplication.clipboard())

    def focusInEvent(self, event: QFocusEvent, /) -> None:
        """As usual (a Tab into the field selects its text), without publishing that selection."""
        super().focusInEvent(event)
        forget_own_selection(self, QGuiApplication.clipboard())

    def contextMenuEvent(self, event: QContextMenuEvent, /) -> None:
        """No menu: Qt's offers Copy and Cut."""
        event.accept()


class UncopyableLabel(QLabel):
    """Text shown to be read (and selected, to follow it along) but never copied: a secret on show, such
    as an authenticator key. No copy keys, no context menu, and no X11 selection left behind."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )

    def keyPressEvent(self, event: QKeyEvent, /) -> None:
        """Swallow copy and cut; everything else as usual."""
        if any(event.matches(key) for key in _NO_CLIPBOARD_KEYS):
            event.accept()
            return
        super().keyPressEvent(event)
        self._forget_selection()

    def mouseReleaseEvent(self, event: QMouseEvent, /) -> None:
        """As usual, without leaving the selection in the selection clipboard."""
        super().mouseReleaseEvent(event)
        self._forget_selection()

    def contextMenuEvent(self, event: QContextMenuEvent, /) -> None:
        """No menu: Qt's offers Copy."""
        event.accept()

    def _forget_selection(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if not clipboard.supportsSelection() or not clipboard.ownsSelection():
            return
        selected = self.selectedText()
        if selected and clipboard.text(QClipboard.Mode.Selection) == selected:
            clipboard.clear(QClipboard.Mode.Selection)


def label(object_name: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    """A QLabel styled by object name; wrapped by default; error styles announce their texts."""
    widget = AlertLabel() if object_name in ALERT_STYLES else QLabel()
    if object_name:
        widget.setObjectName(object_name)
    if object_name in TITLE_STYLES:
        _install_factory()  # a title is a heading to assistive technologies
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        widget.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
    return widget


_WRAPPED: dict[tuple[str, str, int], tuple[str, ...]] = {}
"""Lines already broken, by (text, font, width): layouts ask a button's height for the same widths again
and again, and breaking the text anew each time (a QTextLayout per call) is work on the UI thread."""


def wrap_lines(text: str, font: QFont, width: int) -> tuple[str, ...]:
    """`text` broken into lines at most `width` px wide where the script allows a break (spaces, or
    between characters in Chinese, Japanese and Thai); a word wider than `width` keeps its own line."""
    key = (text, font.key(), max(1, width))
    lines = _WRAPPED.get(key)
    if lines is None:
        if len(_WRAPPED) > 4096:
            _WRAPPED.clear()
        lines = _WRAPPED[key] = _break_lines(text, font, key[2])
    return lines


def _break_lines(text: str, font: QFont, width: int) -> tuple[str, ...]:
    layout = QTextLayout(text, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    lines: list[str] = []
    layout.beginLayout()
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        lines.append(text[line.textStart() : line.textStart() + line.textLength()].strip())
    layout.endLayout()
    return tuple(line for line in lines if line) or (text,)


class WrappingButton(QPushButton):
    """A push button whose text wraps onto more lines when the row is narrower than the text.

    QPushButton draws one line and is never narrower than it, so a large system font or a long
    translation pushed buttons (and the page) past the window's edge: this one asks for one line when
    there is room, can shrink to its longest word, and grows taller for the lines it then needs.
    `text()` stays the whole text (what assistive technologies read); only the painting breaks it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self._matched_width = 0

    def match_width(self, width: int) -> None:
        """Ask for at least `width` px when there is room (buttons of a column as wide as the widest)."""
        self._matched_width = width
        self.updateGeometry()

    def _chrome(self) -> tuple[QStyleOptionButton, int]:
        """The style option and the px the style adds around the text (padding, border)."""
        option = QStyleOptionButton()
        self.initStyleOption(option)
        probe = QSize(1000, self.fontMetrics().height())
        padded = self.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, option, probe, self)
        return option, max(0, padded.width() - probe.width())

    def _size_at(self, width: int | None) -> QSize:
        """The button's size with its text on one line (`width` None) or wrapped to fit `width`."""
        option, chrome = self._chrome()
        lines = (self.text(),) if width is None else wrap_lines(self.text(), self.font(), width - chrome)
        text = self.fontMetrics().size(int(Qt.TextFlag.TextShowMnemonic), "\n".join(lines))
        size = self.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, option, text, self)
        return size.expandedTo(QSize(0, self.minimumHeight()))

    def sizeHint(self) -> QSize:
        """One line (or the matched width), when the row has room for it."""
        return self._size_at(None).expandedTo(QSize(self._matched_width, 0))

    def minimumSizeHint(self) -> QSize:
        """As narrow as the longest word, as tall as the lines then needed."""
        return self._size_at(1)

    def hasHeightForWidth(self) -> bool:
        """Wrapped lines: the height depends on the width."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The height of the lines the text needs at `width`."""
        return self._size_at(width).height()

    def paintEvent(self, event: QPaintEvent, /) -> None:
        """The style's button, with the text broken into the lines that fit its width."""
        option, chrome = self._chrome()
        option.text = "\n".join(wrap_lines(self.text(), self.font(), self.width() - chrome))
        painter = QStylePainter(self)
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)


def button(object_name: str = "") -> WrappingButton:
    """A push button styled by object name (`primary`, `hero`, `link` or plain); its text wraps when
    the row is too narrow for it (`WrappingButton`)."""
    widget = WrappingButton()
    if object_name:
        widget.setObjectName(object_name)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    widget.setAutoDefault(False)
    return widget


class LabelledField(QWidget):
    """A caption, a line edit and the error line under it; the caption is the edit's buddy.

    A `secret` field (password, code, answer) never exposes its text to assistive technology.
    """

    def __init__(self, object_name: str = "", parent: QWidget | None = None, *, secret: bool = False) -> None:
        super().__init__(parent)
        self.caption = label("fieldLabel")
        self.edit = SecretLineEdit() if secret else QLineEdit()
        if object_name:
            self.edit.setObjectName(object_name)
        self.error = label("fieldError")
        self.error.hide()
        self.caption.setBuddy(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.caption)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)

    def set_caption(self, text: str) -> None:
        """Set the caption and use it as the edit's accessible name."""
        self.caption.setText(text)
        self.edit.setAccessibleName(text)

    def set_error(self, text: str | None) -> None:
        """Show an error under the field (or hide it) and mark the edit invalid for the stylesheet."""
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
        self.edit.setProperty("invalid", bool(text))
        self.edit.setAccessibleDescription(text or "")
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)


class ChoiceButton(QPushButton):
    """A big, touch-sized choice: a bold first line and an explanatory second line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("choice")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoDefault(False)
        self.heading = label("choiceTitle")
        self.hint = label("choiceHint")
        for part in (self.heading, self.hint):
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.heading)
        text.addWidget(self.hint)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 12, 20, 12)
        row.addLayout(text, 1)
        self.arrow = label("choiceTitle", wrap=False)
        self.arrow.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        row.addWidget(self.arrow)
        self.setMinimumHeight(84)
        # QPushButton sizes itself by its own (empty) text: size by the two wrapped lines instead, so
        # a large system font or a long translation makes the button taller rather than clipping.
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def sizeHint(self) -> QSize:
        """As large as the two lines need (at least the touch height)."""
        layout = self.layout()
        hint = layout.sizeHint() if layout is not None else super().sizeHint()
        return hint.expandedTo(QSize(0, self.minimumHeight()))

    def minimumSizeHint(self) -> QSize:
        """The lines' minimum (as narrow as their longest words), never the empty text's."""
        layout = self.layout()
        minimum = layout.minimumSize() if layout is not None else super().minimumSizeHint()
        return minimum.expandedTo(QSize(0, self.minimumHeight()))

    def hasHeightForWidth(self) -> bool:
        """Wrapped lines: the height depends on the width."""
        return True

    def heightForWidth(self, width: int) -> int:
        """The height the wrapped lines need at `width`."""
        layout = self.layout()
        needed = layout.totalHeightForWidth(width) if layout is not None else super().heightForWidth(width)
        return max(self.minimumHeight(), needed)

    def set_texts(self, heading: str, hint: str) -> None:
        """Set both lines; the heading is also the accessible name."""
        self.heading.setText(heading)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        # The arrow points the way the page reads. A label holding "›" alone takes the glyph's own (neutral,
        # so left-to-right) direction and does not mirror it: choose the glyph, and keep the label from
        # mirroring it after all.
        rtl = self.layoutDirection() is Qt.LayoutDirection.RightToLeft
        self.arrow.setText("\u2066" + ("‹" if rtl else "›") + "\u2069")
        self.setAccessibleName(heading)
        self.setAccessibleDescription(hint)


def wipe_line_edit(edit: QLineEdit) -> None:
    """Empty a line edit AND its undo history, so Ctrl+Z cannot bring back what the last person typed.

    `QLineEdit.clear()` is itself an undoable edit (undo returns the text); `setText()` resets the
    history, so that is what wipes.
    """
    edit.setText("")
    edit.setModified(False)


def clear_clipboard() -> None:
    """Empty the system clipboard and, where the platform has one (X11), the selection clipboard."""
    clipboard = QGuiApplication.clipboard()
    clipboard.clear(QClipboard.Mode.Clipboard)
    if clipboard.supportsSelection():
        clipboard.clear(QClipboard.Mode.Selection)


class HelpdeskBox(QFrame):
    """Whom to contact: the policy's helpdesk text, phone, web address and e-mail, each line selectable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpdesk")
        box = QVBoxLayout(self)
        box.setContentsMargins(20, 14, 20, 14)
        box.setSpacing(4)
        self.heading = label("fieldLabel")
        self.text = label(selectable=True)
        self.phone = label(selectable=True)
        self.url = label(selectable=True)
        self.email = label(selectable=True)
        for widget in (self.heading, self.text, self.phone, self.url, self.email):
            box.addWidget(widget)

    def show_contact(self, heading: str, text: str, lines: list[tuple[str, str]]) -> None:
        """Show the heading, the free text and (caption, value) lines; empty values are hidden.

        `lines` are (phone, web, e-mail) in that order; captions come translated from the caller.
        """
        self.heading.setText(heading)
        self.text.setText(text)
        self.text.setVisible(bool(text))
        for widget, (caption, value) in zip((self.phone, self.url, self.email), lines, strict=True):
            # No accessible name of its own: a screen reader reads a label's name, and only the whole
            # line (caption and value) tells the user how to reach the helpdesk.
            widget.setText(_("{caption}: {value}").format(caption=caption, value=value))
            widget.setVisible(bool(value))
        self.setVisible(bool(text) or any(value for _caption, value in lines))
