"""Group Policy over the policy file: defaults < file < Group Policy, and every bad registry value named by its path.

The registry is a `DictRegistryReader` (the same reader a .reg export fills); the Windows reader is
exercised against a FAKE winreg module at the end, since the real registry cannot run here.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main as cli_main
from kiosk.policy import group_policy
from kiosk.policy.group_policy import (
    ROOT,
    DictRegistryReader,
    KeyPath,
    RegistryKey,
    RegistryValue,
    RegType,
    WindowsRegistryReader,
    leaves,
    read_group_policy,
    system_registry_reader,
)
from kiosk.policy.loader import PolicyError, PolicyProblem, format_problem, load_policy, load_policy_sources
from kiosk.policy.schema import Policy
from kiosk.product import GROUP_POLICY_KEY

REG = RegType


def dword(value: int) -> RegistryValue:
    return RegistryValue(REG.REG_DWORD, value)


def sz(value: str) -> RegistryValue:
    return RegistryValue(REG.REG_SZ, value)


def multi(*values: str) -> RegistryValue:
    return RegistryValue(REG.REG_MULTI_SZ, values)


def registry(keys: Mapping[KeyPath, Mapping[str, RegistryValue]]) -> DictRegistryReader:
    return DictRegistryReader(keys)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, reader: DictRegistryReader) -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as raised:
        load_policy(path, reader)
    return list(raised.value.problems)


def value_at(policy: Policy, path: KeyPath) -> Any:
    node: Any = policy.model_dump(mode="json")
    for part in path:
        node = node[part]
    return node


# ------------------------------------------------------------------------------- precedence


# (key path, the file's TOML value, the file's value as read back, the registry value, as read back)
PRECEDENCE = [
    (("notifications", "notify_user_on_reset"), "false", False, dword(1), True),  # bool
    (("methods", "code_length"), "7", 7, dword(9), 9),  # int
    (("methods", "required"), "2", 2, dword(1), 1),  # a choice of numbers
    (("backend", "timeout_seconds"), "3.5", 3.5, sz("2.5"), 2.5),  # a number with decimals
    (("kiosk", "default_language"), '"de"', "de", sz("fr"), "fr"),  # text
    (("kiosk", "theme"), '"standard"', "standard", sz("high_contrast"), "high_contrast"),  # enum
    (
        ("methods", "enabled"),
        '["email", "app_code"]',
        ["email", "app_code"],
        multi("app_code", "mobile_sms", "email"),
        ["app_code", "mobile_sms", "email"],
    ),  # list: replaced, not merged
    (("kiosk", "branding", "organisation"), '"Fabrikam"', "Fabrikam", sz("Northwind"), "Northwind"),  # nested
]


@pytest.mark.parametrize(("path", "toml", "from_file", "gp_value", "from_gp"), PRECEDENCE)
def test_defaults_then_file_then_group_policy(
    tmp_path: Path, path: KeyPath, toml: str, from_file: Any, gp_value: RegistryValue, from_gp: Any
) -> None:
    default = value_at(Policy(), path)
    assert default != from_file != from_gp  # each layer visibly changes the value
    section, key = ".".join(path[:-1]), path[-1]
    empty = write(tmp_path, "")
    in_file = tmp_path / "in-file.toml"
    in_file.write_text(f"[{section}]\n{key} = {toml}\n", encoding="utf-8")
    gp = registry({path[:-1]: {key: gp_value}})
    nothing = registry({})

    assert value_at(load_policy(empty, nothing), path) == default
    assert value_at(load_policy(empty), path) == default
    assert value_at(load_policy(in_file, nothing), path) == from_file
    assert value_at(load_policy(in_file, gp), path) == from_gp
    assert value_at(load_policy(empty, gp), path) == from_gp
    loaded = load_policy_sources(in_file, gp)
    assert loaded.group_policy[path] == "\\".join((ROOT, *path))
    assert loaded.file_lines[path] == 2


def test_settings_group_policy_leaves_alone_keep_the_files_values(tmp_path: Path) -> None:
    path = write(tmp_path, '[methods]\nenabled = ["email", "app_code"]\ncode_length = 7\n')
    policy = load_policy(path, registry({("methods",): {"required": dword(2)}}))
    assert (policy.methods.required, policy.methods.code_length) == (2, 7)
    assert [method.value for method in policy.methods.enabled] == ["email", "app_code"]


def test_a_whole_section_can_come_from_group_policy(tmp_path: Path) -> None:
    gp = registry(
        {
            ("directory",): {"kind": sz("active_directory")},
            ("directory", "active_directory"): {
                "urls": multi("ldaps://dc1.contoso.com", "ldaps://dc2.contoso.com"),
                "base_dn": sz("DC=contoso,DC=com"),
                "bind_dn": sz("kiosk-service@contoso.com"),
                "pool_size": dword(8),
            },
            ("directory", "active_directory", "attributes"): {"login": sz("userPrincipalName")},
        }
    )
    policy = load_policy(write(tmp_path, "[reset]\nenabled_for = 'all'\n"), gp)
    directory = policy.directory.active_directory
    assert directory is not None
    assert directory.urls == ("ldaps://dc1.contoso.com", "ldaps://dc2.contoso.com")
    assert (directory.pool_size, directory.attributes.login) == (8, "userPrincipalName")
    assert directory.attributes.display_name == "displayName"  # a default inside a section Group Policy made


def test_names_are_matched_case_insensitively_as_windows_does(tmp_path: Path) -> None:
    gp = registry({("Methods",): {"Required": dword(2)}, ("KIOSK", "Branding"): {"ORGANISATION": sz("Tailspin")}})
    policy = load_policy(write(tmp_path, ""), gp)
    assert (policy.methods.required, policy.kiosk.branding.organisation) == (2, "Tailspin")


def test_an_empty_multi_string_is_an_empty_list(tmp_path: Path) -> None:
    path = write(tmp_path, '[password]\nbanned_words = ["contoso"]\n')
    assert load_policy(path, registry({("password",): {"banned_words": multi()}})).password.banned_words == ()


def test_group_policy_key_with_no_values_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "[methods]\ncode_length = 7\n")
    assert load_policy(path, registry({(): {}, ("methods",): {}})) == load_policy(path)


# ------------------------------------------------------------------------------- bad values


def only(found: list[PolicyProblem]) -> PolicyProblem:
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("methods", "code_length"), sz("9"), 'must be a REG_DWORD (a whole number); got REG_SZ "9"'),
        (("methods", "code_length"), dword(11), "must be a whole number between 6 and 10; got the number 11"),
        (("methods", "required"), dword(3), "must be 1 or 2; got the number 3"),
        (("captcha", "audio"), dword(2), "must be a REG_DWORD 1 (true) or 0 (false); got REG_DWORD 2"),
        (("captcha", "audio"), sz("true"), 'must be a REG_DWORD (1 for true, 0 for false); got REG_SZ "true"'),
        (("kiosk", "theme"), sz("dark"), 'must be one of: standard, high_contrast, system; got the text "dark"'),
        (("kiosk", "theme"), dword(1), "must be a REG_SZ (text); got REG_DWORD 1"),
        (
            ("backend", "timeout_seconds"),
            sz("fast"),
            'must be a number greater than 0 and at most 120; got the text "fast"',
        ),
        (
            ("backend", "timeout_seconds"),
            sz("nan"),
            'must be a number greater than 0 and at most 120; got the text "nan"',
        ),
        (
            ("backend", "timeout_seconds"),
            sz("500"),
            "must be a number greater than 0 and at most 120; got the number 500.0",
        ),
        (
            ("backend", "timeout_seconds"),
            dword(5),
            "must be a REG_SZ (a number written as text, e.g. 10 or 2.5); got REG_DWORD 5",
        ),
        (("methods", "enabled"), sz("email"), 'must be a REG_MULTI_SZ (one string per item); got REG_SZ "email"'),
        (("methods", "enabled"), multi("email", "pigeon"), "item 2 must be one of: email, mobile_sms"),
        (("kiosk", "branding", "accent_color"), sz("blue"), "must look like #RRGGBB"),
        (("password", "banned_words"), RegistryValue(REG.REG_BINARY, b"\x00\x01"), "got REG_BINARY of 2 bytes"),
        (
            ("kiosk", "branding", "logo"),
            RegistryValue(REG.REG_EXPAND_SZ, "%ProgramData%\\logo.png"),
            "got REG_EXPAND_SZ",
        ),
    ],
)
def test_a_bad_value_is_a_problem_naming_its_registry_path(
    tmp_path: Path, path: KeyPath, value: RegistryValue, message: str
) -> None:
    # The file sets the same key validly: Group Policy's bad value is not silently dropped for it.
    valid = {
        "code_length": "8",
        "required": "1",
        "audio": "true",
        "theme": '"standard"',
        "timeout_seconds": "10",
        "enabled": '["email", "app_code"]',
        "accent_color": '"#000000"',
        "banned_words": "[]",
        "logo": '""',
    }
    policy_file = write(tmp_path, f"[{'.'.join(path[:-1])}]\n{path[-1]} = {valid[path[-1]]}\n")
    problem = only(problems(policy_file, registry({path[:-1]: {path[-1]: value}})))
    location = "\\".join(("HKLM", GROUP_POLICY_KEY, *path))
    assert (problem.key, problem.line, problem.location) == (".".join(path), None, location)
    assert message in problem.message
    assert format_problem(str(policy_file), problem).startswith(f"{location}: {'.'.join(path)}: ")


def test_problems_in_the_file_and_in_group_policy_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "[password]\nhistory = 99\n")
    found = problems(path, registry({("methods",): {"code_length": dword(4)}, ("captcha",): {"audio": dword(7)}}))
    assert [(p.key, p.line, p.location is not None) for p in found] == [
        ("password.history", 2, False),  # the file's, by line, first
        ("captcha.audio", None, True),
        ("methods.code_length", None, True),
    ]


def test_unknown_value_names_the_key_lists_the_allowed_and_suggests(tmp_path: Path) -> None:
    problem = only(problems(write(tmp_path, ""), registry({("methods",): {"requird": dword(2)}})))
    assert (problem.key, problem.location) == ("methods.requird", f"{ROOT}\\methods\\requird")
    assert problem.message.startswith(f'unknown value "requird" in {ROOT}\\methods; allowed values: enabled, required,')
    assert problem.message.endswith("(did you mean required?)")


def test_unknown_subkey_is_a_problem(tmp_path: Path) -> None:
    problem = only(problems(write(tmp_path, ""), registry({("metods",): {"required": dword(2)}})))
    assert (problem.key, problem.location) == ("metods", f"{ROOT}\\metods")
    assert f'unknown subkey "metods" in {ROOT}; allowed subkeys: reset, methods,' in problem.message
    assert problem.message.endswith("(did you mean methods?)")


def test_a_value_directly_under_the_product_key_is_unknown(tmp_path: Path) -> None:
    problem = only(problems(write(tmp_path, ""), registry({(): {"required": dword(2)}})))
    assert problem.location == f"{ROOT}\\required"
    assert "allowed values: none (only subkeys: reset, methods," in problem.message


def test_section_written_as_value_and_setting_as_subkey_say_what_to_do(tmp_path: Path) -> None:
    found = problems(write(tmp_path, ""), registry({(): {"methods": dword(2)}, ("captcha", "audio"): {}}))
    messages = {problem.key: problem.message for problem in found}
    assert messages["methods"] == f'"methods" is a section: make it a subkey of {ROOT}, with its settings as values'
    assert messages["captcha.audio"] == f'"audio" is a setting: make it a value of {ROOT}\\captcha, not a subkey'


def test_the_default_value_of_a_key_is_unknown(tmp_path: Path) -> None:
    problem = only(problems(write(tmp_path, ""), registry({("methods",): {"": sz("x")}})))
    assert problem.message.startswith(f'unknown value "" in {ROOT}\\methods')


def test_a_rule_across_settings_in_a_group_policy_section_points_at_its_key(tmp_path: Path) -> None:
    gp = registry({("methods",): {"required": dword(2), "enabled": multi("email")}})
    problem = only(problems(write(tmp_path, ""), gp))
    assert (problem.key, problem.location) == ("methods", f"{ROOT}\\methods")
    assert "required = 2 needs at least two enabled methods" in problem.message


def test_a_rule_broken_by_group_policy_in_the_files_section_says_group_policy_took_part(tmp_path: Path) -> None:
    path = write(tmp_path, '[methods]\nenabled = ["email"]\n')
    problem = only(problems(path, registry({("methods",): {"required": dword(2)}})))
    assert (problem.key, problem.line, problem.location) == ("methods", 1, None)
    assert problem.message.endswith("needs at least two enabled methods (Group Policy sets methods.required)")


def test_a_section_group_policy_starts_without_its_required_settings_points_at_its_key(tmp_path: Path) -> None:
    gp = registry({("directory", "openldap"): {"base_dn": sz("dc=example,dc=org")}})
    found = problems(write(tmp_path, ""), gp)
    assert {(p.key, p.location) for p in found} == {
        ("directory.openldap.urls", f"{ROOT}\\directory\\openldap"),
        ("directory.openldap.bind_dn", f"{ROOT}\\directory\\openldap"),
    }
    assert all(p.message.startswith("is required: ") for p in found)


def test_a_registry_key_that_cannot_be_read_refuses_the_policy(tmp_path: Path) -> None:
    class Unreadable:
        def read_key(self, path: KeyPath) -> RegistryKey | None:
            if path == ("methods",):
                raise PermissionError(5, "Access is denied")
            return RegistryKey({}, ("methods",)) if path == () else None

    with pytest.raises(PolicyError) as raised:
        load_policy(write(tmp_path, ""), Unreadable())
    [problem] = raised.value.problems
    assert problem.location == f"{ROOT}\\methods"
    assert problem.message == "cannot read the registry key: [Errno 5] Access is denied"


def test_the_kiosk_refuses_to_start_on_a_bad_group_policy_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk --policy FILE` loads through Group Policy (the live registry on Windows): injected here."""
    reader = registry({("kiosk",): {"idle_timeout_seconds": dword(5)}})
    monkeypatch.setattr(group_policy, "system_registry_reader", lambda: reader)
    with pytest.raises(SystemExit) as raised:
        cli_main.main(["--policy", str(write(tmp_path, ""))])
    assert raised.value.code == 1
    assert capsys.readouterr().err == (
        f"{ROOT}\\kiosk\\idle_timeout_seconds: kiosk.idle_timeout_seconds: "
        "must be a whole number between 30 and 3600; got the number 5\n"
    )


