"""Group Policy: policy settings read from the Windows registry, mapped onto the schema, overriding the file.

Layout (the same mapping generates the ADMX templates, `kiosk.policy.admx`): under
`HKLM\\Software\\Policies\\<vendor>\\<product>` each policy section is a subkey named as in the file
(`methods`, `kiosk\\branding`, `directory\\active_directory\\attributes`) and each setting a value
named as its key. Value types follow the schema: true/false is a REG_DWORD 1/0, a whole number (or a
choice of numbers) a REG_DWORD, a number with decimals, text and a choice of words a REG_SZ, a list
a REG_MULTI_SZ (one string per item; the ADMX `multiText` element writes it). Names are matched
case-insensitively, as Windows does.

A value of the wrong registry type, and an unknown value or subkey, is a problem naming the registry
path, exactly like an unknown or mistyped key in the file; the kiosk then refuses to start. Ranges
and choices are checked afterwards by the same schema validation as the file (the loader merges
defaults < file < Group Policy on the raw data first), so the same messages apply.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kiosk.policy.schema import Policy
from kiosk.product import GROUP_POLICY_KEY

KeyPath = tuple[str, ...]

HIVE = "HKLM"
"""How locations name HKEY_LOCAL_MACHINE (as regedit's address bar and `reg query` accept it)."""

ROOT = rf"{HIVE}\{GROUP_POLICY_KEY}"
"""The Group Policy key of the kiosk, as shown to administrators."""


class RegType(IntEnum):
    """Registry value types (the numbers winreg and .reg files use)."""

    REG_NONE = 0
    REG_SZ = 1
    REG_EXPAND_SZ = 2
    REG_BINARY = 3
    REG_DWORD = 4
    REG_DWORD_BIG_ENDIAN = 5
    REG_LINK = 6
    REG_MULTI_SZ = 7
    REG_RESOURCE_LIST = 8
    REG_FULL_RESOURCE_DESCRIPTOR = 9
    REG_RESOURCE_REQUIREMENTS_LIST = 10
    REG_QWORD = 11


RegistryData = int | str | tuple[str, ...] | bytes | None


@dataclass(frozen=True)
class RegistryValue:
    """One registry value: its type number (`RegType`) and data as winreg returns it (lists as tuples)."""

    type: int
    data: RegistryData


@dataclass(frozen=True)
class RegistryKey:
    """What a registry key holds: values by name, and the names of its subkeys."""

    values: Mapping[str, RegistryValue]
    subkeys: tuple[str, ...] = ()


class RegistryReader(Protocol):
    """Reads keys below the kiosk's Group Policy key; `path` is relative to it (`()` is the key itself)."""

    def read_key(self, path: KeyPath) -> RegistryKey | None:
        """The key at `path`, or None when it does not exist; OSError when it cannot be read."""
        ...


class DictRegistryReader:
    """A registry held in memory (a .reg file's content, or a test's): key path → values, case-insensitive."""

    def __init__(self, keys: Mapping[KeyPath, Mapping[str, RegistryValue]]) -> None:
        self._values: dict[KeyPath, dict[str, tuple[str, RegistryValue]]] = {}
        self._subkeys: dict[KeyPath, dict[str, str]] = {}
        for path, values in keys.items():
            # Every ancestor of a key exists, as in the real registry.
            for depth in range(len(path) + 1):
                self._values.setdefault(_fold(path[:depth]), {})
                if depth:
                    self._subkeys.setdefault(_fold(path[: depth - 1]), {}).setdefault(
                        path[depth - 1].casefold(), path[depth - 1]
                    )
            for name, value in values.items():
                self._values[_fold(path)][name.casefold()] = (name, value)

    def read_key(self, path: KeyPath) -> RegistryKey | None:
        """The key at `path` (matched case-insensitively), or None."""
        folded = _fold(path)
        if folded not in self._values:
            return None
        values = dict(self._values[folded].values())
        return RegistryKey(values, tuple(self._subkeys.get(folded, {}).values()))


def _fold(path: KeyPath) -> KeyPath:
    return tuple(part.casefold() for part in path)


class WindowsRegistryReader:
    """The live registry: HKEY_LOCAL_MACHINE\\<GROUP_POLICY_KEY>, 64-bit view (Windows only)."""

    def read_key(self, path: KeyPath) -> RegistryKey | None:
        """The key at `path` below the Group Policy key, or None when Group Policy has not written it."""
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        name = "\\".join((GROUP_POLICY_KEY, *path))
        try:
            # Software\Policies is shared by the 32- and 64-bit views; asking for the 64-bit one makes
            # that so even for a 32-bit Python.
            key = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, name, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)
        except FileNotFoundError:
            return None
        with key:
            subkey_count, value_count, _ = winreg.QueryInfoKey(key)
            subkeys = tuple(winreg.EnumKey(key, index) for index in range(subkey_count))
            values: dict[str, RegistryValue] = {}
            for index in range(value_count):
                value_name, data, kind = winreg.EnumValue(key, index)
                values[value_name] = RegistryValue(kind, tuple(data) if isinstance(data, list) else data)
        return RegistryKey(values, subkeys)


