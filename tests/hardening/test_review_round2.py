"""Regression tests for the outside security review, round 2 (RESULTS.md, "Security review round 2").

Each test here failed on the code before the fix it names (R2-n is the row in RESULTS.md).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import dotenv
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from enkryptify_action.dangerous import is_dangerous
from enkryptify_action.errors import EXIT_USAGE, EXIT_VALIDATION, ValidationError
from enkryptify_action.formats import dotenv_problem, render_dotenv
from enkryptify_action.plan import ExportItem, ExportPlan, Secret, Target
from enkryptify_action.select import build_plan
from tests.e2e.cli_helpers import base_env, run_cli
from tests.fake_api.app import FakeEnkryptify
from tests.fake_api.server import serve_fake
from tests.github.action_harness import RunnerDirs, run_entrypoint
from tests.hardening.profiles import scaled

TOKEN = "ek_live_round2_0123456789abcdef"
TARGET = Target("acme", "web-app", "production", "env-1")


def _fake() -> FakeEnkryptify:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "DB_PASSWORD", {"production": "s3cret-value-xyz"})
    fake.add_secret(prj, "BASH_ENV", {"production": "./pwn.sh"})
    fake.add_token(TOKEN)
    return fake


@pytest.mark.parametrize(
    "hostile",
    [
        "api-url: {attacker}\n",
        "ca-cert: /tmp/attacker-ca.pem\n",
        "allow-dangerous-names: true\n",
        "auth: direct\n",
        "export-file: dist/site/x.env\n",
    ],
)
def test_r2_1_a_branch_editing_the_config_file_cannot_redirect_or_widen(tmp_path: Path, hostile: str) -> None:
    """R2-1: the workflow's API gets no request and the attacker's none either; exit 2 names the key."""
    trusted, attacker = _fake(), _fake()
    with serve_fake(trusted) as trusted_url, serve_fake(attacker) as attacker_url:
        config = "workspace: acme\nproject: web-app\nenvironment: production\n" + hostile.format(attacker=attacker_url)
        (tmp_path / ".enkryptify.yml").write_text(config)
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=trusted_url)
        result = run_cli(["pull", "--format", "json", "--output", "-"], env=env, cwd=tmp_path)
    key = hostile.split(":", 1)[0]
    assert result.returncode == EXIT_USAGE, result.stderr
    assert f"sets {key}, which only the workflow may set" in result.stderr
    assert f"ENKRYPTIFY_{key.replace('-', '_').upper()}" in result.stderr
    assert trusted.requests == [] and attacker.requests == []
    assert result.stdout == "" and "s3cret" not in result.stderr


@pytest.mark.parametrize("hostile", ["api-url", "allow-dangerous-names"])
def test_r2_1_the_action_with_a_hostile_config_file_sends_nothing_and_exports_nothing(
    tmp_path: Path, hostile: str
) -> None:
    """R2-1 as the pull_request_target case: the workflow sets no api-url (or no allow-dangerous-names), the
    checked-out PR's config file does. Before: the token went to the attacker, or BASH_ENV reached GITHUB_ENV."""
    trusted, attacker = _fake(), _fake()
    with serve_fake(trusted) as trusted_url, serve_fake(attacker) as attacker_url:
        dirs = RunnerDirs(tmp_path)
        config = f"api-url: {attacker_url}\n" if hostile == "api-url" else "allow-dangerous-names: true\n"
        (dirs.workspace / ".enkryptify.yml").write_text("workspace: acme\nproject: web-app\n" + config)
        inputs = {"environment": "production"} | ({} if hostile == "api-url" else {"api-url": trusted_url})
        run = run_entrypoint(dirs.environ(inputs, extra={"ENKRYPTIFY_TOKEN": TOKEN}), cwd=dirs.workspace)
    assert run.exit_code == EXIT_USAGE
    assert any(f"sets {hostile}, which only the workflow may set" in a for a in run.annotations("error"))
    assert trusted.requests == [] and attacker.requests == []
    assert run.files["GITHUB_ENV"] == "" and run.files["GITHUB_OUTPUT"] == ""


@pytest.mark.parametrize(
    "content",
    [
        b"project: &p web-app\nsecrets: *p\n",
        b"project: web-app\n" + b"# padding\n" * 7000,
        b"project: w\xffeb-app\n",
        b"secrets: " + b"[" * 3000 + b"]" * 3000 + b"\n",
        b"project: 2024-02-30\n",
    ],
    ids=["alias", "over-64KiB", "not-utf8", "deeply-nested", "bad-date"],
)
def test_r2_5_bad_config_files_exit_2_not_1(tmp_path: Path, content: bytes) -> None:
    """R2-5: each class used to pass (alias, size) or end in exit 1, "internal error"; now exit 2, no request."""
    fake = _fake()
    (tmp_path / ".enkryptify.yml").write_bytes(content)
    with serve_fake(fake) as url:
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url)
        result = run_cli(["check", "--workspace", "acme", "--env", "production"], env=env, cwd=tmp_path)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "internal error" not in result.stderr and "Config file" in result.stderr
    assert fake.requests == []