def test_the_kiosks_policy_loading_applies_group_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = registry({("kiosk",): {"idle_timeout_seconds": dword(300)}})
    monkeypatch.setattr(group_policy, "system_registry_reader", lambda: reader)
    path = write(tmp_path, "[kiosk]\nidle_timeout_seconds = 60\n")
    assert cli_main._load(path).kiosk.idle_timeout_seconds == 300
    assert load_policy(path).kiosk.idle_timeout_seconds == 60  # `policy check` and the loader alone: the file


# ------------------------------------------------------------------------------- the mapping


def test_every_setting_has_one_registry_place_and_type() -> None:
    found = list(leaves())
    places = [(leaf.registry_key.casefold(), leaf.value_name.casefold()) for leaf in found]
    assert len(places) == len(set(places)) > 100
    for leaf in found:
        assert leaf.registry_key == "\\".join((GROUP_POLICY_KEY, *leaf.path[:-1]))
        assert leaf.registry_type in (REG.REG_DWORD, REG.REG_SZ, REG.REG_MULTI_SZ)


def test_no_setting_is_a_secret() -> None:
    """Secrets live in the OS keyring, never in the policy, so never in the registry (world-readable)."""
    words = ("password", "secret", "token", "passphrase", "private_key", "credential")
    assert [leaf.dotted for leaf in leaves() if any(word in leaf.path[-1] for word in words)] == []