def system_registry_reader() -> RegistryReader | None:
    """The reader the kiosk uses at start: the live registry on Windows, none elsewhere."""
    if sys.platform == "win32":
        return WindowsRegistryReader()
    return None


# ---------------------------------------------------------------------------------------- the schema


class LeafKind(Enum):
    """What a setting holds, which decides its registry type and ADMX element."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    TEXT = "text"
    CHOICE = "choice"
    LIST = "list"


@dataclass(frozen=True)
class PolicyLeaf:
    """One setting of the schema: its key path, its field, and how it is stored in the registry."""

    path: KeyPath
    field: FieldInfo
    kind: LeafKind
    choices: tuple[str | int, ...] = ()
    item_choices: tuple[str, ...] = ()
    item_metadata: tuple[Any, ...] = ()

    @property
    def dotted(self) -> str:
        """The key as written in the policy file: `methods.required`."""
        return ".".join(self.path)

    @property
    def registry_type(self) -> RegType:
        """The registry type the value must have."""
        if self.kind in (LeafKind.BOOL, LeafKind.INT):
            return RegType.REG_DWORD
        if self.kind is LeafKind.CHOICE and all(isinstance(choice, int) for choice in self.choices):
            return RegType.REG_DWORD
        if self.kind is LeafKind.LIST:
            return RegType.REG_MULTI_SZ
        return RegType.REG_SZ

    @property
    def registry_key(self) -> str:
        """The key (below HKLM) that holds the value: the Group Policy key plus the section path."""
        return "\\".join((GROUP_POLICY_KEY, *self.path[:-1]))

    @property
    def value_name(self) -> str:
        """The registry value's name: the setting's key."""
        return self.path[-1]

    @property
    def location(self) -> str:
        """Where an administrator finds the value: `HKLM\\...\\methods\\required`."""
        return location(self.path)


def location(path: KeyPath) -> str:
    """A registry path for a key path below the kiosk's Group Policy key (a value's name as its last part)."""
    return "\\".join((ROOT, *path))


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a section field (`Settings` or `Settings | None`), else None."""
    candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)] or [annotation]
    if len(candidates) == 1 and isinstance(candidates[0], type) and issubclass(candidates[0], BaseModel):
        return candidates[0]
    return None


def sections(model: type[BaseModel] = Policy, path: KeyPath = ()) -> Iterator[tuple[KeyPath, type[BaseModel]]]:
    """Every section of the schema (the top level `()` first), depth first in schema order."""
    yield path, model
    for name, info in model.model_fields.items():
        if (section := _section_model(info.annotation)) is not None:
            yield from sections(section, (*path, name))


def leaves(model: type[BaseModel] = Policy, path: KeyPath = ()) -> Iterator[PolicyLeaf]:
    """Every setting of the schema, in schema order; TypeError for a type with no registry mapping."""
    for name, info in model.model_fields.items():
        if (section := _section_model(info.annotation)) is not None:
            yield from leaves(section, (*path, name))
        else:
            yield _leaf((*path, name), info)


