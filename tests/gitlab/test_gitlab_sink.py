"""The GitLab dotenv writer, held against the GitLab emulation (tests/gitlab/dotenv_emulation.py).

Assertion messages name variables, never values.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enkryptify_action.errors import UsageError, ValidationError
from enkryptify_action.plan import ExportItem, ExportPlan, Target
from enkryptify_action.sinks.gitlab import (
    GITLAB_DEFAULT_MAX_VARIABLES,
    GITLAB_MAX_DOTENV_BYTES,
    RUBY_STRIP_CHARS,
    render_gitlab_dotenv,
    value_problem,
)
from tests.gitlab.dotenv_emulation import DotenvRejected, delivered_variables, parse_dotenv_report

TARGET = Target("acme", "shop", "production", "env-1")
JOB_VARIABLES = {"HOME": "/root", "CI_JOB_ID": "42", "PATH": "/usr/bin", "OTHER": "other-value"}

# Values a dotenv report must carry exactly: the list ($, #, quotes, =, spaces, unicode) and
# every `$` form the runner would expand.
EXACT_VALUES = {
    "DOLLAR_NAME": "pa$OTHER",
    "DOLLAR_BRACES": "x${HOME}y",
    "DOLLAR_DOUBLE": "a$$b",
    "DOLLAR_END": "ends with $",
    "DOLLAR_DIGIT": "cost$1",
    "DOLLAR_OPEN": "half ${ open",
    "HASH": "p#ss # not a comment",
    "DQUOTED": '"wrapped in double quotes"',
    "SQUOTED": "'single'",
    "MIXED_QUOTES": 'it\'s "mixed"',
    "EQUALS": "a=b==c=",
    "SPACES": "inner  spaces\tand tab",
    "UNICODE": "héllo ☃ 日本語 🔐",
    "BACKSLASH": r"C:\path\n\t",
    "BASE64": "dGVzdA==",
    "EMPTY": "",
    "EXPORT_LIKE": "export X=1",
    "JSON": '{"k": "v", "n": [1, 2]}',
}


def plan_of(values: dict[str, str], sources: dict[str, str] | None = None) -> ExportPlan:
    items = tuple(ExportItem(name, value, (sources or {}).get(name, name)) for name, value in values.items())
    return ExportPlan(TARGET, items)


def delivered(text: str, *, limit: int = GITLAB_DEFAULT_MAX_VARIABLES) -> dict[str, str]:
    return delivered_variables(text.encode("utf-8"), variable_limit=limit, job_variables=JOB_VARIABLES)


def differing(expected: dict[str, str], got: dict[str, str]) -> list[str]:
    """Names whose delivered value differs (or is missing): safe to show in a failure message."""
    return sorted(name for name in expected.keys() | got.keys() if expected.get(name) != got.get(name))


def test_every_tricky_value_arrives_exactly() -> None:
    text = render_gitlab_dotenv(plan_of(EXACT_VALUES), max_variables=50)
    got = delivered(text, limit=50)
    assert not differing(EXACT_VALUES, got), f"altered by GitLab: {differing(EXACT_VALUES, got)}"


def test_the_emulation_would_catch_unescaped_dollars() -> None:
    """Guards the round-trip test: writing values verbatim does not survive the runner's expansion."""
    verbatim = "".join(f"{name}={value}\n" for name, value in EXACT_VALUES.items())
    broken = differing(EXACT_VALUES, delivered(verbatim, limit=50))
    # Only a trailing "$" survives unescaped.
    assert broken == ["DOLLAR_BRACES", "DOLLAR_DIGIT", "DOLLAR_DOUBLE", "DOLLAR_NAME", "DOLLAR_OPEN"]


def test_output_is_plain_key_value_lines() -> None:
    text = render_gitlab_dotenv(plan_of({"A": '"q"', "B": "x # y", "C": "$", "D": ""}), max_variables=20)
    assert text == 'A="q"\nB=x # y\nC=$$\nD=\n'


def test_empty_plan_is_an_empty_report() -> None:
    text = render_gitlab_dotenv(plan_of({}), max_variables=20)
    assert text == ""
    assert parse_dotenv_report(b"") == {}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("line1\nline2", "multi-line"),
        ("-----BEGIN KEY-----\r\nabc\r\n-----END KEY-----\r\n", "multi-line"),
        ("a\rb", "multi-line"),
        (" leading", "whitespace"),
        ("trailing ", "whitespace"),
        ("\ttab", "whitespace"),
        ("vt\x0b", "whitespace"),
        ("nul\0inside", "NUL"),
        ("\ud800", "Unicode"),
    ],
)
def test_values_gitlab_cannot_carry_are_refused(value: str, reason: str) -> None:
    problem = value_problem(value)
    assert problem is not None and reason in problem
    with pytest.raises(ValidationError) as caught:
        render_gitlab_dotenv(plan_of({"BAD": value}), max_variables=20)
    assert "BAD" in caught.value.message
    assert reason in caught.value.message


@pytest.mark.parametrize("value", ["line1\nline2", " leading", "trailing ", "a\rb\n"])
def test_refused_values_really_would_be_altered(value: str) -> None:
    """The refusals are not over-cautious: GitLab would reject or change these."""
    raw = f"BAD={value}\n".encode()
    try:
        got = delivered_variables(raw).get("BAD")
    except DotenvRejected:
        return
    assert got != value, "GitLab would have carried this value: the refusal is unnecessary"


