"""Group Policy administrative templates (ADMX + en-US ADML) generated from the policy schema.

One ADMX policy per setting, in one category per section (nested like the file's tables), class
Machine, key `GROUP_POLICY_KEY\\<section path>` and value name the setting's key: exactly where
`kiosk.policy.group_policy` reads it, because both take the key, value name and registry type from
the same `PolicyLeaf`. Element per kind: true/false is the policy's own Enabled (1) / Disabled (0);
whole numbers are `decimal` with the schema's range; a choice is an `enum`; a number with decimals
and text are `text`; a list is `multiText` (REG_MULTI_SZ, one item per line). Any other policy
left Disabled or Not configured writes nothing, so the file's value (else the default) applies.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from kiosk.policy.group_policy import KeyPath, LeafKind, PolicyLeaf, RegType, leaves, location, sections
from kiosk.product import DISPLAY_NAME, PRODUCT, VENDOR, VERSION

NAMESPACE = "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"
"""The XML namespace of ADMX and ADML files."""

TARGET_NAMESPACE = f"{VENDOR}.Policies.{PRODUCT}"
"""The kiosk's ADMX namespace (unique in a PolicyDefinitions store)."""

ADMX_NAME = f"{PRODUCT}.admx"
"""File name of the template; its ADML has the same stem, in a language folder (en-US)."""

ADML_NAME = f"{PRODUCT}.adml"
"""File name of the language resources, in `en-US/` next to the ADMX."""

# ADMX revisions are major.minor; the template changes with the schema, so it follows the version.
REVISION = ".".join(VERSION.split(".")[:2])
SUPPORTED = f"SUPPORTED_{PRODUCT}"
ROOT_CATEGORY = PRODUCT
MAX_DWORD = 0xFFFFFFFF


def policy_name(leaf: PolicyLeaf) -> str:
    """The ADMX policy name (and ADML string id) of a setting: its key path joined by underscores."""
    return "_".join(leaf.path)


def category_name(path: KeyPath) -> str:
    """The ADMX category name of a section (the top level is the product's own category)."""
    return "_".join(("Cat", *path)) if path else ROOT_CATEGORY


def write_templates(out: Path) -> list[Path]:
    """Write `out/<product>.admx` and `out/en-US/<product>.adml`; return their paths."""
    admx, adml = build_templates()
    (out / "en-US").mkdir(parents=True, exist_ok=True)
    paths = [out / ADMX_NAME, out / "en-US" / ADML_NAME]
    for path, content in zip(paths, (admx, adml), strict=True):
        path.write_bytes(content)
    return paths


def build_templates() -> tuple[bytes, bytes]:
    """The ADMX and the en-US ADML, as UTF-8 XML; the same schema always gives the same bytes."""
    builder = _Builder()
    return builder.admx(), builder.adml()