def _leaf(path: KeyPath, info: FieldInfo) -> PolicyLeaf:
    annotation = info.annotation
    if annotation is bool:
        return PolicyLeaf(path, info, LeafKind.BOOL)
    if annotation is int:
        return PolicyLeaf(path, info, LeafKind.INT)
    if annotation is float:
        return PolicyLeaf(path, info, LeafKind.FLOAT)
    if annotation is str:
        return PolicyLeaf(path, info, LeafKind.TEXT)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return PolicyLeaf(path, info, LeafKind.CHOICE, choices=tuple(member.value for member in annotation))
    if typing.get_origin(annotation) is typing.Literal:
        return PolicyLeaf(path, info, LeafKind.CHOICE, choices=typing.get_args(annotation))
    if typing.get_origin(annotation) is tuple:
        item, *_ = typing.get_args(annotation)
        metadata: tuple[Any, ...] = ()
        if typing.get_origin(item) is typing.Annotated:
            item, *extras = typing.get_args(item)
            for extra in extras:
                metadata += tuple(extra.metadata) if isinstance(extra, FieldInfo) else (extra,)
        if item is str:
            return PolicyLeaf(path, info, LeafKind.LIST, item_metadata=metadata)
        if isinstance(item, type) and issubclass(item, Enum):
            return PolicyLeaf(path, info, LeafKind.LIST, item_choices=tuple(str(m.value) for m in item))
    raise TypeError(f"{'.'.join(path)}: no Group Policy mapping for the type {annotation!r}")


# ---------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class GroupPolicyProblem:
    """A registry value or key the kiosk cannot use: the key path it maps to, its registry path, and why."""

    path: KeyPath
    location: str
    message: str


@dataclass(frozen=True)
class GroupPolicySettings:
    """What Group Policy sets: raw values by key path (ready for validation), where each came from, problems."""

    values: dict[KeyPath, Any]
    locations: dict[KeyPath, str]
    problems: tuple[GroupPolicyProblem, ...]

    def overlay(self, data: dict[str, Any]) -> dict[str, Any]:
        """`data` (the file's raw tables) with every Group Policy value put over it; `data` is left unchanged."""
        merged = _deep_copy(data)
        for path, value in self.values.items():
            table = merged
            for part in path[:-1]:
                child = table.setdefault(part, {})
                if not isinstance(child, dict):
                    # The file wrote a value where a table belongs; its own error stays and is reported.
                    break
                table = child
            else:
                table[path[-1]] = value
        return merged


def _deep_copy(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _deep_copy(value) if isinstance(value, dict) else value for key, value in data.items()}


def read_group_policy(reader: RegistryReader) -> GroupPolicySettings:
    """Read every value below the kiosk's Group Policy key and map it onto the schema."""
    values: dict[KeyPath, Any] = {}
    locations: dict[KeyPath, str] = {}
    problems: list[GroupPolicyProblem] = []
    _read_section(reader, Policy, (), values, locations, problems)
    return GroupPolicySettings(values, locations, tuple(problems))


def _read_section(
    reader: RegistryReader,
    model: type[BaseModel],
    path: KeyPath,
    values: dict[KeyPath, Any],
    locations: dict[KeyPath, str],
    problems: list[GroupPolicyProblem],
) -> None:
    try:
        key = reader.read_key(path)
    except OSError as error:
        problems.append(GroupPolicyProblem(path, location(path), f"cannot read the registry key: {error}"))
        return
    if key is None:
        return
    if path:
        locations[path] = location(path)
    fields = model.model_fields
    settings = [name for name, info in fields.items() if _section_model(info.annotation) is None]
    subsections = [name for name, info in fields.items() if _section_model(info.annotation) is not None]
    for name, value in key.values.items():
        canonical = name.casefold()
        if canonical not in settings:
            problems.append(_unknown(path, name, settings, subsections, value_expected=True))
            continue
        leaf = _leaf((*path, canonical), fields[canonical])
        locations[leaf.path] = leaf.location
        converted = _from_registry(leaf, value)
        if isinstance(converted, _Refused):
            problems.append(GroupPolicyProblem(leaf.path, leaf.location, converted.message))
        else:
            values[leaf.path] = converted
    for name in key.subkeys:
        canonical = name.casefold()
        if canonical not in subsections:
            problems.append(_unknown(path, name, settings, subsections, value_expected=False))
            continue
        section = _section_model(fields[canonical].annotation)
        assert section is not None
        _read_section(reader, section, (*path, canonical), values, locations, problems)


