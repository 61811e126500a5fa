"""A smaller ICU data library for Qt on Linux: the same `libicudata.so.<N>`, only the data Qt can use.

    python packaging/icu_data.py PySide6/Qt/lib/libicudata.so.73 build/icu --languages de ar ...

PySide6's Linux wheels link Qt against ICU and ship ICU's whole data library (31 MB): every
character-set converter, break-iterator dictionary, transliterator, and unit, currency, language
and region names for ~800 locales. Qt asks ICU only for case mapping, collation (QCollator),
time-zone names and converters for encodings other than UTF and Latin-1, which the kiosk never
names; its locale data and text layout are Qt's own. So the ICU package keeps its root data,
collation, zone and break-iterator rules, and the locales of the shipped languages; it drops the
converters, the dictionaries and the name trees Qt never reads. An item ICU does not find falls
back to root, as for any locale ICU lacks. The package is ICU's common-data format (a table of
contents of named items, each a complete data file) put back into a shared library that exports
the same `icudt<N>_dat` symbol (assembled with the C compiler). Windows wheels carry no ICU.
"""

from __future__ import annotations

import argparse
import re
import shutil
import struct
import subprocess
from pathlib import Path

DROPPED_TREES = ("translit", "rbnf", "unit", "curr", "lang", "region")
"""ICU's name and transform trees: Qt's QLocale has its own CLDR data and transliterates nothing."""

LOCALE_TREES = ("", "coll", "zone", "brkitr")
"""Where an item named after a locale is kept only for the shipped languages (plus root)."""

KEPT_LOCALES = {"root", "res_index", "pool"}
"""Not locales: the root fallback, each tree's index of locales and its shared string pool."""

SHT_DYNSYM = 11

LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*$")


def _symbol(library: bytes) -> tuple[str, int, int]:
    """The `icudt<N>_dat` symbol of an ELF64 little-endian library: its name, file offset and size."""
    if library[:6] != b"\x7fELF\x02\x01":
        raise SystemExit("icu_data: not a 64-bit little-endian ELF library")
    (section_table,) = struct.unpack_from("<Q", library, 0x28)
    section_size, section_count = struct.unpack_from("<HH", library, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", library, section_table + i * section_size) for i in range(section_count)
    ]
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entry_size in sections:
        if kind != SHT_DYNSYM:
            continue
        strings = sections[link][4]
        for entry in range(offset, offset + size, entry_size):
            name_at, _, _, index, value, length = struct.unpack_from("<IBBHQQ", library, entry)
            name = library[strings + name_at : library.index(b"\0", strings + name_at)].decode()
            if re.fullmatch(r"icudt\d+_dat", name) and index:
                return name, value - sections[index][3] + sections[index][4], length
    raise SystemExit("icu_data: no icudt<N>_dat symbol: not ICU's data library")


def _items(package_bytes: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A common data package's header and its (name, data) items, in table order."""
    (header_size,) = struct.unpack_from("<H", package_bytes, 0)
    if package_bytes[2:4] != b"\xda\x27" or package_bytes[12:16] != b"CmnD":
        raise SystemExit("icu_data: the symbol holds no ICU common data package")
    toc = package_bytes[header_size:]
    (count,) = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    ends = [entry[1] for entry in entries[1:]] + [len(toc)]
    items = []
    for (name_at, data_at), end in zip(entries, ends, strict=True):
        name = toc[name_at : toc.index(b"\0", name_at)].decode("ascii")
        items.append((name, toc[data_at:end]))
    return package_bytes[:header_size], items


def wanted(name: str, languages: set[str]) -> bool:
    """Whether Qt can use the package item `name` (`icudt73l/coll/de.res`) for the `languages`."""
    parts = name.split("/")[1:]
    tree, file = ("/".join(parts[:-1]), parts[-1])
    stem, _, suffix = file.rpartition(".")
    if tree in DROPPED_TREES or suffix == "cnv" or suffix == "dict":
        return False
    if tree in LOCALE_TREES and suffix == "res" and stem not in KEPT_LOCALES and LOCALE.match(stem):
        return stem.split("_")[0] in languages
    return True


def package(header: bytes, items: list[tuple[str, bytes]]) -> bytes:
    """A common data package of `items` (names sorted, as ICU's binary search needs; data 16-byte aligned)."""
    items = sorted(items, key=lambda item: item[0].encode("ascii"))
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    table_size = 4 + 8 * len(items)
    offset = table_size + len(names)
    offset += -offset % 16
    entries, blobs, name_at = [], [], table_size
    for name, data in items:
        entries.append(struct.pack("<II", name_at, offset))
        name_at += len(name) + 1
        blobs.append(data + b"\0" * (-len(data) % 16))
        offset += len(blobs[-1])
    toc = struct.pack("<I", len(items)) + b"".join(entries) + names
    toc += b"\0" * (-(len(header) + len(toc)) % 16)
    return header + toc + b"".join(blobs)


def build(library: Path, out: Path, languages: set[str]) -> Path:
    """Write `out`/<library's name>: the library with only the data Qt can use for `languages`."""
    raw = library.read_bytes()
    symbol, start, size = _symbol(raw)
    header, items = _items(raw[start : start + size])
    kept = [item for item in items if wanted(item[0], languages)]
    out.mkdir(parents=True, exist_ok=True)
    data = out / "icudata.dat"
    data.write_bytes(package(header, kept))
    source = out / "icudata.S"
    source.write_text(
        f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n{symbol}:\n"
        f'\t.incbin "{data.name}"\n\t.size {symbol}, . - {symbol}\n\t.section .note.GNU-stack,"",@progbits\n',
        encoding="ascii",
    )
    target = out / library.name
    if shutil.which("cc") is None:
        raise SystemExit("icu_data: no C compiler (cc) to assemble the library: install one (Debian: gcc)")
    subprocess.run(  # noqa: S603 - the C compiler on fixed arguments
        ["cc", "-shared", "-nostdlib", f"-Wl,-soname,{library.name}", "-o", target.name, source.name],  # noqa: S607
        cwd=out, check=True,
    )  # fmt: skip
    print(f"icu_data: {library.name} {len(raw) / 1e6:.1f} MB -> {target.stat().st_size / 1e6:.1f} MB "
          f"({len(kept)} of {len(items)} items)")  # fmt: skip
    return target


def main(argv: list[str] | None = None) -> int:
    """Build the smaller library from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--languages", nargs="+", required=True)
    args = parser.parse_args(argv)
    build(args.library, args.out, set(args.languages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
