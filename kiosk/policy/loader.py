"""Load the administrator's TOML policy file and explain every problem by key, line and fix.

Reading refuses what is not a policy before parsing (missing, a directory, not a regular file,
larger than 1 MiB, not UTF-8). The TOML is parsed with `tomllib`, then validated strictly against
the schema in `kiosk.policy.schema` (a string is never silently turned into a number or a
boolean), and each schema error is rewritten into a `PolicyProblem` that names the dotted key, the
line where it is written (`kiosk.policy.toml_lines`) and what the schema allows there.

Group Policy (`kiosk.policy.group_policy`), when a registry reader is given, is merged over the
file's raw data before validation (defaults < file < Group Policy), so its values pass the same
validation and get the same messages; a problem in a Group Policy value names its registry path.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import stat
import tomllib
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from kiosk.policy.group_policy import GroupPolicySettings, RegistryReader, read_group_policy
from kiosk.policy.schema import Policy
from kiosk.policy.toml_lines import KeyPath, key_lines

MAX_POLICY_BYTES = 1024 * 1024
"""Policy files larger than this (1 MiB) are refused unread: no real policy comes close."""


@dataclass(frozen=True)
class PolicyProblem:
    """One problem in a policy: the dotted key ('' for the whole file), its line if known, and how to fix it.

    `location` is set when the problem is not in the file but in Group Policy: the registry path.
    """

    key: str
    line: int | None
    message: str
    location: str | None = None


@dataclass(frozen=True)
class LoadedPolicy:
    """A valid policy and where its settings came from: file lines by key, Group Policy registry paths by key."""

    policy: Policy
    file_lines: dict[KeyPath, int]
    group_policy: dict[KeyPath, str]


class PolicyError(Exception):
    """A policy that cannot be used, with every problem found in it."""

    def __init__(self, problems: Sequence[PolicyProblem], source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        super().__init__("\n".join(format_problem(source, problem) for problem in self.problems))


def format_problem(source: str, problem: PolicyProblem) -> str:
    """One problem as a compiler-style line: `<source>:<line>: <key>: <message>` (unknown parts left out).

    A Group Policy problem starts with its registry path instead: `HKLM\\...\\methods\\required: ...`.
    """
    where = source if problem.line is None else f"{source}:{problem.line}"
    if problem.location is not None:
        where = problem.location
    key = f"{problem.key}: " if problem.key else ""
    return f"{where}: {key}{problem.message}"


def load_policy(path: Path, group_policy: RegistryReader | None = None) -> Policy:
    """Read and validate the policy file at `path`, with Group Policy over it if a reader is given.

    Raise `PolicyError` naming every problem, in the file and in Group Policy.
    """
    return load_policy_sources(path, group_policy).policy


def load_policy_sources(path: Path | None, group_policy: RegistryReader | None = None) -> LoadedPolicy:
    """Like `load_policy` (no file: defaults and Group Policy only), also telling where each setting came from."""
    text = "" if path is None else _read_text(path)
    settings = None if group_policy is None else read_group_policy(group_policy)
    loaded, problems = _validate(text, settings)
    if loaded is None:
        raise PolicyError(problems, "" if path is None else str(path))
    return loaded


def load_policy_text(text: str, source: str) -> Policy:
    """Validate policy TOML given as text; raise `PolicyError` (mentioning `source`) naming every problem."""
    loaded, problems = _validate(text)
    if loaded is None:
        raise PolicyError(problems, source)
    return loaded.policy


def check_policy_text(text: str, source: str) -> list[PolicyProblem]:
    """Every problem in policy TOML given as text, in line order; empty when the policy is valid."""
    try:
        load_policy_text(text, source)
    except PolicyError as error:
        return list(error.problems)
    return []


# ---------------------------------------------------------------------------------------- reading


def _read_text(path: Path) -> str:
    """The file's text, or a `PolicyError` saying why it is not a readable policy file."""

    def refuse(message: str, line: int | None = None) -> PolicyError:
        return PolicyError([PolicyProblem("", line, message)], str(path))

    try:
        info = path.stat()
    except FileNotFoundError:
        raise refuse("no such file; give the path of a policy .toml file") from None
    except OSError as error:
        raise refuse(f"cannot read the file: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a directory; give the path of a policy .toml file")
    if not stat.S_ISREG(info.st_mode):
        raise refuse("is not a regular file; give the path of a policy .toml file")
    if info.st_size > MAX_POLICY_BYTES:
        raise refuse(f"is {info.st_size} bytes; a policy file may be at most {MAX_POLICY_BYTES} bytes (1 MiB)")
    try:
        with path.open("rb") as file:
            # Read one byte past the limit: the file may have grown since stat().
            data = file.read(MAX_POLICY_BYTES + 1)
    except OSError as error:
        raise refuse(f"cannot read the file: {error.strerror or error}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise refuse(f"is larger than {MAX_POLICY_BYTES} bytes (1 MiB), the most a policy file may be")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refuse("is saved as UTF-16; save it as UTF-8 (for example in Notepad: Save as, Encoding: UTF-8)", 1)
    try:
        # utf-8-sig: Windows editors often put a byte order mark before UTF-8 text; tolerate it.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start]
        raise refuse(f"is not UTF-8 text (byte 0x{byte:02x} cannot be decoded); save the file as UTF-8", line) from None


# ---------------------------------------------------------------------------------------- validating

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")


def _validate(
    text: str, group_policy: GroupPolicySettings | None = None
) -> tuple[LoadedPolicy | None, list[PolicyProblem]]:
    """Parse, merge Group Policy over the file, and validate; either the policy or at least one problem."""
    try:
        return _validate_unguarded(text, group_policy)
    except RecursionError:
        # tomllib (and everything after it) recurses per nesting level; `a = [[[[…` must not crash us.
        return None, [PolicyProblem("", None, "lists or tables are nested too deeply to be a policy")]


def _validate_unguarded(
    text: str, group_policy: GroupPolicySettings | None
) -> tuple[LoadedPolicy | None, list[PolicyProblem]]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        return None, [PolicyProblem("", None, f"is larger than {MAX_POLICY_BYTES} bytes (1 MiB), the most allowed")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [_syntax_problem(str(error), text)]
    lines = key_lines(text)
    gp = group_policy or GroupPolicySettings({}, {}, ())
    problems = [
        PolicyProblem(_dotted(problem.path), None, problem.message, problem.location) for problem in gp.problems
    ]
    # Group Policy wins over the file: merged on the raw data, so the same validation applies to both.
    data = gp.overlay(data)
    problems += [_problem(path, message, lines, gp) for path, message in _values_validation_would_miss(data)]
    rejected = {problem.key for problem in problems}
    try:
        # Strict JSON-mode validation: TOML arrays become tuples and strings become enums, but a
        # quoted "120" is not taken for the number 120, nor "yes" for true.
        policy = Policy.model_validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            problem = _problem(_key_path(detail["loc"]), _message(detail), lines, gp)
            if problem.key not in rejected:
                problems.append(problem)
        policy = None
    if problems or policy is None:
        problems.sort(key=lambda problem: (problem.line is None, problem.line or 0, problem.key))
        return None, problems
    return LoadedPolicy(policy, lines, dict(gp.locations)), []


def _syntax_problem(message: str, text: str) -> PolicyProblem:
    if match := _TOML_POSITION.search(message):
        detail = message[: match.start()]
        return PolicyProblem("", int(match[1]), f"TOML syntax error: {detail} (column {match[2]})")
    detail = _TOML_AT_END.sub("", message)
    last_line = max(1, len(text.splitlines()))
    return PolicyProblem("", last_line, f"TOML syntax error at the end of the file: {detail}")


def _values_validation_would_miss(data: object, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """Wrong values that strict validation would let through: TOML dates and times (JSON has none), `true` for 1."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _values_validation_would_miss(value, (*path, key))
    elif isinstance(data, list):
        for value in data:
            yield from _values_validation_would_miss(value, path)
    elif isinstance(data, dt.date | dt.time):
        yield path, "a date or time is not allowed here; put the value in quotes if you meant text"
    elif isinstance(data, bool) and _expects_number_literal(path):
        yield path, f"must be {_allowed(_resolve(path))}; got {_describe_input(data)}"


def _expects_number_literal(path: KeyPath) -> bool:
    """True when the key takes one of a few numbers (`Literal[1, 2]`), which pydantic lets `true` pass as."""
    annotation = _resolve(path).annotation
    return typing.get_origin(annotation) is typing.Literal


def _problem(path: KeyPath, message: str, lines: dict[KeyPath, int], gp: GroupPolicySettings) -> PolicyProblem:
    """A problem at `path`, placed where the value came from: Group Policy's registry path, else the file's line."""
    key = _dotted(path) or "policy"
    for depth in range(len(path), 0, -1):
        if path[:depth] in gp.values:
            return PolicyProblem(key, None, message, gp.locations[path[:depth]])
        if path[:depth] in lines:
            # A table the file wrote may be wrong only together with Group Policy's values in it: say so.
            overridden = [_dotted(p) for p in gp.values if len(p) > len(path) and p[: len(path)] == path]
            if overridden:
                message += f" (Group Policy sets {', '.join(overridden)})"
            return PolicyProblem(key, lines[path[:depth]], message)
        if path[:depth] in gp.locations:
            # A table only Group Policy wrote (a subkey), e.g. missing a required setting.
            return PolicyProblem(key, None, message, gp.locations[path[:depth]])
    return PolicyProblem(key, None, message)


def _key_path(loc: tuple[int | str, ...]) -> KeyPath:
    return tuple(part for part in loc if isinstance(part, str))


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _dotted(path: KeyPath) -> str:
    """The path as the admin would write it: `kiosk.branding.accent_color`, quoting parts that need it."""
    return ".".join(part if _BARE_KEY.match(part) else json.dumps(part, ensure_ascii=False) for part in path)


# ---------------------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class _Target:
    """What the schema says about a location: the model holding it, and the field or list item there."""

    model: type[BaseModel]
    field: FieldInfo | None = None
    item: bool = False

    @property
    def annotation(self) -> Any:
        """The type expected at the location (a list item's type for an item)."""
        if self.field is None:
            return self.model
        if self.item:
            return _unwrap(self.field.annotation)[0]
        return self.field.annotation

    @property
    def metadata(self) -> list[Any]:
        """The constraints (annotated_types) that apply at the location."""
        if self.field is None:
            return []
        if self.item:
            return list(_unwrap(self.field.annotation)[1])
        return list(self.field.metadata)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """A tuple's item type and its constraints: `tuple[Annotated[str, Field(min_length=1)], ...]`."""
    args = typing.get_args(annotation)
    item = args[0] if args else Any
    constraints: list[Any] = []
    if typing.get_origin(item) is typing.Annotated:
        item, *extras = typing.get_args(item)
        for extra in extras:
            constraints.extend(extra.metadata if isinstance(extra, FieldInfo) else [extra])
    return item, constraints


def _resolve(loc: Sequence[int | str]) -> _Target:
    """Follow a validation location through the schema, as far as the schema goes."""
    model: type[BaseModel] = Policy
    target = _Target(model)
    for part in loc:
        if isinstance(part, int):
            if target.field is not None:
                target = _Target(target.model, target.field, item=True)
            continue
        field = model.model_fields.get(part)
        if field is None or target.field is not None:
            return target
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            model = field.annotation
            target = _Target(model)
        else:
            target = _Target(model, field)
    return target


def _allowed(target: _Target) -> str:
    """What may be written at a location, in an administrator's words."""
    annotation = target.annotation
    bounds = _bounds(target.metadata)
    if typing.get_origin(annotation) is typing.Literal:
        choices = [json.dumps(choice) for choice in typing.get_args(annotation)]
        return " or ".join([", ".join(choices[:-1]), choices[-1]]) if len(choices) > 1 else choices[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "one of: " + ", ".join(str(member.value) for member in annotation)
    if annotation is bool:
        return "true or false (without quotes)"
    if annotation is int:
        return "a whole number" + (f" {bounds}" if bounds else "")
    if annotation is float:
        return "a number" + (f" {bounds}" if bounds else "")
    if annotation is str:
        return "text in quotes" + (f", {_length(target.metadata, 'characters')}" if _has_length(target) else "")
    if typing.get_origin(annotation) is tuple:
        item = _allowed(_Target(target.model, target.field, item=True))
        size = f" of {_length(target.metadata, 'items')}" if _has_length(target) else ""
        return f"a list [ … ]{size}, each item {item}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "a table of settings"
    return "a valid value"


def _bounds(metadata: list[Any]) -> str:
    low = next((m for m in metadata if isinstance(m, annotated_types.Ge | annotated_types.Gt)), None)
    high = next((m for m in metadata if isinstance(m, annotated_types.Le | annotated_types.Lt)), None)
    if isinstance(low, annotated_types.Ge) and isinstance(high, annotated_types.Le):
        return f"between {low.ge} and {high.le}"
    parts = []
    if isinstance(low, annotated_types.Ge):
        parts.append(f"at least {low.ge}")
    if isinstance(low, annotated_types.Gt):
        parts.append(f"greater than {low.gt}")
    if isinstance(high, annotated_types.Le):
        parts.append(f"at most {high.le}")
    if isinstance(high, annotated_types.Lt):
        parts.append(f"less than {high.lt}")
    return " and ".join(parts)


def _has_length(target: _Target) -> bool:
    return any(isinstance(m, annotated_types.MinLen | annotated_types.MaxLen) for m in target.metadata)


def _length(metadata: list[Any], unit: str) -> str:
    low = next((m.min_length for m in metadata if isinstance(m, annotated_types.MinLen)), 0)
    high = next((m.max_length for m in metadata if isinstance(m, annotated_types.MaxLen)), None)
    if high is None:
        return f"at least {low} {unit.removesuffix('s') if low == 1 else unit}"
    if low == 0:
        return f"at most {high} {unit}"
    return f"{low} to {high} {unit}"


# ---------------------------------------------------------------------------------------- messages

_CONSTRAINT_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "literal_error",
        "enum",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "finite_number",
    }
)


def _message(detail: ErrorDetails) -> str:
    """Rewrite one pydantic error as: what is wrong, what is allowed."""
    loc = detail["loc"]
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_key(_key_path(loc))
    target = _resolve(loc)
    item = next((part for part in reversed(loc) if isinstance(part, int)), None)
    prefix = "" if item is None else f"item {item + 1} "
    if kind == "value_error":
        return str(detail["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return f"is required: {_allowed(target)}"
    if kind in _CONSTRAINT_ERRORS or kind.endswith(("_type", "_parsing")) or kind.endswith("_from_float"):
        if target.field is None and item is None and kind.endswith("_type"):
            return f"must be a table of settings ([{_dotted(_key_path(loc))}]); got {_describe_input(detail['input'])}"
        return f"{prefix}must be {_allowed(target)}; got {_describe_input(detail['input'])}"
    return f"{prefix}{detail['msg']}"


def _unknown_key(path: KeyPath) -> str:
    """Name the unknown key, list what the table allows, and suggest the nearest allowed key."""
    allowed = list(_resolve(path[:-1]).model.model_fields)
    key = path[-1]
    where = f"in [{_dotted(path[:-1])}]" if len(path) > 1 else "at the top level"
    message = f"unknown key {json.dumps(key, ensure_ascii=False)} {where}; allowed: {', '.join(allowed)}"
    if close := difflib.get_close_matches(key, allowed, n=1):
        message += f" (did you mean {close[0]}?)"
    return message


def _describe_input(value: object) -> str:
    """The value the administrator wrote, in TOML words."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"the text {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) > 1 else ''}" if value else "an empty list"
    if isinstance(value, dict):
        return "a table"
    return "a value of another kind"
