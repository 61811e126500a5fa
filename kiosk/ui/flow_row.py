"""A row of buttons that wraps onto the next line when the page is too narrow for it (`FlowRow`).

A QHBoxLayout never wraps: with large system text or a long translation, a page's actions (Verify,
Send a new code, Try another way) pushed the page past the window's edge. This row keeps them on one
line while they fit and moves the next ones down when they do not, as text wraps; in a right-to-left
language the row starts on the right.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowRow(QLayout):
    """Items side by side from the leading edge, wrapped onto more lines when the width runs out."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 12) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem, /) -> None:
        """Add an item at the end of the row."""
        self._items.append(item)

    def count(self) -> int:
        """How many items the row holds."""
        return len(self._items)

    def itemAt(self, index: int, /) -> QLayoutItem | None:
        """The item at `index` (None past the end)."""
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int, /) -> QLayoutItem | None:
        """Remove and return the item at `index`."""
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def spacing(self) -> int:
        """The gap between items, across and between lines."""
        return self._spacing

    def setSpacing(self, spacing: int, /) -> None:
        """Set the gap between items."""
        self._spacing = spacing
        self.invalidate()

    def expandingDirections(self) -> Qt.Orientation:
        """The row takes the width it is given and the height its lines need."""
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        """Lines wrap: the height depends on the width."""
        return True

    def heightForWidth(self, width: int, /) -> int:
        """The height of the lines at `width`."""
        return self._place(QRect(0, 0, width, 0), apply=False)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        shown = self._shown()
        width = sum(item.sizeHint().width() for item in shown) + self._spacing * max(0, len(shown) - 1)
        height = max((item.sizeHint().height() for item in shown), default=0)
        return QSize(width, height) + self._margins()

    def minimumSize(self) -> QSize:
        """As narrow as the widest item can get."""
        shown = self._shown()
        width = max((item.minimumSize().width() for item in shown), default=0)
        height = max((item.minimumSize().height() for item in shown), default=0)
        return QSize(width, height) + self._margins()

    def setGeometry(self, rect: QRect, /) -> None:
        """Place the items in lines inside `rect`."""
        super().setGeometry(rect)
        self._place(rect, apply=True)

    def _margins(self) -> QSize:
        margins = self.contentsMargins()
        return QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _place(self, rect: QRect, *, apply: bool) -> int:
        """Lay the items out in `rect` (or only measure, `apply=False`); returns the height used."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        used = 0
        for item in self._shown():
            width = min(item.sizeHint().width(), area.width())
            width = max(width, min(item.minimumSize().width(), area.width()))
            height = item.heightForWidth(width) if item.hasHeightForWidth() else item.sizeHint().height()
            if lines[-1] and used + self._spacing + width > area.width():
                lines.append([])
                used = 0
            used += (self._spacing if lines[-1] else 0) + width
            lines[-1].append((item, QSize(width, height)))
        top = area.top()
        owner = self.parentWidget()
        right_to_left = owner is not None and owner.isRightToLeft()
        for line in lines:
            if not line:
                continue
            tallest = max(size.height() for _item, size in line)
            x = area.left()
            for item, size in line:
                if apply:
                    box = QRect(QPoint(x, top + (tallest - size.height()) // 2), size)
                    if right_to_left:
                        box.moveLeft(area.left() + area.right() - box.right())
                    item.setGeometry(box)
                x += size.width() + self._spacing
            top += tallest + self._spacing
        return max(0, top - self._spacing - area.top()) + margins.top() + margins.bottom()
