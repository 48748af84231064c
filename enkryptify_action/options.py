"""The options table: every knob, defined once.

The CLI parser, the GitHub input reader, the GitLab component's ``spec:inputs``, action.yml and the
README inputs tables all derive from (or are checked against) ``OPTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How an option's text is parsed."""

    STRING = "string"
    TEXT = "text"  # multi-line
    BOOL = "boolean"
    INT = "integer"
    FLOAT = "number"
    CHOICE = "choice"


CLI = "cli"
GITHUB = "github"
GITLAB = "gitlab"
EVERYWHERE = frozenset({CLI, GITHUB, GITLAB})

Value = str | bool | int | float

# The config file is repository content: a branch or pull request can edit it. So it may choose which of
# the token's secrets are fetched and how they are named, but never anything that decides where the
# credentials go, what is trusted, or what later steps run: those options are workflow-only. export-env,
# export-outputs and summary are too (action.yml gives them defaults, so a config file could never set them).
# timeout, retries, max-variables and dry-run stay allowed: they only bound, shorten or stop a run (a branch
# can make a job fail anyway) and never change where the token or the secrets go.
WORKFLOW_ONLY_RULE = (
    "A workflow-only option decides where the token goes, what is trusted or what later steps are given; "
    "the config file is repository content that a branch can edit, so only the workflow sets it "
    "(an action input, a command-line flag, a component input or an ENKRYPTIFY_* variable)."
)
WORKFLOW_ONLY_NOTE = "Workflow-only: a config file may not set it."


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its kebab-case name, how it parses, its default and where it applies."""

    name: str
    kind: Kind
    default: Value
    description: str
    choices: tuple[str, ...] = ()
    platforms: frozenset[str] = EVERYWHERE
    env: str = ""  # defaults to ENKRYPTIFY_<UPPER_SNAKE>
    workflow_only: bool = False  # see WORKFLOW_ONLY_RULE: never read from the config file
    minimum: float | None = None
    maximum: float | None = None

    @property
    def in_config_file(self) -> bool:
        """Whether ``.enkryptify.yml`` may set it (every option that is not workflow-only)."""
        return not self.workflow_only

    @property
    def dest(self) -> str:
        """The Python attribute name (``name-case`` → ``name_case``)."""
        return self.name.replace("-", "_")

    @property
    def env_var(self) -> str:
        return self.env or "ENKRYPTIFY_" + self.dest.upper()

    @property
    def github_input_var(self) -> str:
        """The runner keeps hyphens in ``INPUT_*`` names (github-runner.md §3)."""
        return "INPUT_" + self.name.upper()

    def default_text(self) -> str:
        """The default as it is written in action.yml, GitLab specs and docs."""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


OPTIONS: tuple[Option, ...] = (
    # --- what to fetch ---------------------------------------------------------------------------
    Option(
        "token",
        Kind.STRING,
        "",
        "Enkryptify API token (ek_live_...). Empty: read ENKRYPTIFY_TOKEN from the environment.",
        env="ENKRYPTIFY_TOKEN",
        workflow_only=True,
        platforms=frozenset({CLI, GITHUB}),
    ),
    Option(
        "workspace",
        Kind.STRING,
        "",
        "Workspace slug or ID. May be empty when the token sees exactly one workspace; auth oidc: required, "
        "the workspace ID.",
    ),
    Option(
        "project",
        Kind.STRING,
        "",
        "Project slug or ID. May be empty when the token sees exactly one project in the workspace.",
    ),
    Option(
        "environment",
        Kind.STRING,
        "",
        "Environment name or ID. Empty: mapped from the branch by the config file's `environments:`.",
    ),
    Option(
        "sources",
        Kind.TEXT,
        "",
        "Several sources merged in order, one PROJECT/ENVIRONMENT per line (a later one wins on equal names); "
        "replaces project and environment.",
    ),
    Option(
        "secrets",
        Kind.TEXT,
        "",
        "Which secrets, one per line or comma-separated: NAME, GLOB*, !GLOB (exclude), ALIAS=NAME (rename). "
        "Empty: all.",
    ),
    Option(
        "files",
        Kind.TEXT,
        "",
        "Secrets delivered as files, one per line: NAME=PATH or NAME:base64=PATH (0600); NAME then holds "
        "the file's absolute path.",
        platforms=frozenset({CLI, GITHUB}),
        workflow_only=True,  # it decides where secret files are written
    ),
    # --- naming ----------------------------------------------------------------------------------
    Option("prefix", Kind.STRING, "", "Prefix added to every exported name."),
    Option(
        "name-case",
        Kind.CHOICE,
        "preserve",
        "Case of exported names.",
        choices=("preserve", "upper", "lower"),
    ),
    Option(
        "invalid-names",
        Kind.CHOICE,
        "sanitize",
        "What to do with names that are not valid variable names: sanitize (to _), skip, or error.",
        choices=("sanitize", "skip", "error"),
    ),
    Option(
        "allow-dangerous-names",
        Kind.BOOL,
        False,
        "Allow names such as PATH, LD_PRELOAD, NODE_OPTIONS or GITHUB_* that can hijack later steps.",
        workflow_only=True,
    ),
    Option(
        "parse-json",
        Kind.BOOL,
        False,
        "Also export each field of a JSON-object value as NAME_KEY (nested keys joined with _).",
    ),
    Option(
        "personal-values",
        Kind.BOOL,
        False,
        "Prefer a secret's personal override over its shared value.",
    ),
    # --- connection ------------------------------------------------------------------------------
    Option(
        "auth",
        Kind.CHOICE,
        "exchange",
        "exchange: trade the token for a 15-minute JWT first; direct: send the token itself; "
        "oidc (experimental): no token, trade the CI's OIDC ID token for a JWT.",
        choices=("exchange", "direct", "oidc"),
        workflow_only=True,  # a repository file must not decide how the job authenticates
    ),
    Option(
        "oidc-audience",
        Kind.STRING,
        "enkryptify",
        "auth oidc on GitHub: the audience of the ID token requested from the runner.",
        platforms=frozenset({CLI, GITHUB}),
        workflow_only=True,  # it decides which service the ID token is good for
    ),
    Option(
        "api-url",
        Kind.STRING,
        "https://api.enkryptify.com",
        "Enkryptify API base URL (https; plain http only to loopback).",
        env="ENKRYPTIFY_API_URL",
        workflow_only=True,
    ),
    Option(
        "ca-cert",
        Kind.STRING,
        "",
        "Extra CA certificate to trust: a PEM file path or PEM text.",
        workflow_only=True,
    ),
    Option(
        "timeout",
        Kind.FLOAT,
        10.0,
        "Seconds one request attempt may take in total (connect to last byte); the run gets 5 x retries x timeout.",
        minimum=0.1,
        maximum=300,
    ),
    Option(
        "retries",
        Kind.INT,
        4,
        "Attempts per request for 429, 5xx and network errors (1 = no retry).",
        minimum=1,
        maximum=10,
    ),
    Option(
        "config",
        Kind.STRING,
        "",
        "Config file path. Empty: .enkryptify.yml in the working directory, if present.",
        workflow_only=True,
    ),
    # --- GitHub exports --------------------------------------------------------------------------
    Option(
        "export-env",
        Kind.BOOL,
        True,
        "Export secrets as environment variables for later steps (GITHUB_ENV).",
        platforms=frozenset({GITHUB}),
        workflow_only=True,
    ),
    Option(
        "export-outputs",
        Kind.BOOL,
        False,
        "Also set one step output per secret.",
        platforms=frozenset({GITHUB}),
        workflow_only=True,
    ),
    Option(
        "export-file",
        Kind.STRING,
        "",
        "Also write a dotenv file (0600) at this path under the workspace or RUNNER_TEMP.",
        platforms=frozenset({GITHUB}),
        workflow_only=True,
    ),
    Option(
        "summary",
        Kind.BOOL,
        True,
        "Write a step summary table of exported names (never values).",
        platforms=frozenset({GITHUB}),
        workflow_only=True,
    ),
    Option(
        "dry-run",
        Kind.BOOL,
        False,
        "Fetch and validate, list the names that would be exported, export nothing.",
    ),
    # --- GitLab ----------------------------------------------------------------------------------
    Option(
        "max-variables",
        Kind.INT,
        20,
        "Most variables a GitLab dotenv report may hold (self-managed default 20).",
        platforms=frozenset({CLI, GITLAB}),
        minimum=1,
        maximum=100000,
    ),
    Option(
        "max-size",
        Kind.INT,
        5120,
        "Size limit in bytes of a GitLab dotenv report, measured gzipped as GitLab does (dotenv_size, default 5120).",
        platforms=frozenset({CLI, GITLAB}),
        minimum=1,
        maximum=1_000_000_000,
    ),
)

BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


def for_platform(platform: str) -> tuple[Option, ...]:
    """The options that apply on one platform (``cli``, ``github`` or ``gitlab``)."""
    return tuple(option for option in OPTIONS if platform in option.platforms)
