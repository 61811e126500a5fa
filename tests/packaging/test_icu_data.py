"""The bundle's smaller ICU data library (packaging/icu_data.py): what it keeps, and that Qt answers the same."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_build import REPO

sys.path.insert(0, str(REPO / "packaging"))
import icu_data  # beside the spec, found through the path set above

pytestmark = pytest.mark.timeout(900)  # the first test may build the bundle

PROBE = """
from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone
words = ["Zebra", "Äpfel", "apple", "Öl", "ö", "z", "å", "ä", "ç", "ş", "i", "ı"]
for tag in ["de", "sv", "tr", "ar", "th", "zh_Hans", "ja", "pt_BR", "sr_Latn", "sw"]:
    print(tag, sorted(words, key=QCollator(QLocale(tag)).sortKey))
print(QLocale("tr").toUpper("istanbul"), QLocale("de").toUpper("straße"), QLocale("lt").toLower("ĮÌ"))
zone = QTimeZone(b"Europe/Berlin")
print([zone.displayName(QTimeZone.StandardTime, QTimeZone.LongName, QLocale(tag)) for tag in ("de", "ar", "ja", "he")])
print(QStringDecoder("UTF-16LE").isValid(), QStringDecoder("ISO-8859-15").isValid())
"""


@pytest.mark.parametrize(
    ("name", "kept"),
    [("icudt73l/coll/de.res", True), ("icudt73l/coll/sw.res", False), ("icudt73l/coll/root.res", True),
     ("icudt73l/coll/ucadata.icu", True), ("icudt73l/zone/pt_BR.res", True), ("icudt73l/zone/res_index.res", True),
     ("icudt73l/zone/pool.res", True), ("icudt73l/de.res", True), ("icudt73l/fa.res", False),
     ("icudt73l/likelySubtags.res", True), ("icudt73l/curr/de.res", False), ("icudt73l/translit/root.res", False),
     ("icudt73l/gb18030.cnv", False), ("icudt73l/cnvalias.icu", True), ("icudt73l/brkitr/cjdict.dict", False),
     ("icudt73l/brkitr/word.brk", True), ("icudt73l/arn.res", False)],
)  # fmt: skip
def test_it_keeps_what_qt_reads_for_the_shipped_languages(name: str, kept: bool) -> None:
    assert icu_data.wanted(name, {"de", "pt", "ar"}) is kept


def test_a_package_is_rebuilt_item_for_item() -> None:
    spec = importlib.util.find_spec("PySide6")
    assert spec is not None and spec.submodule_search_locations
    library = next(Path(spec.submodule_search_locations[0]).glob("Qt/lib/libicudata.so.*"))  # the wheel's
    raw = library.read_bytes()
    _symbol, start, size = icu_data._symbol(raw)
    header, items = icu_data._items(raw[start : start + size])
    assert len(items) > 3000 and len(icu_data.package(header, items)) == size
    assert icu_data._items(icu_data.package(header, items[:10])) == (header, [
        (name, data + b"\0" * (-len(data) % 16)) for name, data in items[:10]
    ])  # fmt: skip


def test_qt_answers_the_same_with_the_bundle_s_icu(bundle: Path) -> None:
    ours = bundle / "_internal" / "PySide6" / "Qt" / "lib"
    assert (ours / "libicudata.so.73").stat().st_size < 10_000_000  # the wheel's is 32 MB

    def probe(**env: str) -> str:
        result = subprocess.run(  # noqa: S603 - this interpreter, fixed script
            [sys.executable, "-c", PROBE], env={**os.environ, **env}, capture_output=True, text=True, check=True
        )
        return result.stdout

    full, small = probe(), probe(LD_LIBRARY_PATH=str(ours))  # ICU's libraries are found there first
    assert small.splitlines()[:-1] == full.splitlines()[:-1]  # collation, case mapping, zone names
    assert "İSTANBUL STRASSE" in small and "Mitteleuropäische Normalzeit" in small
    # Converters: Qt's own (UTF, Latin-1) stay; ICU's for legacy encodings are left out, by design.
    assert (full.splitlines()[-1], small.splitlines()[-1]) == ("True True", "True False")
