"""The CAPTCHA that needs no transcription (WCAG 2.2 SC 3.3.8): "select the picture that shows a …".

Six pictures, one of each `PictureSubject`, drawn afresh for every challenge with Pillow: each
randomly sized, rotated, placed, coloured, filled or outlined and sprinkled with noise, in random
order. Each picture's id is random too, so neither the order, the ids, the colours nor the accessible
names tell which one is asked for; only the server knows the right id, and one answer spends the
challenge, exactly like the text CAPTCHA.
"""

from __future__ import annotations

import asyncio
import base64
import io
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kiosk.services.api import PictureCheck, PictureChoice, PictureSubject

SIZE = 128
"""Side of each picture in pixels."""
_CANVAS = 200  # drawn at this size in the coordinates below, then turned and scaled down
_random = secrets.SystemRandom()

Point = tuple[float, float]
Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Challenge:
    """A picture check as the server keeps it: what is asked, the right id, and every picture's subject."""

    subject: PictureSubject
    answer: str
    pictures: tuple[tuple[str, PictureSubject], ...]
    """(id, subject) in the order shown."""


def new_challenge() -> Challenge:
    """A fresh check: every subject once, in random order, with random ids; one subject asked for."""
    subjects = list(PictureSubject)
    _random.shuffle(subjects)
    ids: list[str] = []
    while len(ids) < len(subjects):
        candidate = secrets.token_hex(4)
        if candidate not in ids:
            ids.append(candidate)
    pictures = tuple(zip(ids, subjects, strict=True))
    picture_id, subject = _random.choice(pictures)
    return Challenge(subject=subject, answer=picture_id, pictures=pictures)


class _Pen:
    """Draws one subject in one random style: filled, or outlined with a thick line."""

    def __init__(self, draw: object, ink: tuple[int, int, int], paper: tuple[int, int, int]) -> None:
        from PIL import ImageDraw

        assert isinstance(draw, ImageDraw.ImageDraw)
        self.draw = draw
        self.ink = ink
        self.paper = paper
        self.filled = _random.random() < 0.5
        self.width = _random.randint(7, 11)

    def polygon(self, points: Sequence[Point], *, hole: bool = False) -> None:
        """A closed shape (a hole is cut out of a filled shape, or outlined in an outlined one)."""
        if self.filled:
            self.draw.polygon(list(points), fill=self.paper if hole else self.ink)
        else:
            self.draw.polygon(list(points), outline=self.ink, width=self.width)

    def rectangle(self, box: Box, *, hole: bool = False) -> None:
        """An axis-aligned rectangle."""
        left, top, right, bottom = box
        self.polygon([(left, top), (right, top), (right, bottom), (left, bottom)], hole=hole)

    def ellipse(self, box: Box, *, hole: bool = False) -> None:
        """An ellipse in a box."""
        if self.filled:
            self.draw.ellipse(box, fill=self.paper if hole else self.ink)
        else:
            self.draw.ellipse(box, outline=self.ink, width=self.width)

    def line(self, points: Sequence[Point]) -> None:
        """An open stroke (always drawn, whatever the style)."""
        self.draw.line(list(points), fill=self.ink, width=self.width + 2, joint="curve")


def _house(pen: _Pen) -> None:
    pen.rectangle((50, 95, 150, 170))
    pen.polygon([(35, 100), (100, 35), (165, 100)])
    pen.rectangle((88, 125, 112, 170), hole=True)
    pen.rectangle((62, 108, 80, 126), hole=True)


def _tree(pen: _Pen) -> None:
    # Always a fir: an outlined round crown on a trunk reads as a magnifying glass.
    pen.rectangle((90, 140, 110, 180))
    if _random.random() < 0.5:
        pen.polygon([(100, 18), (150, 85), (125, 85), (162, 142), (38, 142), (75, 85), (50, 85)])
    else:
        pen.polygon(
            [
                (100, 18),
                (140, 62),
                (120, 62),
                (152, 102),
                (130, 102),
                (165, 142),
                (35, 142),
                (70, 102),
                (48, 102),
                (80, 62),
                (60, 62),
            ]
        )


