from __future__ import annotations

import json

import pytest

from enkryptify_action.dangerous import is_dangerous
from enkryptify_action.errors import EXIT_NOT_FOUND, EXIT_VALIDATION, NotFoundError, UsageError, ValidationError
from enkryptify_action.plan import Secret, Target
from enkryptify_action.select import build_plan, flatten_json, parse_spec, sanitize

TARGET = Target("acme", "web", "production", "env-1")


def secrets(**values: str) -> list[Secret]:
    return [Secret(name, value) for name, value in values.items()]


def plan(items: list[Secret], **kwargs):
    return build_plan(items, TARGET, **kwargs)


BASE = secrets(DB_URL="postgres://x", DB_OLD="old", API_KEY="k1", api_token="t")


def test_empty_spec_selects_all_in_order() -> None:
    assert plan(BASE).names == ["DB_URL", "DB_OLD", "API_KEY", "api_token"]


def test_spec_grammar() -> None:
    spec = """
    # comment
    DB_*      # trailing comment
    !DB_OLD
    KEY=API_KEY
    """
    p = plan(BASE, spec=spec)
    assert p.as_dict() == {"DB_URL": "postgres://x", "KEY": "k1"}
    assert [(n.source, n.name) for n in p.renamed] == [("API_KEY", "KEY")]


def test_exclude_alone_means_all_but() -> None:
    assert plan(BASE, spec="!DB_*\n!api*").names == ["API_KEY"]


def test_explicit_name_wins_over_exclude() -> None:
    assert plan(BASE, spec="DB_OLD\n!DB_*").names == ["DB_OLD"]


def test_glob_may_match_nothing() -> None:
    assert plan(BASE, spec="NOPE_*\nAPI_KEY").names == ["API_KEY"]


def test_rename_keeps_original_when_also_selected() -> None:
    assert plan(BASE, spec="API_KEY\nOTHER=API_KEY").as_dict() == {"API_KEY": "k1", "OTHER": "k1"}


@pytest.mark.parametrize("spec", ["MISSING", "X=MISSING"])
def test_missing_exact_names_are_not_found(spec: str) -> None:
    with pytest.raises(NotFoundError) as info:
        plan(BASE, spec=spec)
    assert "MISSING" in info.value.message and info.value.exit_code == EXIT_NOT_FOUND
    assert info.value.hint and "DB_URL" in info.value.hint  # names are listed, values never
    assert "postgres" not in str(info.value)


@pytest.mark.parametrize("spec", ["=X", "X=", "!", "A=B*", "A,=X"])  # "A B" is two entries now
def test_bad_spec_lines(spec: str) -> None:
    with pytest.raises(UsageError, match="line 1"):
        parse_spec(spec)


def test_prefix_and_case() -> None:
    assert plan(BASE, spec="api_token\nDB_URL", prefix="app_", name_case="upper").names == [
        "APP_DB_URL",
        "APP_API_TOKEN",
    ]
    assert plan(BASE, spec="DB_URL", name_case="lower").names == ["db_url"]


def test_invalid_names_sanitize_skip_error() -> None:
    items = secrets(**{"my-key.v2": "a", "9LIVES": "b", "ok": "c"})
    p = plan(items)
    assert p.names == ["my_key_v2", "_9LIVES", "ok"]
    assert {n.source for n in p.renamed} == {"my-key.v2", "9LIVES"}
    p = plan(items, invalid_names="skip")
    assert p.names == ["ok"] and {n.source for n in p.skipped} == {"my-key.v2", "9LIVES"}
    with pytest.raises(ValidationError) as info:
        plan(items, invalid_names="error")
    assert "my-key.v2" in info.value.message and "9LIVES" in info.value.message


def test_sanitize() -> None:
    assert sanitize("a b-c") == "a_b_c" and sanitize("1x") == "_1x"


@pytest.mark.parametrize(
    "name",
    ["PATH", "path", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "NODE_OPTIONS", "BASH_ENV", "GITHUB_TOKEN", "ci_job_id",
     "GIT_SSH_COMMAND", "https_proxy", "SSL_CERT_FILE", "RUNNER_TEMP", "ACTIONS_RUNTIME_TOKEN", "GITLAB_USER", "IFS"],
)  # fmt: skip
def test_dangerous_names(name: str) -> None:
    assert is_dangerous(name)
    with pytest.raises(ValidationError) as info:
        plan(secrets(**{name: "v"}))
    assert name in info.value.message and "allow-dangerous-names" in info.value.message
    assert info.value.exit_code == EXIT_VALIDATION
    assert plan(secrets(**{name: "v"}), allow_dangerous_names=True).names == [name]


def test_dangerous_check_applies_after_prefix() -> None:
    assert plan(secrets(IFS="v"), prefix="APP_").names == ["APP_IFS"]
    with pytest.raises(ValidationError):  # a suffix family (*PATH) still matches after a prefix
        plan(secrets(PATH="v"), prefix="APP_")
    with pytest.raises(ValidationError):
        plan(secrets(TOKEN="v"), prefix="GITHUB_")


def test_safe_names_are_not_dangerous() -> None:
    assert not any(is_dangerous(n) for n in ["DATABASE_URL", "PATHWAY", "CIRCLE", "HOMEPAGE", "API_KEY"])


def test_collisions_name_both_sources() -> None:
    with pytest.raises(ValidationError) as info:
        plan(secrets(**{"a-b": "1", "a_b": "2"}))
    assert "a-b and a_b both export a_b" in info.value.message
    with pytest.raises(ValidationError, match="X and Y both export X"):
        plan(secrets(X="1", Y="2"), spec="X\nX=Y")


def test_each_kind_of_refusal_gets_its_own_hint() -> None:
    with pytest.raises(ValidationError) as clash:
        plan(secrets(X="1", Y="2"), spec="X\nX=Y")
    assert clash.value.hint and "allow-dangerous-names" not in clash.value.hint and "ALIAS=NAME" in clash.value.hint
    with pytest.raises(ValidationError) as both:
        plan(secrets(PATH="1", X="2", Y="3"), spec="PATH\nX\nX=Y")
    assert both.value.hint and "allow-dangerous-names" in both.value.hint and "Give one of them" in both.value.hint


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        plan(secrets(PATH="1", HOME="2"))
    assert info.value.message.startswith("2 secret(s)")


def test_parse_json_flattens_objects() -> None:
    value = json.dumps({"host": "db", "port": 5432, "tls": {"on": True, "ca": None}, "tags": ["a"]})
    p = plan(secrets(DB=value, PLAIN="[1,2]"), parse_json=True)
    assert p.as_dict() == {
        "DB": value,
        "DB_host": "db",
        "DB_port": "5432",
        "DB_tls_on": "true",
        "DB_tls_ca": "",
        "DB_tags": '["a"]',
        "PLAIN": "[1,2]",
    }
    assert [i.source for i in p.items][1:3] == ["DB.host", "DB.port"]
    assert p.renamed == ()  # a flattened field is named by rule: no "renamed" note


def test_parse_json_names_follow_prefix_case_and_sanitize() -> None:
    p = plan(secrets(cfg='{"a-b": "x"}'), parse_json=True, prefix="p_", name_case="upper")
    assert p.names == ["P_CFG", "P_CFG_A_B"]


def test_flatten_ignores_non_objects() -> None:
    assert flatten_json("X", "not json") == [] and flatten_json("X", '"s"') == []