def test_reading_group_policy_keeps_each_values_registry_path() -> None:
    settings = read_group_policy(registry({("kiosk", "helpdesk"): {"phone": sz("+1 555 0100")}}))
    assert settings.values == {("kiosk", "helpdesk", "phone"): "+1 555 0100"}
    assert settings.locations[("kiosk", "helpdesk", "phone")] == f"{ROOT}\\kiosk\\helpdesk\\phone"
    assert settings.problems == ()


def test_no_group_policy_off_windows_and_the_windows_reader_refuses() -> None:
    assert sys.platform != "win32"
    assert system_registry_reader() is None
    with pytest.raises(OSError, match="only on Windows"):
        WindowsRegistryReader().read_key(())


# ------------------------------------------------------------------------------- the Windows reader


class FakeWinregKey:
    """FAKE: an open registry key handle (the real winreg exists only on Windows)."""

    def __init__(self, values: list[tuple[str, object, int]], subkeys: list[str]) -> None:
        self.values, self.subkeys, self.closed = values, subkeys, False

    def __enter__(self) -> FakeWinregKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True


def fake_winreg(tree: dict[str, FakeWinregKey], opened: list[tuple[object, str, int, int]]) -> types.ModuleType:
    """FAKE winreg: OpenKey/QueryInfoKey/EnumKey/EnumValue over `tree`, as documented for the real module."""
    module = types.ModuleType("winreg")
    module.HKEY_LOCAL_MACHINE = "HKLM"  # type: ignore[attr-defined]
    module.KEY_READ = 0x20019  # type: ignore[attr-defined]
    module.KEY_WOW64_64KEY = 0x0100  # type: ignore[attr-defined]

    def open_key(hive: object, name: str, reserved: int, access: int) -> FakeWinregKey:
        opened.append((hive, name, reserved, access))
        if name.casefold() not in tree:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return tree[name.casefold()]

    module.OpenKey = open_key  # type: ignore[attr-defined]
    module.QueryInfoKey = lambda key: (len(key.subkeys), len(key.values), 0)  # type: ignore[attr-defined]
    module.EnumKey = lambda key, index: key.subkeys[index]  # type: ignore[attr-defined]
    module.EnumValue = lambda key, index: key.values[index]  # type: ignore[attr-defined]
    return module