# --- R2-4: the dangerous-name guard by family -------------------------------------------------------------

REFUSED_NOW = (
    # the names the review found passing, then more of each family
    "SSLKEYLOGFILE", "PIP_INDEX_URL", "NPM_CONFIG_REGISTRY", "GOPROXY", "GOFLAGS", "DOTNET_STARTUP_HOOKS",
    "PYTHONUSERBASE", "AWS_ENDPOINT_URL", "GH_HOST", "DOCKER_AUTH_CONFIG",
    "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_CONFIG_FILE", "npm_config_userconfig", "YARN_NPM_REGISTRY_SERVER",
    "UV_INDEX_URL", "POETRY_REPOSITORIES_X_URL", "BUNDLE_MIRROR__HTTPS", "CARGO_REGISTRIES_X_INDEX", "RUSTC_WRAPPER",
    "RUSTUP_DIST_SERVER", "GONOSUMDB", "GOTOOLCHAIN", "GOCACHEPROG", "CGO_LDFLAGS", "TWINE_REPOSITORY_URL",
    "PYTHONBREAKPOINT", "PYTHONSAFEPATH", "NODE_REPL_EXTERNAL_MODULE", "NODE_USE_ENV_PROXY", "RUBYGEMS_HOST", "PERL5DB",
    "PHPRC", "PHP_INI_SCAN_DIR", "LUA_INIT", "JAVA_HOME", "JAVA_OPTS", "MAVEN_OPTS", "CORECLR_PROFILER",
    "COMPlus_EnableDiagnostics", "DOTNET_ADDITIONAL_DEPS", "R_PROFILE_USER", "VIMINIT",
    "GLIBC_TUNABLES", "GCONV_PATH", "HOSTALIASES", "BASH_LOADABLES_PATH", "ZDOTDIR", "XDG_CONFIG_HOME", "PS1",
    "OPENSSL_CONF", "AWS_CA_BUNDLE", "VAULT_SKIP_VERIFY", "GNUPGHOME", "SSH_AUTH_SOCK",
    "GRPC_PROXY", "RSYNC_PROXY", "SOCKS5_SERVER",
    "LESSOPEN", "MANPAGER", "GH_PAGER", "AWS_PAGER", "KUBE_EDITOR", "SSH_ASKPASS", "SUDO_ASKPASS",
    "CC", "MAKEFLAGS", "MAKEFILES", "CMAKE_TOOLCHAIN_FILE", "PKG_CONFIG_LIBDIR",
    "AWS_ENDPOINT_URL_S3", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE",
    "GH_CONFIG_DIR", "GLAB_CONFIG_DIR", "KUBERNETES_SERVICE_HOST", "TF_CLI_CONFIG_FILE", "TF_CLI_ARGS",
    "VAULT_ADDR", "CONTAINERS_REGISTRIES_CONF", "REGISTRY_AUTH_FILE", "BUILDKIT_HOST", "HELM_PLUGINS",
)  # fmt: skip
STILL_EXPORTED = (
    # credentials and application settings users keep in Enkryptify
    "DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "NPM_TOKEN",
    "NODE_AUTH_TOKEN", "NODE_ENV", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "TWINE_USERNAME", "TWINE_PASSWORD",
    "CARGO_REGISTRY_TOKEN", "UV_PUBLISH_TOKEN", "YARN_NPM_AUTH_TOKEN", "MAVEN_PASSWORD", "DOCKER_USERNAME",
    "DOCKER_PASSWORD", "STRIPE_SECRET_KEY", "DB_HOST", "REDIS_URL", "SSH_PRIVATE_KEY", "SENTRY_DSN", "JWT_SECRET",
    "SLACK_WEBHOOK_URL", "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_AUTH_ACCESS_TOKEN", "TF_VAR_db_password",
    "ARM_CLIENT_SECRET", "VAULT_TOKEN", "PATHWAY", "HOMEPAGE", "CIRCLE", "API_KEY", "CORS_ORIGIN", "LESSON",
)  # fmt: skip


@pytest.mark.parametrize("name", REFUSED_NOW)
def test_r2_4_names_that_load_code_trust_or_fetch_are_refused(name: str) -> None:
    """R2-4: each of these passed the old list-based guard (the first ten are the review's own examples)."""
    with pytest.raises(ValidationError) as caught:
        build_plan([Secret(name, "v")], TARGET)
    assert f"exporting {name} could hijack later steps (" in caught.value.message
    assert caught.value.exit_code == EXIT_VALIDATION
    assert build_plan([Secret(name, "v")], TARGET, allow_dangerous_names=True).as_dict() == {name: "v"}


@pytest.mark.parametrize("name", STILL_EXPORTED)
def test_r2_4_credentials_and_application_settings_still_pass(name: str) -> None:
    assert not is_dangerous(name)
    assert build_plan([Secret(name, "v")], TARGET).as_dict() == {name: "v"}


