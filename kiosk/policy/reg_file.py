"""Read a registry export (.reg, as regedit writes it) into a `DictRegistryReader` of the kiosk's Group Policy key.

So Group Policy can be tried and shown on any machine: export HKLM\\Software\\Policies\\<vendor>\\<product>
with regedit (or `reg export`) and pass the file to `kiosk policy show --effective --registry FILE.reg`.

Both formats regedit knows are read: "Windows Registry Editor Version 5.00" (UTF-16 LE with a byte
order mark, as regedit saves it, or UTF-8) and "REGEDIT4" (ANSI). Keys outside the kiosk's Group
Policy key are skipped; deletions (`[-key]`, `"name"=-`) are applied in order. Anything else that is
not what regedit writes is an error naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kiosk.policy.group_policy import DictRegistryReader, KeyPath, RegistryValue, RegType
from kiosk.product import GROUP_POLICY_KEY

MAX_REG_BYTES = 4 * 1024 * 1024
"""Registry exports larger than this (4 MiB) are refused unread: the kiosk's key is a few kilobytes."""

_HEADERS = {"Windows Registry Editor Version 5.00": 5, "REGEDIT4": 4}
_HIVES = ("HKEY_LOCAL_MACHINE", "HKLM")
_ROOT = tuple(part.casefold() for part in GROUP_POLICY_KEY.split("\\"))
_HEX = re.compile(r"^hex(?:\(([0-9a-fA-F]{1,8})\))?:(.*)$", re.DOTALL)
_DWORD = re.compile(r"^dword:([0-9a-fA-F]{1,8})$")


class RegFileError(Exception):
    """A .reg file that cannot be read: the file, the line (if any) and why."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")


@dataclass
class _Line:
    number: int
    text: str


def read_reg_file(path: Path) -> DictRegistryReader:
    """The kiosk's Group Policy values in the .reg file at `path`; `RegFileError` when it is not a usable export."""
    try:
        size = path.stat().st_size
        if size > MAX_REG_BYTES:
            raise RegFileError(str(path), None, f"is {size} bytes; a registry export may be at most 4 MiB here")
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegFileError(str(path), None, "no such file; give a .reg file exported with regedit") from None
    except IsADirectoryError:
        raise RegFileError(str(path), None, "is a directory; give a .reg file exported with regedit") from None
    except OSError as error:
        raise RegFileError(str(path), None, f"cannot read the file: {error.strerror or error}") from None
    return parse_reg_text(_decode(data, str(path)), str(path))


def _decode(data: bytes, source: str) -> str:
    if data.startswith(b"\xff\xfe"):
        encoding = "utf-16-le"
        data = data[2:]
    elif data.startswith(b"\xfe\xff"):
        encoding = "utf-16-be"
        data = data[2:]
    else:
        encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        if encoding == "utf-8-sig" and data.startswith(b"REGEDIT4"):
            # REGEDIT4 files are in the machine's ANSI code page; Western European is the common one.
            return data.decode("cp1252", errors="replace")
        raise RegFileError(source, None, "is neither UTF-16 (as regedit saves) nor UTF-8 text") from None


def parse_reg_text(text: str, source: str) -> DictRegistryReader:
    """Parse the text of a .reg file (`source` names it in errors) into the kiosk's Group Policy values."""
    lines = [_Line(number, line.rstrip()) for number, line in enumerate(text.splitlines(), start=1)]
    lines = [line for line in lines if line.text.strip() and not line.text.lstrip().startswith(";")]
    if not lines or lines[0].text.strip() not in _HEADERS:
        first = lines[0].number if lines else 1
        raise RegFileError(
            source, first, 'not a registry export: the first line must be "Windows Registry Editor Version 5.00"'
        )
    version = _HEADERS[lines[0].text.strip()]
    # Keys and value names are case-insensitive, as in the registry: both are kept casefolded here,
    # next to the names as written.
    keys: dict[KeyPath, tuple[KeyPath, dict[str, tuple[str, RegistryValue]]]] = {}
    current: KeyPath | None = None  # below the kiosk's key; None: a key we skip
    seen_key = seen_root = False
    index = 1
    while index < len(lines):
        line = lines[index]
        index += 1
        stripped = line.text.strip()
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise RegFileError(source, line.number, "a key line must end with ']'")
            seen_key = True
            delete = stripped.startswith("[-")
            current = _relative(stripped[2:-1] if delete else stripped[1:-1], source, line.number)
            if current is None:
                continue
            seen_root = True
            folded = _fold(current)
            if delete:
                for path in [p for p in keys if p[: len(folded)] == folded]:
                    del keys[path]
                current = None
            else:
                keys.setdefault(folded, (current, {}))
            continue
        if not seen_key:
            raise RegFileError(source, line.number, "a value before any [key] line")
        name, rest = _value_name(stripped, source, line.number)
        # regedit wraps long hex data with a trailing backslash and indents the continuation.
        while rest.endswith("\\") and rest.lower().startswith("hex") and index < len(lines):
            rest = rest[:-1] + lines[index].text.strip()
            index += 1
        if current is None:
            continue
        values = keys[_fold(current)][1]
        if rest == "-":
            values.pop(name.casefold(), None)
        else:
            values[name.casefold()] = (name, _value(rest, version, source, line.number))
    if not seen_root:
        raise RegFileError(
            source,
            None,
            rf"has no key HKEY_LOCAL_MACHINE\{GROUP_POLICY_KEY}: export that key (regedit: right-click it, Export)",
        )
    return DictRegistryReader({path: dict(values.values()) for path, values in keys.values()})


