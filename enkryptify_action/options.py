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
    in_config_file: bool = True
    minimum: float | None = None
    maximum: float | None = None

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
        in_config_file=False,
        platforms=frozenset({CLI, GITHUB}),
    ),
    Option(
        "workspace",
        Kind.STRING,
        "",
        "Workspace slug or ID. May be empty when the token sees exactly one workspace.",
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
        "secrets",
        Kind.TEXT,
        "",
        "Which secrets, one per line: NAME, GLOB*, !GLOB (exclude), ALIAS=NAME (rename). Empty: all.",
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
        "exchange: trade the token for a 15-minute JWT first; direct: send the token itself.",
        choices=("exchange", "direct"),
    ),
    Option(
        "api-url",
        Kind.STRING,
        "https://api.enkryptify.com",
        "Enkryptify API base URL (https; plain http only to loopback).",
        env="ENKRYPTIFY_API_URL",
    ),
    Option("ca-cert", Kind.STRING, "", "Extra CA certificate to trust: a PEM file path or PEM text."),
    Option(
        "timeout",
        Kind.FLOAT,
        10.0,
        "Per-request timeout in seconds.",
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
        in_config_file=False,
    ),
    # --- GitHub exports --------------------------------------------------------------------------
    Option(
        "export-env",
        Kind.BOOL,
        True,
        "Export secrets as environment variables for later steps (GITHUB_ENV).",
        platforms=frozenset({GITHUB}),
    ),
    Option(
        "export-outputs",
        Kind.BOOL,
        False,
        "Also set one step output per secret.",
        platforms=frozenset({GITHUB}),
    ),
    Option(
        "export-file",
        Kind.STRING,
        "",
        "Also write a dotenv file (0600) at this path under the workspace or RUNNER_TEMP.",
        platforms=frozenset({GITHUB}),
    ),
    Option(
        "summary",
        Kind.BOOL,
        True,
        "Write a step summary table of exported names (never values).",
        platforms=frozenset({GITHUB}),
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
