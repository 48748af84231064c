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
    escape_gitlab_value,
    gzip_size,
    name_problem,
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
    "PERCENT_DOUBLE": "100%% sure",
    "PERCENT_DIGIT": "%1% and 50%",
    "PERCENT_LONE": "%OTHER and OTHER%",
    "PERCENT_DOLLAR": "%$OTHER%",
    "INNER_CR": "a\rb",
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
    assert broken == ["DOLLAR_BRACES", "DOLLAR_DIGIT", "DOLLAR_DOUBLE", "DOLLAR_NAME", "DOLLAR_OPEN", "PERCENT_DOLLAR"]


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
        ("pw-%CI_JOB_TOKEN%-end", "%NAME%"),
        ("x-%OTHER%-y", "%NAME%"),
        ("%1%B%", "%NAME%"),  # the scan moves past "%1" and finds %B%
        ("$%B%", "%NAME%"),  # written $$%B%: $$ is skipped, then %B%
        ("nul\0inside", "NUL"),
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


@pytest.mark.parametrize(
    "value", ["line1\nline2", " leading", "trailing ", "a\rb\n", "pw-%CI_JOB_TOKEN%-end", "x-%OTHER%-y", "%1%B%"]
)
def test_refused_values_really_would_be_altered(value: str) -> None:
    """The refusals are not over-cautious: GitLab would reject or change these."""
    raw = f"BAD={escape_gitlab_value(value)}\n".encode()
    try:
        got = delivered_variables(raw, job_variables=JOB_VARIABLES | {"B": "b", "CI_JOB_TOKEN": "job-token"}).get("BAD")
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


def test_size_limit_is_measured_on_the_gzip() -> None:
    """15-20 KB of ordinary configuration: refused by the old text rule, accepted (and delivered) now."""
    url = "https://service-{}.internal.example.com:8443/api/v1?region=eu-west-1&timeout=30"
    config = {f"SERVICE_{i}_URL": url.format(i) for i in range(150)}
    config |= {f"FEATURE_{i}_ENABLED": "true" if i % 3 else "false" for i in range(100)}
    text = render_gitlab_dotenv(plan_of(config), max_variables=250)
    assert len(text.encode()) > 15_000
    assert gzip_size(text.encode(), "enkryptify-secrets.env") < GITLAB_MAX_DOTENV_BYTES
    assert not differing(config, delivered(text, limit=250))


def test_size_refusal_gives_both_sizes_and_the_limit() -> None:
    import secrets as random_source

    tokens = {f"TOKEN_{i}": random_source.token_urlsafe(96) for i in range(60)}  # incompressible
    with pytest.raises(ValidationError) as caught:
        render_gitlab_dotenv(plan_of(tokens), max_variables=100)
    message = caught.value.message
    data = "".join(f"{k}={v}\n" for k, v in tokens.items()).encode()
    estimate = gzip_size(data, "enkryptify-secrets.env")
    assert f"would be {len(data)} bytes, about {estimate} bytes gzipped" in message
    assert "less than max-size (5120 bytes gzipped" in message
    assert not [k for k, v in tokens.items() if v in message]
    assert render_gitlab_dotenv(plan_of(tokens), max_variables=100, max_size=estimate + 1)
    with pytest.raises(ValidationError, match=f"max-size \\({estimate} bytes"):
        render_gitlab_dotenv(plan_of(tokens), max_variables=100, max_size=estimate)


def test_gzip_estimate_is_above_the_upload_and_within_the_margin() -> None:
    """The estimate covers the gzip the emulated runner uploads, by a small margin, file name included."""
    import random

    from tests.gitlab.dotenv_emulation import runner_gzip

    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
    for size in (0, 10, 300, 3000, 20_000):
        for path in ("enkryptify-secrets.env", "reports/ci/" + "x" * 200 + ".env"):
            data = "".join(rng.choice(alphabet + "=\n") for _ in range(size)).encode()
            uploaded = len(runner_gzip(data, path))
            estimate = gzip_size(data, path)
            assert uploaded <= estimate <= uploaded * 1.06 + 64, (size, path)


def test_report_path_counts_in_the_gzip_header() -> None:
    short = gzip_size(b"K=v\n", "a.env")
    long = gzip_size(b"K=v\n", "reports/" + "x" * 100 + ".env")
    assert long - short == (104 + 1 + 112 + 1) - (5 + 1 + 5 + 1)  # base name and path, NUL-terminated


