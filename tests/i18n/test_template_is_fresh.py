"""`translations/messages.pot` holds exactly the messages in the sources, so "every catalog complete"
means every string the kiosk can show is translated (a new `_()` without `make extract-messages`,
and then translations, fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _ids(path: Path) -> set[object]:
    with path.open("rb") as file:
        catalog = read_po(file)
    return {message.id if isinstance(message.id, str) else tuple(message.id) for message in catalog if message.id}


def test_the_template_matches_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = tmp_path / "fresh.pot"
    # What `make extract-messages` runs (pybabel's own command line, in this process).
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", str(fresh), "."])
    shipped, extracted = _ids(ROOT / "translations" / "messages.pot"), _ids(fresh)
    assert extracted, "nothing was extracted: the check would prove nothing"
    hint = "run `make extract-messages update-catalogs` (and translate what is new)"
    assert extracted - shipped == set(), f"messages in the sources but not in the template: {hint}"
    assert shipped - extracted == set(), f"messages in the template but no longer in the sources: {hint}"