def _unknown(
    path: KeyPath, name: str, settings: Sequence[str], subsections: Sequence[str], *, value_expected: bool
) -> GroupPolicyProblem:
    """An unknown value or subkey: what the key allows there, and the nearest allowed name."""
    here = location(path)
    shown = json.dumps(name, ensure_ascii=False)
    if value_expected:
        if name.casefold() in subsections:
            message = f"{shown} is a section: make it a subkey of {here}, with its settings as values"
        else:
            allowed = ", ".join(settings) or "none (only subkeys: " + ", ".join(subsections) + ")"
            message = f"unknown value {shown} in {here}; allowed values: {allowed}"
            if close := difflib.get_close_matches(name.casefold(), settings, n=1):
                message += f" (did you mean {close[0]}?)"
    elif name.casefold() in settings:
        message = f"{shown} is a setting: make it a value of {here}, not a subkey"
    else:
        allowed = ", ".join(subsections) or "none"
        message = f"unknown subkey {shown} in {here}; allowed subkeys: {allowed}"
        if close := difflib.get_close_matches(name.casefold(), subsections, n=1):
            message += f" (did you mean {close[0]}?)"
    return GroupPolicyProblem((*path, name), location((*path, name)), message)


@dataclass(frozen=True)
class _Refused:
    message: str


# A number the way an administrator writes one: 10, 2.5, 1e3 (no nan, inf or thousands separators).
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _from_registry(leaf: PolicyLeaf, value: RegistryValue) -> Any:
    """The raw value validation will see, or `_Refused` when the registry type does not fit the setting."""
    expected = leaf.registry_type
    if value.type != expected:
        return _Refused(f"must be a {expected.name} ({_what(leaf)}); got {describe_value(value)}")
    data = value.data
    # Zero-length data reads back as None (winreg); the empty text or list is what it means.
    if data is None and expected is not RegType.REG_DWORD:
        data = "" if expected is RegType.REG_SZ else ()
    if not isinstance(data, _PYTHON_TYPES[expected]) or isinstance(data, bool):
        return _Refused(f"is a malformed {expected.name}; set it again ({_what(leaf)})")
    if leaf.kind is LeafKind.BOOL:
        if data not in (0, 1):
            return _Refused(f"must be a REG_DWORD 1 (true) or 0 (false); got {describe_value(value)}")
        return data == 1
    if isinstance(data, str) and leaf.kind is LeafKind.FLOAT:
        # Anything that is not plainly a number goes on as text, so validation says what is allowed.
        return float(data.strip()) if _DECIMAL.match(data.strip()) else data
    if isinstance(data, tuple):
        return list(data)
    return data


_PYTHON_TYPES: dict[RegType, type] = {RegType.REG_DWORD: int, RegType.REG_SZ: str, RegType.REG_MULTI_SZ: tuple}


def _what(leaf: PolicyLeaf) -> str:
    """The kind of value a setting takes, in words."""
    if leaf.kind is LeafKind.BOOL:
        return "1 for true, 0 for false"
    if leaf.kind is LeafKind.FLOAT:
        return "a number written as text, e.g. 10 or 2.5"
    if leaf.kind is LeafKind.LIST:
        return "one string per item"
    if leaf.registry_type is RegType.REG_DWORD:
        return "a whole number"
    return "text"


def describe_value(value: RegistryValue) -> str:
    """A registry value as an administrator would see it in regedit: type and data."""
    kind = RegType(value.type).name if value.type in RegType._value2member_map_ else f"type {value.type}"
    data = value.data
    if isinstance(data, bool | int):
        return f"{kind} {data}"
    if isinstance(data, str):
        shown = data if len(data) <= 40 else data[:39] + "…"
        return f"{kind} {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(data, tuple):
        return f"{kind} with {len(data)} string{'s' if len(data) != 1 else ''}"
    if isinstance(data, bytes):
        return f"{kind} of {len(data)} byte{'s' if len(data) != 1 else ''}"
    return f"{kind} without data"