def test_count_and_size_and_value_problems_together() -> None:
    import secrets as random_source

    values = {f"V{i}": random_source.token_hex(300) for i in range(21)} | {"MULTI": "a\nb"}
    with pytest.raises(ValidationError) as caught:
        render_gitlab_dotenv(plan_of(values), max_variables=20)
    message = caught.value.message
    assert "MULTI: multi-line" in message
    assert "22 variables, more than max-variables (20)" in message
    assert "GitLab accepts less than max-size (5120 bytes gzipped" in message


def test_max_variables_and_max_size_must_be_positive() -> None:
    with pytest.raises(UsageError):
        render_gitlab_dotenv(plan_of({"A": "b"}), max_variables=0)
    with pytest.raises(UsageError, match="max-size"):
        render_gitlab_dotenv(plan_of({"A": "b"}), max_variables=1, max_size=0)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("FF_USE_FASTZIP", "feature flags"),
        ("FF_ANYTHING_LATER", "feature flags"),
        ("CI_RUNNER_VERSION", "sets this variable itself"),
        ("CI_RUNNER_ANYTHING", "sets this variable itself"),
        ("CI_SHARED_ENVIRONMENT", "sets this variable itself"),
        ("CI_DISPOSABLE_ENVIRONMENT", "sets this variable itself"),
        ("RUNNER_TEMP_PROJECT_DIR", "sets this variable itself"),
        ("CI_BUILD_NETWORK_NAME", "sets this variable itself"),
        ("GITLAB_ENV", "sets this variable itself"),
        ("KUBERNETES_NAMESPACE_OVERWRITE", "pod"),
        ("KUBERNETES_SERVICE_ACCOUNT_OVERWRITE", "pod"),
        ("KUBERNETES_BEARER_TOKEN", "pod"),
        ("KUBERNETES_POD_ANNOTATIONS_1", "pod"),
        ("KUBERNETES_HELPER_MEMORY_LIMIT", "pod"),
        ("_", "bash owns"),
        ("RANDOM", "bash owns"),
        ("UID", "bash owns"),
        ("1ABC", "starts with a digit"),
    ],
)
def test_names_the_runner_or_bash_do_not_deliver_are_refused(name: str, reason: str) -> None:
    problem = name_problem(name)
    assert problem is not None and reason in problem
    with pytest.raises(ValidationError, match=name):
        render_gitlab_dotenv(plan_of({name: "v"}), max_variables=20)


@pytest.mark.parametrize("name", ["ff_lower", "KUBERNETES_TOKEN", "CI_RUNNERX", "BASH", "GITLAB_ENVIRONMENT"])
def test_names_that_arrive_are_not_refused(name: str) -> None:
    assert name_problem(name) is None
    text = render_gitlab_dotenv(plan_of({name: "v"}), max_variables=20)
    assert delivered(text) == {name: "v"}


def test_refused_names_really_do_not_arrive() -> None:
    for name, value in [("FF_USE_FASTZIP", "mine"), ("CI_RUNNER_VERSION", "mine"), ("GITLAB_ENV", "mine")]:
        assert delivered(f"{name}={value}\n").get(name) != value, name


SURROGATE = "is not valid Unicode text (unpaired surrogate)"
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)
values = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, values, max_size=8))
def test_property_accepted_means_delivered_exactly(secrets: dict[str, str]) -> None:
    plan = plan_of(secrets)
    try:
        text = render_gitlab_dotenv(plan, max_variables=20)
    except ValidationError:
        problems = [value_problem(v) or name_problem(k) for k, v in secrets.items()]
        assert any(problems) or gzip_size(text_of(secrets), "enkryptify-secrets.env") >= 5120
        return
    got = delivered(text)
    assert not differing(secrets, got), f"altered by GitLab: {differing(secrets, got)}"


def text_of(secrets: dict[str, str]) -> bytes:
    return "".join(f"{k}={v.replace('$', '$$')}\n" for k, v in secrets.items()).encode("utf-8", "replace")


@settings(max_examples=100, deadline=None)
@given(values)
def test_property_whitespace_and_newline_refusals_are_exactly_gitlabs_losses(value: str) -> None:
    """Refused <=> GitLab would alter it, except for two deliberate refusals: NUL (bash cuts the value
    there, and no environment variable holds one) and unpaired surrogates (not UTF-8)."""
    if "\0" in value or value_problem(value) == SURROGATE:
        return
    raw = f"K={value.replace('$', '$$')}\n".encode()
    try:
        exact = delivered_variables(raw) == {"K": value}
    except DotenvRejected:
        exact = False
    assert (value_problem(value) is None) == exact
