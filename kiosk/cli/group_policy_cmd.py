"""`kiosk policy show` (the file's or the effective settings, with their sources) and `kiosk policy admx`.

`show FILE` prints what the file sets. `show [FILE] --effective` prints every setting the kiosk
would run with, each with where it comes from: the default, a line of the file, or Group Policy
(the live registry on Windows; elsewhere only what `--registry FILE.reg` gives, an export made with
regedit). Values are written as in a policy file, so lines can be copied into one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from kiosk.policy import group_policy
from kiosk.policy.admx import write_templates
from kiosk.policy.group_policy import KeyPath, RegistryReader, leaves
from kiosk.policy.loader import LoadedPolicy, PolicyError, format_problem, load_policy_sources
from kiosk.policy.reg_file import RegFileError, read_reg_file

_COMMENT_COLUMN = 56  # values are padded to this column before their source, unless longer


def policy_show(
    file: str | None,
    out: TextIO,
    err: TextIO,
    *,
    effective: bool = False,
    as_json: bool = False,
    registry: str | None = None,
) -> int:
    """Print the file's settings (or, with `effective`, every setting and its source): 0, or 1 and problems."""
    if not effective and (file is None or registry is not None):
        print(
            "kiosk policy show: give a FILE to show what it sets, or --effective (optionally with FILE and "
            "--registry FILE.reg) to show every setting the kiosk would use",
            file=err,
        )
        return 2
    reader: RegistryReader | None = None
    if effective:
        try:
            reader = read_reg_file(Path(registry)) if registry is not None else group_policy.system_registry_reader()
        except RegFileError as error:
            print(error, file=err)
            return 1
    try:
        loaded = load_policy_sources(None if file is None else Path(file), reader)
    except PolicyError as error:
        for problem in error.problems:
            print(format_problem(file or "(no policy file)", problem), file=err)
        return 1
    settings = list(_settings(loaded, file, only_file=not effective))
    gp_source = _group_policy_source(registry, reader)
    if as_json:
        document = {"file": file, "group_policy": gp_source if effective else None, "settings": settings}
        print(json.dumps(document, indent=2, ensure_ascii=False), file=out)
        return 0
    if effective:
        layers = ["defaults", *([file] if file else []), f"Group Policy ({gp_source or 'none: ' + _NO_GP})"]
        print(f"# The effective policy: {' < '.join(layers)}", file=out)
    else:
        print(f"# What {file} sets (kiosk policy show --effective adds defaults and Group Policy)", file=out)
    for setting in settings:
        line = f"{setting['key']} = {toml_value(setting['value'])}"
        print(f"{line.ljust(_COMMENT_COLUMN)}  # {_source_text(setting)}", file=out)
    return 0


_NO_GP = "not on Windows; give an export with --registry FILE.reg"


def _group_policy_source(registry: str | None, reader: RegistryReader | None) -> str | None:
    """Where Group Policy was read from, as the header and the JSON say it."""
    if registry is not None:
        return f"{registry}, {group_policy.ROOT}"
    if reader is not None:
        return group_policy.ROOT
    return None


def _settings(loaded: LoadedPolicy, file: str | None, *, only_file: bool) -> list[dict[str, Any]]:
    """Every setting of the policy with its value and source, in schema order."""
    values = loaded.policy.model_dump(mode="json")
    settings = []
    for leaf in leaves():
        value = _lookup(values, leaf.path)
        if value is _ABSENT:
            continue  # in a section the policy does not use (directory.openldap when AD is configured)
        in_file = f"{file}:{loaded.file_lines[leaf.path]}" if leaf.path in loaded.file_lines else None
        overrides = None
        if leaf.path in loaded.group_policy and not only_file:
            source, where, overrides = "group_policy", loaded.group_policy[leaf.path], in_file
        elif in_file is not None:
            source, where = "file", in_file
        elif only_file:
            continue
        else:
            source, where = "default", None
        settings.append(
            {"key": leaf.dotted, "value": value, "source": source, "location": where, "overrides": overrides}
        )
    return settings


_ABSENT = object()


def _lookup(values: dict[str, Any], path: KeyPath) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, dict) or node.get(part) is None:
            return _ABSENT
        node = node[part]
    return node


def _source_text(setting: dict[str, Any]) -> str:
    if setting["source"] == "group_policy":
        over = f", over file ({setting['overrides']})" if setting["overrides"] else ""
        return f"group policy ({setting['location']}){over}"
    if setting["source"] == "file":
        return f"file ({setting['location']})"
    return "default"


def toml_value(value: Any) -> str:
    """A JSON-mode value written as TOML: true, 8, 2.5, "text", ["a", "b"]."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are TOML basic-string escapes too; TOML also forbids a raw DEL.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def policy_admx(out_dir: str, out: TextIO, err: TextIO) -> int:
    """Write the ADMX and en-US ADML templates into `out_dir`; print their paths; 0, or 1 if they cannot be written."""
    try:
        paths = write_templates(Path(out_dir))
    except OSError as error:
        print(f"kiosk policy admx: cannot write to {out_dir}: {error.strerror or error}", file=err)
        return 1
    for path in paths:
        print(path, file=out)
    return 0