def test_r2_4_the_family_is_named_in_the_refusal() -> None:
    with pytest.raises(ValidationError) as caught:
        build_plan([Secret("PIP_INDEX_URL", "https://evil.example/simple"), Secret("HTTPS_PROXY", "x")], TARGET)
    assert "(package managers; allow-dangerous-names)" in caught.value.message
    assert "(proxies; allow-dangerous-names)" in caught.value.message
    assert "https://evil.example" not in caught.value.message


# --- R2-2: dotenv values read back exactly by sh, bash and python-dotenv, or refused ------------------------

MARKER = "pwned"  # what a command substitution in a value would create in the shell's working directory
PIECES = st.sampled_from(
    ["'", '"', "`", "$", "$(", ")", "{", "}", "${", "\\", "!", "\n", "\r", " ", "#", "=", ";", "&", "|", "*", "~",
     "\t", "\\n", "\\'", '\\"', "'\\''", "$HOME", "${HOME}", f"$(touch {MARKER})", f"`touch {MARKER}`",
     "!!", "\u00e4", "\U0001f511", "\u2028", "\x85", "\x0b", "\x0c", "\x1f", "a", "Z", "0", "_", "-"]
)  # fmt: skip
DOTENV_VALUES = st.lists(st.lists(PIECES, max_size=14).map("".join), min_size=1, max_size=30)


def _expected_refusal(value: str) -> bool:
    """The documented rule (formats.dotenv_problem), restated: a CR, or no quoting fits."""
    single_ok = "'" not in value and "\\" not in value and "${" not in value
    double_ok = "$" not in value and "`" not in value and not value.endswith("\\")
    return "\r" in value or not (single_ok or double_ok)


def _source(shell: str, folder: Path) -> dict[bytes, bytes]:
    """``set -a; . ./x.env`` in a real shell; the variables it then exports, as bytes."""
    out = subprocess.run(
        [shell, "-c", "set -a; . ./x.env; exec env -0"],
        cwd=folder,
        env={"PATH": os.environ["PATH"]},  # so a `touch` in a substitution would really run
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return dict(entry.split(b"=", 1) for entry in out.split(b"\0") if b"=" in entry)


@scaled(bounded=40, long=2000)
@given(DOTENV_VALUES)
@example(["p'ss`id -un`w0rd", f"$(touch {MARKER})", f"`touch {MARKER}`", "it's", 'say "hi"\n\\', "${HOME}"])
def test_r2_2_dotenv_reads_back_exactly_in_sh_bash_and_python_dotenv_or_is_refused(values: list[str]) -> None:
    """R2-2: the old writer put ``p'ss`id -un`w0rd`` in double quotes with only ``$`` escaped: sh ran ``id``."""
    for value in values:
        assert (dotenv_problem(value) is not None) is _expected_refusal(value), repr(value)
    accepted = {f"V{i}": v for i, v in enumerate(values) if dotenv_problem(v) is None}
    plan = ExportPlan(TARGET, tuple(ExportItem(name, value, name) for name, value in accepted.items()))
    text = render_dotenv(plan)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "x.env").write_text(text, encoding="utf-8", newline="")
        for shell in ("sh", "bash"):
            got = _source(shell, folder)
            for var, value in accepted.items():
                assert got.get(var.encode()) == value.encode(), f"{shell} read {var} wrong"
        assert not (folder / MARKER).exists(), "a value ran a command substitution"
        read = dotenv.dotenv_values(folder / "x.env", encoding="utf-8")
        assert dict(read) == accepted
    refused = [f"V{i}" for i, v in enumerate(values) if dotenv_problem(v) is not None]
    if refused:
        mixed = ExportPlan(TARGET, tuple(ExportItem(f"V{i}", v, f"V{i}") for i, v in enumerate(values)))
        with pytest.raises(ValidationError) as caught:
            render_dotenv(mixed)
        assert all(f"{var}: " in caught.value.message for var in refused)


def test_r2_2_pull_dotenv_refuses_a_value_sh_would_run_naming_it(tmp_path: Path) -> None:
    fake = FakeEnkryptify()
    ws = fake.add_workspace("acme")
    prj = fake.add_project(ws, "web-app", environments=("production",))
    fake.add_secret(prj, "DB_PASSWORD", {"production": "p'ss`id -un`w0rd"})
    fake.add_secret(prj, "API_KEY", {"production": "fine"})
    fake.add_token(TOKEN)
    with serve_fake(fake) as url:
        env = base_env(ENKRYPTIFY_TOKEN=TOKEN, ENKRYPTIFY_API_URL=url)
        where = ["--workspace", "acme", "--project", "web-app", "--env", "production"]
        refused = run_cli(["pull", *where, "--output", str(tmp_path / "x.env")], env=env)
        shell = run_cli(["pull", *where, "--format", "shell", "--output", "-"], env=env)
    assert refused.returncode == EXIT_VALIDATION, refused.stderr
    assert (
        "DB_PASSWORD: no dotenv quoting reads it back the same" in refused.stderr and "--format shell" in refused.stderr
    )
    assert "w0rd" not in refused.stderr and not (tmp_path / "x.env").exists()
    assert shell.returncode == 0 and "export DB_PASSWORD='p'\\''ss`id -un`w0rd'" in shell.stdout
