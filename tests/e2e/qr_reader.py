"""Reads a QR code back from the pixels the kiosk window drew, as a phone's camera would (tests only).

`modules_of` samples the widget's grab at each module's centre; `decode` is a small QR decoder for a
clean, unrotated code (model 2, any version, byte / alphanumeric / numeric segments): format
information, unmasking, the zig-zag read, de-interleaving of the data blocks. Error correction is not
needed for a picture straight off the screen; a wrong read would not survive the caller's re-encoding
check (`segno.make(decoded).matrix == modules`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import product

from PySide6.QtWidgets import QWidget
from segno import consts

Matrix = list[list[bool]]

ERROR_LEVELS = {0x00: "M", 0x08: "L", 0x10: "H", 0x18: "Q"}
"""The error level bits of a format word, as segno numbers its FORMAT_INFO table."""
_LEVEL_CONSTANT = {"L": consts.ERROR_LEVEL_L, "M": consts.ERROR_LEVEL_M, "Q": consts.ERROR_LEVEL_Q,
                   "H": consts.ERROR_LEVEL_H}
_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)
"""ISO/IEC 18004 table 10: i = row, j = column; a module is inverted where its mask is true."""


@dataclass(frozen=True)
class Drawn:
    """A QR code as drawn: its modules (True = dark) and how many pixels wide each one is."""

    modules: Matrix
    pixels_per_module: float
    grey_pixels: int
    """Pixels neither clearly dark nor clearly light inside the code (blurred module edges)."""


def read_drawn(widget: QWidget) -> Drawn:
    """The code read off the widget's pixels, sampled at each module's centre; the module size is found from
    the top-left finder pattern, which is seven modules wide."""
    image = widget.grab().toImage()

    def lightness(x: int, y: int) -> int:
        return int(image.pixelColor(x, y).lightness())

    points = [(x, y) for y in range(image.height()) for x in range(image.width()) if lightness(x, y) < 128]
    assert points, "no QR code is drawn"
    left, top = min(x for x, _y in points), min(y for _x, y in points)
    right, bottom = max(x for x, _y in points), max(y for _x, y in points)
    run = 0
    while lightness(left + run, top) < 128:
        run += 1
    # A QR code is 17 + 4 × version modules a side; the module may be a fraction of a pixel wider or narrower
    # than whole (a drawing scaled down to fit), so the nearest such size is taken and the module measured on it.
    version = round(((right - left + 1) / (run / 7) - 17) / 4)
    size = 17 + 4 * version
    step = (right - left + 1) / size
    assert 1 <= version <= 40 and abs(run - 7 * step) < 1.5, f"no QR code: a finder {run} px wide, {step} px modules"
    grey = sum(
        1 for y in range(top, bottom + 1) for x in range(left, right + 1) if 40 < lightness(x, y) < 215
    )
    modules = [
        [lightness(int(left + (column + 0.5) * step), int(top + (row + 0.5) * step)) < 128 for column in range(size)]
        for row in range(size)
    ]
    return Drawn(modules, step, grey)


def modules_of(widget: QWidget) -> Matrix:
    """The code's modules (True = dark) read off the widget's pixels."""
    return read_drawn(widget).modules


def _function_modules(size: int) -> set[tuple[int, int]]:
    """Finder patterns with separators and format areas, timing, alignment and version areas."""
    version = (size - 17) // 4
    taken: set[tuple[int, int]] = set()

    def finder(row: int, column: int) -> bool:
        return (row < 9 and column < 9) or (row < 9 and column >= size - 8) or (row >= size - 8 and column < 9)

    for row, column in product(range(size), repeat=2):
        if finder(row, column):
            taken.add((row, column))
        if row == 6 or column == 6:
            taken.add((row, column))
        version_area = (row < 6 and size - 11 <= column < size - 8) or (column < 6 and size - 11 <= row < size - 8)
        if version >= 7 and version_area:
            taken.add((row, column))
    if version >= 2:
        centres = consts.ALIGNMENT_POS[version - 2]
        for row, column in product(centres, repeat=2):
            if finder(row, column):
                continue  # where a finder pattern is, there is no alignment pattern
            taken.update((row + dr, column + dc) for dr, dc in product(range(-2, 3), repeat=2))
    return taken


def _format(matrix: Matrix) -> tuple[str, int]:
    """The error level and mask from the format word beside the top-left finder pattern."""
    rows = [0, 1, 2, 3, 4, 5, 7, 8]
    word = 0
    for i, place in enumerate(rows):
        word |= matrix[place][8] << i  # bits 0-7 down column 8
        word |= matrix[8][place] << (14 - i)  # bits 14-7 along row 8
    index = consts.FORMAT_INFO.index(word)
    return ERROR_LEVELS[index & 0x18], index & 0x07


def _bits(matrix: Matrix, mask: int) -> Iterator[int]:
    """The data modules, unmasked, in placement order: two-module columns from the right, up then down."""
    size = len(matrix)
    taken = _function_modules(size)
    upward = True
    column = size - 1
    while column > 0:
        if column == 6:
            column -= 1  # the vertical timing pattern takes no part
        rows = range(size - 1, -1, -1) if upward else range(size)
        for row in rows:
            for j in (column, column - 1):
                if (row, j) not in taken:
                    yield int(matrix[row][j] ^ _MASKS[mask](row, j))
        upward = not upward
        column -= 2


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def take(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.position // 8] if self.position // 8 < len(self.data) else 0
            value = value << 1 | (byte >> (7 - self.position % 8)) & 1
            self.position += 1
        return value

    @property
    def left(self) -> int:
        return len(self.data) * 8 - self.position


def decode(matrix: Matrix) -> str:
    """The text a QR code holds."""
    size = len(matrix)
    version = (size - 17) // 4
    level, mask = _format(matrix)
    stream = list(_bits(matrix, mask))
    codewords = [int("".join(map(str, stream[at:at + 8])), 2) for at in range(0, len(stream) - 7, 8)]
    blocks: list[list[int]] = []
    for group in consts.ECC[version][_LEVEL_CONSTANT[level]]:
        blocks.extend([] for _ in range(group.num_blocks))
    sizes = [group.num_data for group in consts.ECC[version][_LEVEL_CONSTANT[level]] for _ in range(group.num_blocks)]
    source = iter(codewords)
    for index in range(max(sizes)):
        for block, wanted in zip(blocks, sizes, strict=True):
            if index < wanted:
                block.append(next(source))
    reader = _Reader(bytes(byte for block in blocks for byte in block))
    width = 0 if version <= 9 else 1 if version <= 26 else 2
    text = []
    while reader.left >= 4:
        mode = reader.take(4)
        if mode == 0:
            break
        if mode == 0b0111:  # ECI: segno marks UTF-8 this way; one-byte designators are all it writes
            reader.take(8)
        elif mode == 0b0100:
            count = reader.take((8, 16, 16)[width])
            text.append(bytes(reader.take(8) for _ in range(count)).decode("utf-8"))
        elif mode == 0b0010:
            count = reader.take((9, 11, 13)[width])
            chars = consts.ALPHANUMERIC_CHARS.decode()
            for _ in range(count // 2):
                pair = reader.take(11)
                text.append(chars[pair // 45] + chars[pair % 45])
            if count % 2:
                text.append(chars[reader.take(6)])
        elif mode == 0b0001:
            count = reader.take((10, 12, 14)[width])
            for _ in range(count // 3):
                text.append(f"{reader.take(10):03d}")
            if count % 3:
                text.append(f"{reader.take((0, 4, 7)[count % 3]):0{count % 3}d}")
        else:
            raise ValueError(f"QR mode {mode:04b} is not read here")
    return "".join(text)
