"""The README a newcomer reads first matches the tree: every demo user, every `kiosk` command, every
shipped translation, and no pointer to a document that is not in the repository (issue 14, part 5)."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

from kiosk.cli.main import _parser

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's text under a `## title` heading, up to the next `## ` heading."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def commands(parser: argparse.ArgumentParser, prefix: str = "kiosk") -> list[str]:
    """Every leaf command of the parser, as typed: `kiosk policy check`, `kiosk serve`, …"""
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += commands(sub, f"{prefix} {name}") or [f"{prefix} {name}"]
    return found


def test_the_demo_users_table_lists_every_demo_user_and_no_other() -> None:
    seeded = tomllib.loads((REPO / "resources/demo/directory.toml").read_text(encoding="utf-8"))
    logins = {user["login"]: user["display_name"] for user in seeded["users"]}
    rows = dict(re.findall(r"^\| `([a-z]+)` \| ([^|]+?) \|", section("Demo users"), flags=re.MULTILINE))
    assert rows == logins


def test_the_commands_table_shows_every_kiosk_command() -> None:
    table = section("Commands")
    every = commands(_parser())
    assert "kiosk directory test" in every and len(every) >= 15
    missing = [command for command in every if not re.search(rf"^{re.escape(command)}\b", table, flags=re.MULTILINE)]
    assert missing == []


def test_the_translations_named_are_the_ones_shipped() -> None:
    shipped = sorted(path.parent.parent.name for path in (REPO / "translations").glob("*/LC_MESSAGES/messages.po"))
    text = section("Translations")
    assert f"({len(shipped)} ship, one folder each: " in text
    listed = re.search(r"one folder each: (.*?);\s+English is the source", text, flags=re.DOTALL)
    assert listed is not None
    assert re.findall(r"`([A-Za-z_]+)`", listed.group(1)) == shipped


def test_the_readme_points_at_nothing_missing() -> None:
    assert "SPEC" not in README  # the specification was never part of the repository
    for name in set(re.findall(r"[\w./-]+\.md\b", README)):
        assert (REPO / name).exists(), name


def test_the_readme_says_where_kiosk_is_and_what_make_test_costs() -> None:
    start = section("The two commands")
    assert ".venv/bin/kiosk" in start and "make run" in start
    assert "20–25 minutes" in start
    assert all(service in start for service in ("samba-ad-dc", "slapd", "postgresql"))