def _car(pen: _Pen) -> None:
    pen.polygon([(25, 100), (60, 100), (80, 62), (135, 62), (155, 100), (178, 105), (178, 145), (25, 145)])
    pen.polygon([(86, 72), (115, 72), (115, 100), (72, 100)], hole=True)
    pen.ellipse((45, 125, 85, 165))
    pen.ellipse((120, 125, 160, 165))


def _key(pen: _Pen) -> None:
    pen.ellipse((25, 65, 95, 135))
    pen.ellipse((45, 85, 75, 115), hole=True)
    pen.rectangle((92, 92, 178, 108))
    pen.rectangle((140, 106, 152, 130))
    pen.rectangle((162, 106, 174, 124))


def _star(pen: _Pen) -> None:
    points: list[Point] = []
    for index in range(10):
        radius = 80 if index % 2 == 0 else 32
        angle = math.pi / 5 * index - math.pi / 2
        points.append((100 + radius * math.cos(angle), 105 + radius * math.sin(angle)))
    pen.polygon(points)


def _cup(pen: _Pen) -> None:
    pen.line([(135, 85), (168, 92), (165, 130), (128, 140)])
    pen.polygon([(45, 60), (145, 60), (132, 165), (58, 165)])
    pen.rectangle((35, 165, 155, 176))
    if _random.random() < 0.5:  # steam
        pen.line([(80, 48), (72, 36), (80, 24)])
        pen.line([(110, 48), (102, 36), (110, 24)])


_DRAW: dict[PictureSubject, Callable[[_Pen], None]] = {
    PictureSubject.HOUSE: _house,
    PictureSubject.TREE: _tree,
    PictureSubject.CAR: _car,
    PictureSubject.KEY: _key,
    PictureSubject.STAR: _star,
    PictureSubject.CUP: _cup,
}


def _colour(lightness: tuple[int, int]) -> tuple[int, int, int]:
    """A random colour whose channels all lie in `lightness` (low = dark ink, high = light paper)."""
    low, high = lightness
    return (_random.randint(low, high), _random.randint(low, high), _random.randint(low, high))


def draw_png(subject: PictureSubject) -> bytes:
    """One picture of `subject` in a random style, as PNG bytes."""
    from PIL import Image, ImageDraw  # lazily: Pillow costs start-up time

    paper = _colour((205, 255))
    ink = _colour((0, 110))
    layer = Image.new("RGBA", (_CANVAS, _CANVAS), (0, 0, 0, 0))
    _DRAW[subject](_Pen(ImageDraw.Draw(layer), ink, paper))
    scale = _random.uniform(0.72, 0.95)
    layer = layer.rotate(_random.uniform(-35, 35), resample=Image.Resampling.BICUBIC, expand=False)
    side = round(_CANVAS * scale)
    layer = layer.resize((side, side), Image.Resampling.LANCZOS)
    picture = Image.new("RGB", (_CANVAS, _CANVAS), paper)
    noise = ImageDraw.Draw(picture)
    for _ in range(_random.randint(3, 5)):  # faint strokes behind the subject
        noise.line(
            [(_random.uniform(0, _CANVAS), _random.uniform(0, _CANVAS)) for _ in range(3)],
            fill=_colour((120, 200)),
            width=_random.randint(2, 4),
        )
    slack = _CANVAS - side
    picture.paste(layer, (_random.randint(0, slack), _random.randint(0, slack)), layer)
    for _ in range(260):  # speckles over everything
        x, y = _random.uniform(0, _CANVAS), _random.uniform(0, _CANVAS)
        noise.ellipse((x, y, x + 2.5, y + 2.5), fill=_colour((60, 230)))
    picture = picture.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    picture.save(output, format="PNG")
    return output.getvalue()


def _render(challenge: Challenge) -> PictureCheck:
    return PictureCheck(
        subject=challenge.subject,
        choices=tuple(
            PictureChoice(id=picture_id, png_base64=base64.b64encode(draw_png(subject)).decode("ascii"))
            for picture_id, subject in challenge.pictures
        ),
    )


async def render(challenge: Challenge) -> PictureCheck:
    """The challenge as the kiosk shows it: what to look for and the pictures with their ids (drawn off the loop)."""
    return await asyncio.to_thread(_render, challenge)