def test_all_problems_are_reported_at_once_with_names_only() -> None:
    secret_values = {
        "MULTI": "s3cr3t-multi\nline",
        "PADDED": " s3cr3t-padded ",
        "BAD_NAME_SRC": "s3cr3t-name",
        "FINE": "s3cr3t-fine",
    }
    items = (
        ExportItem("MULTI", secret_values["MULTI"], "db/cert"),
        ExportItem("PADDED", secret_values["PADDED"], "PADDED"),
        ExportItem("bad-name", secret_values["BAD_NAME_SRC"], "bad-name"),
        ExportItem("FINE", secret_values["FINE"], "FINE"),
        ExportItem("FINE", secret_values["FINE"], "fine"),
    )
    with pytest.raises(ValidationError) as caught:
        render_gitlab_dotenv(ExportPlan(TARGET, items), max_variables=20)
    error = caught.value
    message = str(error)
    assert "MULTI (secret db/cert): multi-line" in message
    assert "PADDED: starts or ends with whitespace" in message
    assert "bad-name: name is not a valid GitLab variable name" in message
    assert "FINE (secret fine): exported twice" in message
    assert "Nothing was written" in message
    assert error.hint is not None and "enkryptify-fetch run --" in error.hint
    assert "--format shell" in error.hint
    leaked = [name for name, value in secret_values.items() if value.strip() in message + repr(error)]
    assert not leaked, f"error text shows the values of {leaked}"


def test_variable_count_limit() -> None:
    twenty = {f"V{i}": "v" for i in range(20)}
    assert len(delivered(render_gitlab_dotenv(plan_of(twenty), max_variables=20))) == 20
    twenty_one = twenty | {"V20": "v"}
    with pytest.raises(ValidationError, match=r"21 variables, more than max-variables \(20\)"):
        render_gitlab_dotenv(plan_of(twenty_one), max_variables=20)
    assert len(delivered(render_gitlab_dotenv(plan_of(twenty_one), max_variables=50), limit=50)) == 21


def test_size_limit_is_checked_on_the_escaped_file() -> None:
    # "K=" + value + "\n": 3 bytes of framing.
    fits = "x" * (GITLAB_MAX_DOTENV_BYTES - 4)
    text = render_gitlab_dotenv(plan_of({"K": fits}), max_variables=20)
    assert len(text.encode()) == GITLAB_MAX_DOTENV_BYTES - 1
    assert delivered(text)["K"] == fits
    with pytest.raises(ValidationError, match=r"would be 5120 bytes; GitLab accepts less than 5120"):
        render_gitlab_dotenv(plan_of({"K": fits + "x"}), max_variables=20)
    # Each "$" costs two bytes in the file.
    dollars = "$" * ((GITLAB_MAX_DOTENV_BYTES - 4) // 2 + 1)
    with pytest.raises(ValidationError, match="bytes; GitLab accepts less than"):
        render_gitlab_dotenv(plan_of({"K": dollars}), max_variables=20)


def test_multibyte_values_count_bytes_not_characters() -> None:
    snowmen = "☃" * 1800  # 5400 bytes, 1800 characters
    with pytest.raises(ValidationError, match="bytes"):
        render_gitlab_dotenv(plan_of({"K": snowmen}), max_variables=20)


def test_count_and_size_and_value_problems_together() -> None:
    values = {f"V{i}": "y" * 300 for i in range(21)} | {"MULTI": "a\nb"}
    with pytest.raises(ValidationError) as caught:
        render_gitlab_dotenv(plan_of(values), max_variables=20)
    message = caught.value.message
    assert "MULTI: multi-line" in message
    assert "22 variables, more than max-variables (20)" in message
    assert "GitLab accepts less than 5120 bytes" in message


def test_max_variables_must_be_positive() -> None:
    with pytest.raises(UsageError):
        render_gitlab_dotenv(plan_of({"A": "b"}), max_variables=0)


SURROGATE = "is not valid Unicode text (unpaired surrogate)"
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)
values = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(names, values, max_size=8))
def test_property_accepted_means_delivered_exactly(secrets: dict[str, str]) -> None:
    plan = plan_of(secrets)
    try:
        text = render_gitlab_dotenv(plan, max_variables=20)
    except ValidationError:
        assert any(value_problem(v) is not None for v in secrets.values()) or len(text_of(secrets)) >= 5120
        return
    got = delivered(text)
    assert not differing(secrets, got), f"altered by GitLab: {differing(secrets, got)}"


def text_of(secrets: dict[str, str]) -> bytes:
    return "".join(f"{k}={v.replace('$', '$$')}\n" for k, v in secrets.items()).encode("utf-8", "replace")


@settings(max_examples=300, deadline=None)
@given(values)
def test_property_whitespace_and_newline_refusals_are_exactly_gitlabs_losses(value: str) -> None:
    """Refused <=> GitLab would alter it, except for three deliberate refusals of values GitLab keeps:
    NUL (no environment variable holds one), unpaired surrogates (not UTF-8), and a CR inside the value
    (a line break to most consumers; the same-job mode carries it)."""
    if "\0" in value or "\r" in value.strip(RUBY_STRIP_CHARS) or value_problem(value) == SURROGATE:
        return
    raw = f"K={value.replace('$', '$$')}\n".encode()
    try:
        exact = delivered_variables(raw) == {"K": value}
    except DotenvRejected:
        exact = False
    assert (value_problem(value) is None) == exact