def _fold(path: KeyPath) -> KeyPath:
    return tuple(part.casefold() for part in path)


def _relative(key: str, source: str, number: int) -> KeyPath | None:
    """The key's path below the kiosk's Group Policy key, or None for a key elsewhere."""
    parts = key.split("\\")
    if not parts or not all(parts):
        raise RegFileError(source, number, f"malformed key name {key!r}")
    hive, *rest = parts
    folded = tuple(part.casefold() for part in rest)
    if hive.upper() not in _HIVES or folded[: len(_ROOT)] != _ROOT:
        return None
    return tuple(rest[len(_ROOT) :])


def _value_name(line: str, source: str, number: int) -> tuple[str, str]:
    """Split `"name"=data` (or `@=data`, the default value, named '') into the name and the data text."""
    if line.startswith("@"):
        name, rest = "", line[1:].lstrip()
    elif line.startswith('"'):
        name, end = _quoted(line, 0, source, number)
        rest = line[end:].lstrip()
    else:
        raise RegFileError(source, number, 'a value line must start with "name"= or @=')
    if not rest.startswith("="):
        raise RegFileError(source, number, "expected '=' after the value name")
    return name, rest[1:].strip()


def _quoted(text: str, start: int, source: str, number: int) -> tuple[str, int]:
    """The string quoted at `start` (regedit escapes only \\\\ and \\"), and the index after its closing quote."""
    out: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in '\\"':
            out.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    raise RegFileError(source, number, "a quoted string is not closed")


def _value(data: str, version: int, source: str, number: int) -> RegistryValue:
    """The registry value the data text of a value line describes."""
    if data.startswith('"'):
        text, end = _quoted(data, 0, source, number)
        if data[end:].strip():
            raise RegFileError(source, number, "unexpected text after the closing quote")
        return RegistryValue(RegType.REG_SZ, text)
    if match := _DWORD.match(data):
        return RegistryValue(RegType.REG_DWORD, int(match[1], 16))
    if match := _HEX.match(data):
        kind = int(match[1], 16) if match[1] else RegType.REG_BINARY
        raw = _hex_bytes(match[2], source, number)
        return _typed(kind, raw, version, source, number)
    raise RegFileError(source, number, 'unrecognised value data: expected "text", dword:…, hex…: or -')


def _hex_bytes(text: str, source: str, number: int) -> bytes:
    cleaned = re.sub(r"\s+", "", text).rstrip(",")
    if not cleaned:
        return b""
    parts = cleaned.split(",")
    if not all(re.fullmatch(r"[0-9a-fA-F]{1,2}", part) for part in parts):
        raise RegFileError(source, number, "hex data must be bytes like 4a,00,ff separated by commas")
    return bytes(int(part, 16) for part in parts)


def _typed(kind: int, raw: bytes, version: int, source: str, number: int) -> RegistryValue:
    """Turn hex(N) bytes into data as winreg would return it for type N."""

    def text(raw: bytes) -> str:
        # REGEDIT5 stores strings in hex as UTF-16 LE; REGEDIT4 in the ANSI code page.
        if version == 5:
            if len(raw) % 2:
                raise RegFileError(source, number, "UTF-16 text in hex data must have an even number of bytes")
            return raw.decode("utf-16-le", errors="replace")
        return raw.decode("cp1252", errors="replace")

    if kind in (RegType.REG_SZ, RegType.REG_EXPAND_SZ):
        return RegistryValue(kind, text(raw).split("\0", 1)[0])
    if kind == RegType.REG_MULTI_SZ:
        strings = text(raw).split("\0")
        # The list ends with an empty string (two NULs); an empty list is a lone NUL or no bytes.
        while strings and strings[-1] == "":
            strings.pop()
        return RegistryValue(kind, tuple(strings))
    if kind == RegType.REG_DWORD:
        if len(raw) != 4:
            raise RegFileError(source, number, f"a hex(4) value (REG_DWORD) must have 4 bytes, not {len(raw)}")
        return RegistryValue(kind, int.from_bytes(raw, "little"))
    if kind == RegType.REG_QWORD:
        if len(raw) != 8:
            raise RegFileError(source, number, f"a hex(b) value (REG_QWORD) must have 8 bytes, not {len(raw)}")
        return RegistryValue(kind, int.from_bytes(raw, "little"))
    return RegistryValue(kind, raw)
