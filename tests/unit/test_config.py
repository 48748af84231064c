from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from enkryptify_action.config import Settings, normalize_token, parse_value, resolve_settings, validate_api_url
from enkryptify_action.errors import EXIT_USAGE, UsageError
from enkryptify_action.options import BY_NAME, OPTIONS, Kind, Option

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
    config = "project: from-config\nworkspace: ws-config\nprefix: C_\nname-case: upper\n"
    (tmp_path / ".enkryptify.yml").write_text(config)
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
    (tmp_path / ".enkryptify.yml").write_text("projct: x\nworkspce: y\n")
    with pytest.raises(UsageError) as info:
        resolve(tmp_path)
    assert "projct" in info.value.message and "workspce" in info.value.message
    assert info.value.hint and "project" in info.value.hint
    assert "api-url" not in info.value.hint  # workflow-only keys are not offered


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


# --- the config file is repository content (security review round 2, finding R2-1) --------------------------

WORKFLOW_ONLY_AT_LEAST = (
    "token",
    "config",
    "api-url",
    "ca-cert",
    "auth",
    "allow-dangerous-names",
    "export-file",
)
SAMPLE_VALUE = {Kind.BOOL: "true", Kind.CHOICE: None, Kind.STRING: "x", Kind.TEXT: "x", Kind.INT: "5", Kind.FLOAT: "5"}


def test_options_that_decide_where_credentials_go_are_workflow_only() -> None:
    assert {o.name for o in OPTIONS if o.workflow_only} >= set(WORKFLOW_ONLY_AT_LEAST)
    assert all(o.in_config_file is not o.workflow_only for o in OPTIONS)


@pytest.mark.parametrize("option", [o for o in OPTIONS if o.workflow_only], ids=lambda o: o.name)
def test_a_config_file_setting_a_workflow_only_option_is_refused(tmp_path: Path, option: Option) -> None:
    value = option.choices[-1] if option.choices else SAMPLE_VALUE[option.kind]
    (tmp_path / ".enkryptify.yml").write_text(f"project: p\n{option.name}: {value!r}\n")
    with pytest.raises(UsageError) as info:
        resolve(tmp_path, environ={"ENKRYPTIFY_TOKEN": TOKEN})
    assert info.value.exit_code == EXIT_USAGE
    assert f"sets {option.name}, which only the workflow may set" in info.value.message
    assert info.value.hint and option.env_var in info.value.hint and "Unknown" not in info.value.message


def test_the_refusal_names_every_workflow_only_key_and_where_to_set_it(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text("api-url: https://evil.example\nallow-dangerous-names: true\n")
    with pytest.raises(UsageError) as info:
        resolve(tmp_path)
    assert "sets api-url, allow-dangerous-names, which" in info.value.message  # in file order
    hint = info.value.hint or ""
    assert "the action input `api-url`" in hint and "the flag --api-url" in hint and "ENKRYPTIFY_API_URL" in hint
    assert "the component input `allow-dangerous-names`" in hint


def test_the_workflow_still_sets_workflow_only_options_next_to_a_config_file(tmp_path: Path) -> None:
    (tmp_path / ".enkryptify.yml").write_text("project: p\ntimeout: 3\nretries: 2\n")
    s = resolve(tmp_path, environ={"ENKRYPTIFY_API_URL": "https://api.example.com", "ENKRYPTIFY_AUTH": "direct"})
    assert (s.project, s.timeout, s.retries, s.api_url, s.auth) == ("p", 3.0, 2, "https://api.example.com", "direct")


# --- bad config files end in exit 2, never in a crash (finding R2-5) ----------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a: &x [1]\nsecrets: *x\n", "uses a YAML alias (*name) at line 2"),
        (b"base: &b {x: 1}\nsecrets:\n  <<: *b\n", "uses a YAML alias"),
        (b"project: p\n# " + b"x" * (64 * 1024) + b"\n", "is larger than 64 KiB"),
        (b"project: caf\xe9\n", "is not UTF-8 text (byte 13)"),
        (b"secrets: " + b"[" * 5000 + b"]" * 5000 + b"\n", "is nested more than 16 levels deep"),
        (b"secrets: " + b"[" * 17 + b"]" * 17 + b"\n", "is nested more than 16 levels deep"),
        (b"project: 2024-13-45\n", "is not valid YAML: a value cannot be read"),
        (b"retries: " + b"1" * 5000 + b"\n", "is not valid YAML: a value cannot be read"),
        (b"project: !!timestamp x\n", "is not valid YAML: a value cannot be read"),
        (b"project: !!python/object:os.system x\n", "is not valid YAML at line 1"),
        (b"project: \x07\n", "is not valid YAML"),
    ],
    ids=["alias", "merge-key", "too-large", "not-utf8", "deep", "17-levels", "bad-date", "huge-int", "bad-tag",
         "python-tag", "control-char"],
)  # fmt: skip
def test_bad_config_files_are_usage_errors(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / ".enkryptify.yml").write_bytes(content)
    with pytest.raises(UsageError) as info:
        resolve(tmp_path)
    assert message in info.value.message and info.value.exit_code == EXIT_USAGE


def test_a_config_file_at_the_limits_is_read(tmp_path: Path) -> None:
    nested = b"environments: {main: production}\n"
    (tmp_path / ".enkryptify.yml").write_bytes(b"#" * (64 * 1024 - len(nested) - 1) + b"\n" + nested)
    assert (tmp_path / ".enkryptify.yml").stat().st_size == 64 * 1024
    assert resolve(tmp_path, environ={"GITHUB_REF_NAME": "main"}).environment == "production"
    (tmp_path / ".enkryptify.yml").write_text("secrets: " + "[" * 15 + "]" * 15 + "\n")
    with pytest.raises(UsageError, match="expected text"):  # 16 levels parse; the value is then the wrong type
        resolve(tmp_path)


def test_help_action_yml_and_readme_say_which_options_are_workflow_only(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from enkryptify_action import cli
    from enkryptify_action.options import CLI, GITHUB, WORKFLOW_ONLY_NOTE, for_platform

    assert cli.main(["pull", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for option in for_platform(CLI):
        marked = f"[env {option.env_var}; workflow-only]" in help_text
        assert marked is option.workflow_only, option.name
    root = Path(__file__).resolve().parents[2]
    inputs = yaml.safe_load((root / "action.yml").read_text(encoding="utf-8"))["inputs"]
    for option in for_platform(GITHUB):
        assert (WORKFLOW_ONLY_NOTE in inputs[option.name]["description"]) is option.workflow_only, option.name
    readme = (root / "README.md").read_text(encoding="utf-8")
    for option in OPTIONS:
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{option.name}` | `{option.env_var}`"))
        assert ("| no (workflow-only) |" in row) is option.workflow_only, option.name