def test_the_windows_reader_against_a_fake_winreg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    methods = FakeWinregKey([("required", 2, 4), ("enabled", ["email", "app_code"], 7)], [])
    root = FakeWinregKey([], ["methods"])
    tree = {GROUP_POLICY_KEY.casefold(): root, f"{GROUP_POLICY_KEY}\\methods".casefold(): methods}
    opened: list[tuple[object, str, int, int]] = []
    monkeypatch.setitem(sys.modules, "winreg", fake_winreg(tree, opened))
    monkeypatch.setattr(sys, "platform", "win32")
    reader = WindowsRegistryReader()
    assert reader.read_key(("methods",)) == RegistryKey(
        {"required": RegistryValue(4, 2), "enabled": RegistryValue(7, ("email", "app_code"))}, ()
    )
    assert methods.closed
    assert reader.read_key(("kiosk",)) is None
    assert opened[0] == ("HKLM", f"{GROUP_POLICY_KEY}\\methods", 0, 0x20019 | 0x0100)
    assert isinstance(system_registry_reader(), WindowsRegistryReader)
    policy = load_policy(write(tmp_path, ""), reader)
    assert (policy.methods.required, [m.value for m in policy.methods.enabled]) == (2, ["email", "app_code"])


@pytest.mark.parametrize(
    ("path", "value", "read_back"),
    [
        (("kiosk", "default_language"), RegistryValue(REG.REG_SZ, None), ""),
        (("password", "banned_words"), RegistryValue(REG.REG_MULTI_SZ, None), []),
    ],
)
def test_empty_registry_data_is_empty_text_or_list(path: KeyPath, value: RegistryValue, read_back: object) -> None:
    assert read_group_policy(registry({path[:-1]: {path[-1]: value}})).values == {path: read_back}


def test_data_that_does_not_match_its_type_is_a_problem(tmp_path: Path) -> None:
    problem = only(problems(write(tmp_path, ""), registry({("methods",): {"code_length": RegistryValue(4, None)}})))
    assert problem.location == f"{ROOT}\\methods\\code_length"
    assert problem.message == "is a malformed REG_DWORD; set it again (a whole number)"
