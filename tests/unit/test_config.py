from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from enkryptify_action.config import Settings, normalize_token, parse_value, resolve_settings, validate_api_url
from enkryptify_action.errors import EXIT_USAGE, UsageError
from enkryptify_action.options import BY_NAME, OPTIONS

TOKEN = "ek_live_abcdef123456"


def resolve(tmp_path: Path, **kwargs):
    kwargs.setdefault("environ", {})
    return resolve_settings(cwd=tmp_path, **kwargs)


def test_settings_fields_follow_the_options_table() -> None:
    names = [f.name for f in fields(Settings) if f.name != "environment_source"]
    assert names == [o.dest for o in OPTIONS]


def test_defaults(tmp_path: Path) -> None:
    s = resolve(tmp_path)
    assert s.api_url == "https://api.enkryptify.com"
    assert (s.auth, s.name_case, s.invalid_names) == ("exchange", "preserve", "sanitize")
    assert (s.timeout, s.retries, s.max_variables) == (10.0, 4, 20)
    assert s.export_env is True and s.export_outputs is False and s.dry_run is False


def test_precedence_flags_inputs_env_config(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text(
        "project: from-config\nworkspace: ws-config\nprefix: C_\nname-case: upper\n"
    )
    environ = {"ENKRYPTIFY_PROJECT": "from-env", "ENKRYPTIFY_WORKSPACE": "ws-env", "ENKRYPTIFY_NAME_CASE": ""}
    s = resolve(
        tmp_path,
        flags={"project": "from-flag", "workspace": None},
        inputs={"project": "from-input", "workspace": "ws-input", "prefix": ""},
        environ=environ,
    )
    assert s.project == "from-flag"
    assert s.workspace == "ws-input"
    assert s.prefix == "C_"  # empty input does not hide the config file
    assert s.name_case == "upper"  # empty env var does not hide the config file


def test_env_beats_config_file(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text("environment: staging\n")
    s = resolve(tmp_path, environ={"ENKRYPTIFY_ENVIRONMENT": "production"})
    assert s.environment == "production"


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("FALSE", False), (" yes ", True), ("0", False), ("on", True)]
)
def test_strict_booleans(raw: str, expected: bool) -> None:
    assert parse_value(BY_NAME["parse-json"], raw, "test") is expected


@pytest.mark.parametrize("raw", ["ture", "", "2", "enabled"])
def test_bad_booleans_are_refused_naming_the_option(raw: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_value(BY_NAME["parse-json"], raw, "action input")
    assert "parse-json" in info.value.message and "true or false" in info.value.message
    assert info.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("name", "raw"), [("retries", "0"), ("retries", "11"), ("retries", "two"), ("timeout", "-1"), ("timeout", "nan")]
)
def test_numbers_are_range_checked(name: str, raw: str) -> None:
    with pytest.raises(UsageError, match=name):
        parse_value(BY_NAME[name], raw, "flag")


def test_choice_is_checked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="one of preserve, upper, lower"):
        resolve(tmp_path, environ={"ENKRYPTIFY_NAME_CASE": "camel"})


def test_token_is_trimmed_and_checked_without_echo() -> None:
    assert normalize_token(f"  {TOKEN}\n") == TOKEN
    assert normalize_token("aaa.bbb.ccc") == "aaa.bbb.ccc"
    bad = "not-a-real-token-value-xyz"
    with pytest.raises(UsageError) as info:
        normalize_token(bad)
    assert bad not in str(info.value)


def test_token_from_env(tmp_path: Path) -> None:
    assert resolve(tmp_path, environ={"ENKRYPTIFY_TOKEN": TOKEN + "\n"}).token == TOKEN
    assert TOKEN not in repr(resolve(tmp_path, environ={"ENKRYPTIFY_TOKEN": TOKEN}))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080", "http://localhost", "http://[::1]:9", "https://api.example.com/", "http://127.5.0.1"],
)
def test_api_url_accepted(url: str) -> None:
    assert validate_api_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://api.enkryptify.com", "http://10.0.0.1", "ftp://x", "https://u:p@host", "api.enkryptify.com"]
)
def test_api_url_refused(url: str) -> None:
    with pytest.raises(UsageError):
        validate_api_url(url)


def test_config_unknown_keys_list_valid_ones(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text("projct: x\ntoken: ek_live_x\n")
    with pytest.raises(UsageError) as info:
        resolve(tmp_path)
    assert "projct" in info.value.message and "token" in info.value.message
    assert info.value.hint and "project" in info.value.hint


def test_config_invalid_yaml(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text("a: [unclosed\n")
    with pytest.raises(UsageError, match="not valid YAML at line"):
        resolve(tmp_path, flags={"config": "c.yml"})


def test_explicit_config_missing(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        resolve(tmp_path, environ={"ENKRYPTIFY_CONFIG": "nope.yml"})


def test_branch_mapping(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text(
        "project: p\nenvironments:\n  main: production\n  release/*: staging\n  '*': development\n"
    )
    assert resolve(tmp_path, environ={"GITHUB_REF_NAME": "main"}).environment == "production"
    s = resolve(tmp_path, environ={"CI_COMMIT_REF_NAME": "release/1.2"})
    assert s.environment == "staging" and "release/*" in s.environment_source
    assert resolve(tmp_path, environ={"GITHUB_REF_NAME": "feature/x"}).environment == "development"
    assert resolve(tmp_path, flags={"environment": "qa"}).environment == "qa"


def test_branch_mapping_without_match(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text("environments:\n  main: production\n")
    with pytest.raises(UsageError, match="feature/x matches none of: main"):
        resolve(tmp_path, environ={"GITHUB_REF_NAME": "feature/x"})


def test_config_file_list_for_secrets(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text("secrets:\n  - DB_*\n  - '!DB_OLD'\n")
    assert resolve(tmp_path).secrets == "DB_*\n!DB_OLD"
