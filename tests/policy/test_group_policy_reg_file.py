"""Registry exports (.reg) as regedit writes them, read as the kiosk's Group Policy values; bad files named by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.policy.group_policy import RegistryKey, RegistryValue, RegType, read_group_policy
from kiosk.policy.reg_file import MAX_REG_BYTES, RegFileError, parse_reg_text, read_reg_file

KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Contoso\AccountRecoveryKiosk"
HEADER = "Windows Registry Editor Version 5.00"


def utf16_hex(*strings: str) -> str:
    """REG_MULTI_SZ bytes as regedit writes them in hex(7): UTF-16 LE, each string NUL-ended, one more NUL."""
    data = "".join(s + "\0" for s in strings).encode("utf-16-le") + b"\0\0"
    return ",".join(f"{byte:02x}" for byte in data)


# What regedit exports (UTF-16 LE with a byte order mark, CRLF), with a wrapped hex(7) line.
EXPORT = "\r\n".join(
    [
        HEADER,
        "",
        f"[{KEY}]",
        "",
        f"[{KEY}\\methods]",
        '"required"=dword:00000002',
        '"enabled"=hex(7):65,00,6d,00,61,00,69,00,6c,00,00,00,61,00,70,00,70,00,5f,00,63,\\',
        "  00,6f,00,64,00,65,00,00,00,00,00",
        "",
        f"[{KEY}\\kiosk\\branding]",
        r'"organisation"="Contoso \"Lobby\" C:\\Kiosk"',
        "",
        f"[{KEY}\\backend]",
        '"timeout_seconds"="2.5"',
        "",
        r"[HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows\Personalization]",
        '"NoLockScreen"=dword:00000001',
        "",
    ]
)


def reg(tmp_path: Path, text: str, encoding: str = "utf-8", bom: bytes = b"") -> Path:
    path = tmp_path / "gp.reg"
    path.write_bytes(bom + text.encode(encoding))
    return path


def test_a_regedit_export_in_utf16_is_read(tmp_path: Path) -> None:
    reader = read_reg_file(reg(tmp_path, EXPORT, "utf-16-le", b"\xff\xfe"))
    assert reader.read_key(("methods",)) == RegistryKey(
        {
            "required": RegistryValue(RegType.REG_DWORD, 2),
            "enabled": RegistryValue(RegType.REG_MULTI_SZ, ("email", "app_code")),
        }
    )
    assert reader.read_key(("kiosk", "branding")) == RegistryKey(
        {"organisation": RegistryValue(RegType.REG_SZ, 'Contoso "Lobby" C:\\Kiosk')}
    )
    assert set(reader.read_key(()).subkeys) == {"methods", "kiosk", "backend"}  # type: ignore[union-attr]
    assert reader.read_key(("kiosk",)) == RegistryKey({}, ("branding",))  # a parent key exists by its child
    settings = read_group_policy(reader)
    assert settings.problems == ()
    assert settings.values == {
        ("methods", "required"): 2,
        ("methods", "enabled"): ["email", "app_code"],
        ("kiosk", "branding", "organisation"): 'Contoso "Lobby" C:\\Kiosk',
        ("backend", "timeout_seconds"): 2.5,
    }


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-be", b"\xfe\xff")])
def test_other_encodings_read_the_same(tmp_path: Path, encoding: str, bom: bytes) -> None:
    expected = read_group_policy(read_reg_file(reg(tmp_path, EXPORT, "utf-16-le", b"\xff\xfe"))).values
    assert read_group_policy(read_reg_file(reg(tmp_path, EXPORT.replace("\r\n", "\n"), encoding, bom))).values == (
        expected
    )


def test_every_value_type_regedit_writes() -> None:
    text = "\n".join(
        [
            HEADER,
            f"[{KEY}\\t]",
            '"sz"="plain"',
            f'"multi"=hex(7):{utf16_hex("a", "b c")}',
            '"empty_multi"=hex(7):00,00',
            '"no_bytes"=hex(7):',
            f'"expand"=hex(2):{utf16_hex("%ProgramData%")[:-6]}',
            '"dword_hex"=hex(4):2a,00,00,00',
            '"qword"=hex(b):01,00,00,00,00,00,00,00',
            '"binary"=hex:de,ad,BE,ef',
            '"none"=hex(0):',
            '"short_dword"=dword:ff',
            '@="the default value"',
        ]
    )
    values = parse_reg_text(text, "t.reg").read_key(("t",))
    assert values is not None
    assert values.values == {
        "sz": RegistryValue(RegType.REG_SZ, "plain"),
        "multi": RegistryValue(RegType.REG_MULTI_SZ, ("a", "b c")),
        "empty_multi": RegistryValue(RegType.REG_MULTI_SZ, ()),
        "no_bytes": RegistryValue(RegType.REG_MULTI_SZ, ()),
        "expand": RegistryValue(RegType.REG_EXPAND_SZ, "%ProgramData%"),
        "dword_hex": RegistryValue(RegType.REG_DWORD, 42),
        "qword": RegistryValue(RegType.REG_QWORD, 1),
        "binary": RegistryValue(RegType.REG_BINARY, b"\xde\xad\xbe\xef"),
        "none": RegistryValue(RegType.REG_NONE, b""),
        "short_dword": RegistryValue(RegType.REG_DWORD, 255),
        "": RegistryValue(RegType.REG_SZ, "the default value"),
    }


def test_regedit4_files_keep_strings_in_the_ansi_code_page(tmp_path: Path) -> None:
    text = "\r\n".join(["REGEDIT4", "", f"[{KEY}\\password]", '"banned_words"=hex(7):63,61,66,e9,00,00', ""])
    path = tmp_path / "old.reg"
    path.write_bytes(text.encode("cp1252"))
    key = read_reg_file(path).read_key(("password",))
    assert key is not None and key.values["banned_words"] == RegistryValue(RegType.REG_MULTI_SZ, ("café",))


def test_comments_hklm_short_name_and_key_case_are_accepted() -> None:
    text = "\n".join(
        [
            HEADER,
            "; exported for the lobby kiosks",
            r"[HKLM\software\POLICIES\contoso\accountrecoverykiosk\Methods]",
            '"code_length"=dword:00000007',
        ]
    )
    assert read_group_policy(parse_reg_text(text, "t.reg")).values == {("methods", "code_length"): 7}


def test_deletions_apply_in_order() -> None:
    text = "\n".join(
        [
            HEADER,
            f"[{KEY}\\methods]",
            '"required"=dword:00000002',
            '"code_length"=dword:00000007',
            f"[{KEY}\\captcha]",
            '"audio"=dword:00000000',
            f"[{KEY}\\METHODS]",
            '"Required"=-',
            f"[-{KEY}\\captcha]",
        ]
    )
    reader = parse_reg_text(text, "t.reg")
    assert read_group_policy(reader).values == {("methods", "code_length"): 7}
    assert reader.read_key(("captcha",)) is None


def test_a_later_value_replaces_an_earlier_one_whatever_its_case() -> None:
    text = "\n".join([HEADER, f"[{KEY}\\methods]", '"Required"=dword:00000001', '"required"=dword:00000002'])
    assert read_group_policy(parse_reg_text(text, "t.reg")).values == {("methods", "required"): 2}


def test_keys_of_other_products_are_skipped() -> None:
    text = "\n".join(
        [
            HEADER,
            f"[{KEY}]",
            r"[HKEY_CURRENT_USER\Software\Policies\Contoso\AccountRecoveryKiosk\methods]",
            '"required"=dword:00000002',
            f"[{KEY}Other\\methods]",
            '"x"=dword:00000001',
        ]
    )
    assert read_group_policy(parse_reg_text(text, "t.reg")).values == {}


@pytest.mark.parametrize(
    ("lines", "line", "reason"),
    [
        (["REGEDIT5", f"[{KEY}]"], 1, "not a registry export: the first line must be"),
        ([HEADER, '"required"=dword:00000002'], 2, "a value before any [key] line"),
        ([HEADER, f"[{KEY}\\methods"], 2, "a key line must end with ']'"),
        ([HEADER, f"[{KEY}\\\\methods]"], 2, "malformed key name"),
        ([HEADER, f"[{KEY}]", "required=dword:2"], 3, 'a value line must start with "name"= or @='),
        ([HEADER, f"[{KEY}]", '"required" dword:2'], 3, "expected '=' after the value name"),
        ([HEADER, f"[{KEY}]", '"required=dword:2'], 3, "a quoted string is not closed"),
        ([HEADER, f"[{KEY}]", '"a"="text" trailing'], 3, "unexpected text after the closing quote"),
        ([HEADER, f"[{KEY}]", '"a"=dword:xyz'], 3, "unrecognised value data"),
        ([HEADER, f"[{KEY}]", '"a"=dword:123456789'], 3, "unrecognised value data"),
        ([HEADER, f"[{KEY}]", '"a"=yes'], 3, "unrecognised value data"),
        ([HEADER, f"[{KEY}]", '"a"=hex:zz,00'], 3, "hex data must be bytes like 4a,00,ff"),
        ([HEADER, f"[{KEY}]", '"a"=hex(4):01,00'], 3, "a hex(4) value (REG_DWORD) must have 4 bytes, not 2"),
        ([HEADER, f"[{KEY}]", '"a"=hex(b):01'], 3, "a hex(b) value (REG_QWORD) must have 8 bytes, not 1"),
        ([HEADER, f"[{KEY}]", '"a"=hex(7):61,00,62'], 3, "UTF-16 text in hex data must have an even number of bytes"),
    ],
)
def test_a_broken_file_names_its_line(lines: list[str], line: int, reason: str) -> None:
    with pytest.raises(RegFileError) as raised:
        parse_reg_text("\n".join(lines), "broken.reg")
    assert (raised.value.path, raised.value.line) == ("broken.reg", line)
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"broken.reg:{line}: ")


def test_a_wrapped_hex_value_reports_its_first_line() -> None:
    with pytest.raises(RegFileError) as raised:
        parse_reg_text("\n".join([HEADER, f"[{KEY}]", '"a"=hex:00,\\', "  0g"]), "broken.reg")
    assert raised.value.line == 3


def test_an_export_without_the_kiosks_key_is_refused() -> None:
    text = "\n".join([HEADER, r"[HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft]", '"a"=dword:00000001'])
    with pytest.raises(RegFileError) as raised:
        parse_reg_text(text, "wrong.reg")
    assert raised.value.line is None
    assert str(raised.value) == (
        r"wrong.reg: has no key HKEY_LOCAL_MACHINE\Software\Policies\Contoso\AccountRecoveryKiosk: export that key "
        "(regedit: right-click it, Export)"
    )


def test_empty_and_comment_only_files_are_not_exports() -> None:
    for text in ("", "; nothing\n\n"):
        with pytest.raises(RegFileError, match="not a registry export"):
            parse_reg_text(text, "empty.reg")


def test_unreadable_files_say_why(tmp_path: Path) -> None:
    with pytest.raises(RegFileError, match=r"no such file; give a \.reg file exported with regedit"):
        read_reg_file(tmp_path / "missing.reg")
    with pytest.raises(RegFileError, match="is a directory"):
        read_reg_file(tmp_path)
    binary = tmp_path / "binary.reg"
    binary.write_bytes(b"\x80\x81\xfe garbage")
    with pytest.raises(RegFileError, match=r"is neither UTF-16 \(as regedit saves\) nor UTF-8 text"):
        read_reg_file(binary)
    huge = tmp_path / "huge.reg"
    with huge.open("wb") as file:
        file.truncate(MAX_REG_BYTES + 1)
    with pytest.raises(RegFileError, match="a registry export may be at most 4 MiB"):
        read_reg_file(huge)