class _Builder:
    """Builds both files in one pass over the schema, so every string the ADMX refers to is in the ADML."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.presentations: list[ET.Element] = []
        self.leaves = list(leaves())
        names = [policy_name(leaf) for leaf in self.leaves] + [category_name(path) for path, _ in sections()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"ADMX names would clash: {', '.join(duplicates)}")

    def string(self, string_id: str, text: str) -> str:
        """Register an ADML string and return its `$(string.id)` reference."""
        self.strings[string_id] = text
        return f"$(string.{string_id})"

    # ------------------------------------------------------------------ ADMX

    def admx(self) -> bytes:
        """The ADMX file: namespaces, categories, and one policy per setting."""
        root = ET.Element("policyDefinitions", {"xmlns": NAMESPACE, "revision": REVISION, "schemaVersion": "1.0"})
        namespaces = ET.SubElement(root, "policyNamespaces")
        ET.SubElement(namespaces, "target", {"prefix": "kiosk", "namespace": TARGET_NAMESPACE})
        ET.SubElement(namespaces, "using", {"prefix": "windows", "namespace": "Microsoft.Policies.Windows"})
        ET.SubElement(root, "resources", {"minRequiredRevision": REVISION})
        supported = ET.SubElement(ET.SubElement(root, "supportedOn"), "definitions")
        ET.SubElement(
            supported,
            "definition",
            {"name": SUPPORTED, "displayName": self.string(SUPPORTED, f"{DISPLAY_NAME} {REVISION} or later")},
        )
        categories = ET.SubElement(root, "categories")
        for path, model in sections():
            self._category(categories, path, model.__doc__ or "")
        policies = ET.SubElement(root, "policies")
        for leaf in self.leaves:
            self._policy(policies, leaf)
        return _serialise(root)

    def _category(self, parent: ET.Element, path: KeyPath, doc: str) -> None:
        name = category_name(path)
        title = DISPLAY_NAME if not path else _human(path[-1])
        help_text = f"[{'.'.join(path)}] in the policy file: {doc.strip()}" if path else _ROOT_HELP
        category = ET.SubElement(
            parent,
            "category",
            {
                "name": name,
                "displayName": self.string(name, title),
                "explainText": self.string(f"{name}_Help", help_text),
            },
        )
        if path:
            ET.SubElement(category, "parentCategory", {"ref": category_name(path[:-1])})

    def _policy(self, parent: ET.Element, leaf: PolicyLeaf) -> None:
        name = policy_name(leaf)
        attributes = {
            "name": name,
            "class": "Machine",
            "displayName": self.string(name, f"{_human(leaf.path[-1])} ({leaf.dotted})"),
            "explainText": self.string(f"{name}_Help", _explain(leaf)),
            "key": leaf.registry_key,
        }
        if leaf.kind is LeafKind.BOOL:
            attributes["valueName"] = leaf.value_name
        else:
            attributes["presentation"] = f"$(presentation.{name})"
        policy = ET.SubElement(parent, "policy", attributes)
        ET.SubElement(policy, "parentCategory", {"ref": category_name(leaf.path[:-1])})
        ET.SubElement(policy, "supportedOn", {"ref": SUPPORTED})
        if leaf.kind is LeafKind.BOOL:
            # On/off settings are the policy's own state: Enabled writes 1, Disabled 0.
            ET.SubElement(ET.SubElement(policy, "enabledValue"), "decimal", {"value": "1"})
            ET.SubElement(ET.SubElement(policy, "disabledValue"), "decimal", {"value": "0"})
            return
        elements = ET.SubElement(policy, "elements")
        presentation = ET.Element("presentation", {"id": name})
        self.presentations.append(presentation)
        element_id = leaf.value_name
        label = f"{_human(leaf.path[-1])}:"
        default = leaf.field.default
        if leaf.kind is LeafKind.INT:
            low, high = _int_range(leaf.field)
            ET.SubElement(
                elements,
                "decimal",
                {
                    "id": element_id,
                    "valueName": leaf.value_name,
                    "required": "true",
                    "minValue": str(low),
                    "maxValue": str(high),
                },
            )
            box = ET.SubElement(presentation, "decimalTextBox", {"refId": element_id})
            if isinstance(default, int):
                box.set("defaultValue", str(default))
            box.text = label
        elif leaf.kind is LeafKind.CHOICE:
            enum = ET.SubElement(elements, "enum", {"id": element_id, "valueName": leaf.value_name, "required": "true"})
            for choice in leaf.choices:
                item = ET.SubElement(enum, "item", {"displayName": self.string(f"{name}_{choice}", str(choice))})
                value = ET.SubElement(item, "value")
                if leaf.registry_type is RegType.REG_DWORD:
                    ET.SubElement(value, "decimal", {"value": str(choice)})
                else:
                    ET.SubElement(value, "string").text = str(choice)
            dropdown = ET.SubElement(presentation, "dropdownList", {"refId": element_id, "noSort": "true"})
            default_value = getattr(default, "value", default)
            if default_value in leaf.choices:
                dropdown.set("defaultItem", str(leaf.choices.index(default_value)))
            dropdown.text = label
        elif leaf.kind in (LeafKind.TEXT, LeafKind.FLOAT):
            max_length = _max_length(list(leaf.field.metadata))
            ET.SubElement(
                elements,
                "text",
                {"id": element_id, "valueName": leaf.value_name, "maxLength": str(max_length or 1023)},
            )
            box = ET.SubElement(presentation, "textBox", {"refId": element_id})
            ET.SubElement(box, "label").text = label
            if default is not PydanticUndefined and default not in ("", None):
                ET.SubElement(box, "defaultValue").text = _plain(default)
        else:
            attributes = {"id": element_id, "valueName": leaf.value_name, "maxLength": "32767"}
            if (most := _max_length(list(leaf.field.metadata))) is not None:
                attributes["maxStrings"] = str(most)
            ET.SubElement(elements, "multiText", attributes)
            box = ET.SubElement(presentation, "multiTextBox", {"refId": element_id})
            box.text = f"{_human(leaf.path[-1])} (one per line):"

    # ------------------------------------------------------------------ ADML

    def adml(self) -> bytes:
        """The en-US ADML file: every string and presentation the ADMX refers to (call after `admx`)."""
        root = ET.Element(
            "policyDefinitionResources", {"xmlns": NAMESPACE, "revision": REVISION, "schemaVersion": "1.0"}
        )
        ET.SubElement(root, "displayName").text = DISPLAY_NAME
        ET.SubElement(root, "description").text = f"Group Policy settings of {DISPLAY_NAME} ({VENDOR})."
        resources = ET.SubElement(root, "resources")
        table = ET.SubElement(resources, "stringTable")
        for string_id, text in self.strings.items():
            ET.SubElement(table, "string", {"id": string_id}).text = text
        presentations = ET.SubElement(resources, "presentationTable")
        presentations.extend(self.presentations)
        return _serialise(root)


_ROOT_HELP = (
    f"Settings of {DISPLAY_NAME}. Each setting here overrides the same key in the kiosk's policy file "
    "(Group Policy > policy file > defaults). A setting left Not configured takes the file's value, else "
    "the default. A value the kiosk cannot use (wrong type, out of range, unknown name) stops it from "
    "starting, just like a mistake in the policy file; check with: kiosk policy show --effective."
)


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    # The declaration as Microsoft's own templates write it (ElementTree's uses single quotes).
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n").encode()


def _human(name: str) -> str:
    """A key as a label: `code_lifetime_minutes` → `Code lifetime minutes`."""
    return name.replace("_", " ").capitalize()


def _plain(value: Any) -> str:
    """A default as an administrator types it."""
    value = getattr(value, "value", value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ", ".join(_plain(item) for item in value) if value else "an empty list"
    if value == "":
        return "empty"
    return str(value)


def _bound(metadata: list[Any]) -> Iterator[tuple[str, float]]:
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            yield "ge", float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Gt):
            yield "gt", float(item.gt)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Le):
            yield "le", float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, annotated_types.Lt):
            yield "lt", float(item.lt)  # type: ignore[arg-type]


def _int_range(info: FieldInfo) -> tuple[int, int]:
    """The range of a whole-number setting, as ADMX `decimal` needs it (both ends, within a REG_DWORD)."""
    low, high = 0, MAX_DWORD
    for kind, value in _bound(list(info.metadata)):
        if kind == "ge":
            low = max(low, int(value))
        elif kind == "gt":
            low = max(low, int(value) + 1)
        elif kind == "le":
            high = min(high, int(value))
        else:
            high = min(high, int(value) - 1)
    return low, high


def _max_length(metadata: list[Any]) -> int | None:
    return next((item.max_length for item in metadata if isinstance(item, annotated_types.MaxLen)), None)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _allowed(leaf: PolicyLeaf) -> str:
    """What the setting takes, in words."""
    metadata = list(leaf.field.metadata)
    if leaf.kind is LeafKind.INT:
        low, high = _int_range(leaf.field)
        return f"a whole number from {low} to {high}"
    if leaf.kind is LeafKind.FLOAT:
        words = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}
        bounds = [f"{words[kind]} {_number(value)}" for kind, value in _bound(metadata)]
        return "a number (decimals with a point, e.g. 2.5)" + (f", {' and '.join(bounds)}" if bounds else "")
    if leaf.kind is LeafKind.CHOICE:
        return "one of: " + ", ".join(str(choice) for choice in leaf.choices)
    if leaf.kind is LeafKind.TEXT:
        most = _max_length(metadata)
        return "text" + (f", at most {most} characters" if most is not None else "")
    item = (
        "one of: " + ", ".join(leaf.item_choices)
        if leaf.item_choices
        else "text" + (f" of at most {m} characters" if (m := _max_length(list(leaf.item_metadata))) else "")
    )
    most = _max_length(metadata)
    return f"a list, one item per line{f' (at most {most})' if most is not None else ''}; each item {item}"


def _explain(leaf: PolicyLeaf) -> str:
    """The explanation shown next to a policy: what it does, what it takes, its default, where it is stored."""
    default = leaf.field.default
    default_text = "none: required when this section is used" if default is PydanticUndefined else _plain(default)
    parts = [(leaf.field.description or "").strip(), ""]
    if leaf.kind is LeafKind.BOOL:
        parts.append("Enabled: true. Disabled: false. Both override the policy file.")
    else:
        parts.append(f"Enabled: the value given here overrides the policy file. Allowed: {_allowed(leaf)}.")
    parts += [
        "Not configured"
        + ("" if leaf.kind is LeafKind.BOOL else " or Disabled")
        + f": the policy file's value applies, else the default: {default_text}.",
        "",
        f"Policy file key: {leaf.dotted}",
        f"Registry: {location(leaf.path[:-1])}, value {leaf.value_name} ({leaf.registry_type.name}).",
    ]
    return "\n".join(parts)
