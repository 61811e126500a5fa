"""The policy loader: the demo policy loads, and every kind of problem names its key, line and fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.policy.loader import (
    MAX_POLICY_BYTES,
    PolicyError,
    PolicyProblem,
    check_policy_text,
    format_problem,
    load_policy,
    load_policy_text,
)
from kiosk.policy.schema import DeliveryKind, EnabledFor, Method, Policy

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def only_problem(text: str) -> PolicyProblem:
    problems = check_policy_text(text, "test.toml")
    assert len(problems) == 1, problems
    return problems[0]


# ------------------------------------------------------------------------------- valid policies


def test_demo_policy_loads_with_every_documented_setting() -> None:
    policy = load_policy(RESOURCES / "demo-policy.toml")
    assert policy.reset.enabled_for is EnabledFor.GROUP
    assert policy.reset.groups == ("SSPR-Users",)
    assert policy.methods.enabled == (Method.EMAIL, Method.MOBILE_SMS, Method.SECURITY_QUESTIONS, Method.APP_CODE)
    assert policy.methods.required == 1
    assert policy.methods.two_gate_groups == ("Finance",)
    assert (policy.security_questions.number_to_register, policy.security_questions.number_to_reset) == (3, 3)
    assert policy.on_premises.writeback is False
    assert policy.on_premises.allow_unlock_without_reset is True
    password = policy.password
    assert (password.min_length, password.required_classes, password.history, password.min_strength) == (10, 3, 5, 2)
    assert password.banned_words == ("contoso", "password", "welcome")
    assert password.disallow_user_name is True
    assert (policy.kiosk.idle_timeout_seconds, policy.kiosk.done_countdown_seconds) == (120, 15)
    assert policy.kiosk.languages == ()  # every shipped language
    assert policy.kiosk.branding.organisation == "Contoso"
    assert policy.kiosk.branding.accent_color == "#0067b8"
    assert policy.kiosk.helpdesk.phone == "+1 555 0100"
    assert policy.kiosk.helpdesk.url and policy.kiosk.helpdesk.email
    assert policy.kiosk.helpdesk.text == ""  # the built-in text, translated
    assert policy.backend.mode == "embedded"
    assert policy.directory.kind == "embedded"
    assert policy.directory.embedded.seed_demo_users is True
    assert policy.delivery.kind is DeliveryKind.DEV_OUTBOX
    assert policy.demo


def test_demo_policy_comments_every_setting() -> None:
    lines = (RESOURCES / "demo-policy.toml").read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[number - 1].lstrip().startswith("#"), f"line {number + 1} has no comment above it: {line}"


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_bytes(b"")
    assert load_policy(path) == Policy()


def test_comments_only_is_all_defaults() -> None:
    assert load_policy_text("# nothing set yet\n\n", "x.toml") == Policy()


def test_utf8_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + '[kiosk.branding]\norganisation = "Café Zoë"\n'.encode())
    assert load_policy(path).kiosk.branding.organisation == "Café Zoë"


def test_crlf_line_endings_keep_line_numbers() -> None:
    problem = only_problem("[methods]\r\n\r\nrequired = 3\r\n")
    assert (problem.key, problem.line) == ("methods.required", 3)


def test_valid_text_has_no_problems() -> None:
    assert check_policy_text('[methods]\nenabled = ["email", "app_code"]\nrequired = 2\n', "x.toml") == []


# ------------------------------------------------------------------------------- broken examples


@pytest.mark.parametrize(
    ("example", "key", "line", "words"),
    [
        (
            "unknown-key.toml",
            "methods.requird",
            7,
            ["unknown key", "allowed: enabled, required", "did you mean required"],
        ),
        ("wrong-type.toml", "password.history", 4, ["whole number between 0 and 24", '"five"']),
        ("syntax-error.toml", "", 6, ["TOML syntax error"]),
    ],
)
def test_each_broken_example_names_key_and_line(example: str, key: str, line: int, words: list[str]) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(RESOURCES / "examples" / example)
    [problem] = raised.value.problems
    assert (problem.key, problem.line) == (key, line)
    for word in words:
        assert word in problem.message


def test_out_of_range_example_reports_both_problems_in_line_order() -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(RESOURCES / "examples" / "out-of-range.toml")
    first, second = raised.value.problems
    # A problem inside a multi-line list points at the list's key.
    assert (first.key, first.line) == ("methods.enabled", 3)
    assert "item 2" in first.message and "carrier_pigeon" in first.message
    assert "one of: email, mobile_sms, mobile_call, office_call, security_questions, app_code" in first.message
    assert (second.key, second.line) == ("methods.code_length", 7)
    assert "between 6 and 10" in second.message


def test_every_example_is_broken() -> None:
    examples = sorted((RESOURCES / "examples").glob("*.toml"))
    assert len(examples) >= 4
    for example in examples:
        with pytest.raises(PolicyError):
            load_policy(example)


# ------------------------------------------------------------------------------- unknown keys


def test_unknown_nested_key_lists_that_tables_keys() -> None:
    problem = only_problem(
        '[kiosk]\nlanguages = ["en"]\n\n[kiosk.branding]\norganisation = "X"\naccent_colour = "#000000"\n'
    )
    assert (problem.key, problem.line) == ("kiosk.branding.accent_colour", 6)
    assert 'unknown key "accent_colour" in [kiosk.branding]' in problem.message
    assert "allowed: organisation, logo, accent_color" in problem.message
    assert "did you mean accent_color?" in problem.message


def test_unknown_section_points_at_its_header() -> None:
    problem = only_problem('[reset]\nenabled_for = "all"\n[passwords]\nmin_length = 12\n')
    assert (problem.key, problem.line) == ("passwords", 3)
    assert "at the top level" in problem.message and "did you mean password?" in problem.message


def test_unknown_nested_table_points_at_its_header() -> None:
    problem = only_problem('[kiosk.helpdsk]\nphone = "1"\n')
    assert (problem.key, problem.line) == ("kiosk.helpdsk", 1)
    assert "in [kiosk]" in problem.message


def test_unknown_key_in_dotted_and_inline_forms() -> None:
    dotted = only_problem('\nmethods.enabeld = ["email"]\n')
    assert (dotted.key, dotted.line) == ("methods.enabeld", 2)
    inline = only_problem('\n\nreset = { enabled_for = "all", group = ["x"] }\n')
    assert (inline.key, inline.line) == ("reset.group", 3)


def test_quoted_unknown_key_is_shown_quoted() -> None:
    problem = only_problem('[methods]\n"two gates" = true\n')
    assert (problem.key, problem.line) == ('methods."two gates"', 2)


def test_several_problems_are_all_reported_in_line_order() -> None:
    problems = check_policy_text("[password]\nhistory = 99\nmin_length = 2\n[kiosk]\nfoo = 1\n", "x.toml")
    assert [(p.key, p.line) for p in problems] == [
        ("password.history", 2),
        ("password.min_length", 3),
        ("kiosk.foo", 5),
    ]


# ------------------------------------------------------------------------------- types, enums, ranges


def test_wrong_enum_value_lists_the_choices() -> None:
    problem = only_problem('[reset]\nenabled_for = "everybody"\n')
    assert (problem.key, problem.line) == ("reset.enabled_for", 2)
    assert "must be one of: none, group, all" in problem.message
    assert '"everybody"' in problem.message


def test_required_gates_must_be_1_or_2() -> None:
    problem = only_problem("[methods]\nrequired = 3\n")
    assert (problem.key, problem.line) == ("methods.required", 2)
    assert "must be 1 or 2" in problem.message


def test_true_is_not_taken_for_one_gate() -> None:
    assert "must be 1 or 2" in only_problem("[methods]\nrequired = true\n").message


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ('[kiosk]\nidle_timeout_seconds = "120"\n', "whole number between 30 and 3600"),
        ('[on_premises]\nwriteback = "yes"\n', "true or false"),
        ("[on_premises]\nwriteback = 1\n", "true or false"),
        ('[password]\nbanned_words = "contoso"\n', "a list"),
        ("[kiosk.branding]\norganisation = 42\n", "text in quotes"),
        ("[backend]\ntimeout_seconds = 0\n", "greater than 0 and at most 120"),
        ("[password]\nmin_length = 10.5\n", "whole number"),
    ],
)
def test_wrong_type_is_not_coerced_and_says_what_is_allowed(text: str, allowed: str) -> None:
    problem = only_problem(text)
    assert problem.line == 2
    assert allowed in problem.message


def test_a_date_is_refused_with_a_hint() -> None:
    problem = only_problem("[kiosk.branding]\norganisation = 2024-01-01\n")
    assert (problem.key, problem.line) == ("kiosk.branding.organisation", 2)
    assert "in quotes" in problem.message


def test_a_section_given_as_a_value() -> None:
    problem = only_problem("kiosk = 5\n")
    assert (problem.key, problem.line) == ("kiosk", 1)
    assert "table" in problem.message


def test_list_item_problem_points_at_the_keys_line() -> None:
    problem = only_problem('[password]\nbanned_words = [\n  "contoso",\n  "ab",\n]\n')
    assert (problem.key, problem.line) == ("password.banned_words", 2)
    assert "item 2" in problem.message and "3 to 64 characters" in problem.message


def test_empty_method_list_says_at_least_one() -> None:
    problem = only_problem("[methods]\nenabled = []\n")
    assert "at least 1 item" in problem.message and "an empty list" in problem.message


def test_accent_colour_error_names_the_key() -> None:
    problem = only_problem('[kiosk.branding]\naccent_color = "blue"\n')
    assert (problem.key, problem.line) == ("kiosk.branding.accent_color", 2)
    assert "#RRGGBB" in problem.message


# ------------------------------------------------------------------------------- rules across keys


def test_group_mode_without_groups_points_at_the_table() -> None:
    problem = only_problem('# who\n[reset]\nenabled_for = "group"\n')
    assert (problem.key, problem.line) == ("reset", 2)
    assert "groups" in problem.message


def test_more_questions_to_reset_than_registered() -> None:
    problem = only_problem("\n[security_questions]\nnumber_to_register = 3\nnumber_to_reset = 4\n")
    assert (problem.key, problem.line) == ("security_questions", 2)
    assert "number_to_reset may not exceed number_to_register" in problem.message


def test_table_level_problem_without_header_points_at_first_key() -> None:
    problem = only_problem('\nreset.enabled_for = "group"\n')
    assert (problem.key, problem.line) == ("reset", 2)


def test_repeated_questions_do_not_count_twice() -> None:
    text = '[security_questions]\npredefined = ["first_pet", "first_pet", "first_pet"]\nnumber_to_register = 3\n'
    assert "fewer questions" in only_problem(text).message


# ------------------------------------------------------------------------------- syntax


def test_syntax_error_gives_the_line_from_tomllib() -> None:
    problem = only_problem('[methods]\nenabled = ["email"]\n[kiosk\nidle_timeout_seconds = 60\n')
    assert (problem.key, problem.line) == ("", 3)
    assert problem.message.startswith("TOML syntax error")


def test_syntax_error_at_end_of_document_points_at_last_line() -> None:
    problem = only_problem("[kiosk]\nidle_timeout_seconds =")
    assert problem.line == 2 and "end of the file" in problem.message


def test_duplicate_key_is_a_syntax_error() -> None:
    assert only_problem("[kiosk]\nidle_timeout_seconds = 60\nidle_timeout_seconds = 90\n").key == ""


# ------------------------------------------------------------------------------- files that are not policies


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path / "nope.toml")
    [problem] = raised.value.problems
    assert (problem.key, problem.line) == ("", None)
    assert "no such file" in problem.message
    assert str(raised.value) == f"{tmp_path / 'nope.toml'}: no such file; give the path of a policy .toml file"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path)
    assert "is a directory" in raised.value.problems[0].message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(PolicyError) as raised:
        load_policy(fifo)
    assert "not a regular file" in raised.value.problems[0].message


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[kiosk.branding]\n\norganisation = "Café"\n'.encode("latin-1"))
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    [problem] = raised.value.problems
    assert problem.line == 3
    assert "not UTF-8" in problem.message and "0xe9" in problem.message


def test_utf16_says_how_to_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "utf16.toml"
    path.write_bytes("[kiosk]\nidle_timeout_seconds = 60\n".encode("utf-16"))
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert "UTF-16" in raised.value.problems[0].message


def test_file_over_1_mib_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    # Not valid TOML: were it parsed, the answer would be a syntax error, not the size.
    path.write_bytes(b"[[[" * (MAX_POLICY_BYTES // 3 + 1))
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    [problem] = raised.value.problems
    assert problem.line is None and "1 MiB" in problem.message


def test_file_of_exactly_1_mib_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    header = b"[kiosk]\nidle_timeout_seconds = 60\n"
    path.write_bytes(header + b"#" * (MAX_POLICY_BYTES - len(header)))
    assert load_policy(path).kiosk.idle_timeout_seconds == 60


def test_text_over_1_mib_is_refused() -> None:
    problem = only_problem("#" * (MAX_POLICY_BYTES + 1))
    assert "1 MiB" in problem.message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (CI runs as root), so the permission error is injected at open().
    path = tmp_path / "secret.toml"
    path.write_text("", encoding="utf-8")

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert "cannot read" in raised.value.problems[0].message


# ------------------------------------------------------------------------------- formatting


def test_format_problem_leaves_out_unknown_parts() -> None:
    assert format_problem("p.toml", PolicyProblem("a.b", 3, "bad")) == "p.toml:3: a.b: bad"
    assert format_problem("p.toml", PolicyProblem("", 3, "bad")) == "p.toml:3: bad"
    assert format_problem("p.toml", PolicyProblem("", None, "bad")) == "p.toml: bad"


def test_policy_error_message_lists_every_problem() -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy_text("[methods]\nrequired = 3\ncode_length = 1\n", "inline.toml")
    assert raised.value.source == "inline.toml"
    assert str(raised.value).splitlines() == [
        "inline.toml:2: methods.required: must be 1 or 2; got the number 3",
        "inline.toml:3: methods.code_length: must be a whole number between 6 and 10; got the number 1",
    ]
