"""Generate the README tables and embedded examples from the code: ``make docs`` (``--check``: only compare).

Each generated region sits between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->``;
everything outside the markers is hand-written and left alone. Regions:

- ``options``, ``action-inputs``, ``action-outputs``, ``component-inputs``: from the options table
  (``enkryptify_action/options.py``), action.yml's outputs and the component template's ``spec:inputs``;
- ``workflow-only``: ``options.WORKFLOW_ONLY_RULE`` and the options marked ``workflow_only``;
- ``trust-model``: ``TRUST_MODEL`` below, with the workflow-only options and the dangerous-name rule filled in
  (README.md and SECURITY.md carry the same table);
- ``exit-codes``: ``errors.EXIT_CODES``;
- ``dangerous-names``: ``dangerous.RULE`` and ``dangerous.FAMILIES``;
- ``troubleshooting``: the HTTP hints (``client.HINTS``) plus ``TROUBLES`` below, each of whose message and
  hint must appear in a ``raise`` of the named error class in the named module (checked here, on every run);
- ``example PATH``: the file at PATH as a fenced code block (the GitLab examples, which the gitlab-ci-local
  tests run through gitlab-component/README.md).

``tests/docs/test_generated.py`` runs the check mode, so a stale README fails ``make test``.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from enkryptify_action import client, dangerous, errors, files, network, select  # noqa: E402
from enkryptify_action.github.action_yml import OUTPUTS, input_default  # noqa: E402
from enkryptify_action.options import (  # noqa: E402
    CLI,
    GITHUB,
    GITLAB,
    OPTIONS,
    WORKFLOW_ONLY_RULE,
    Option,
    for_platform,
)
from enkryptify_action.plan import Secret, Target  # noqa: E402
from enkryptify_action.select import build_plan  # noqa: E402

PACKAGE = ROOT / "enkryptify_action"
TEMPLATE = ROOT / "gitlab-component" / "templates" / "fetch-secrets.yml"
DOCS = (ROOT / "README.md", ROOT / "gitlab-component" / "README.md", ROOT / "SECURITY.md")
REGION = re.compile(
    r"(?P<begin><!-- BEGIN GENERATED: (?P<name>[^>]+?) -->)(?P<body>.*?)(?P<end><!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)
VARIABLE = "…"  # how the variable part of an f-string message or hint is shown


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def code(text: str) -> str:
    return f"`{text}`" if text else '`""`'


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def described(option: Option) -> str:
    text = option.description
    if option.choices:
        text += " One of: " + ", ".join(f"`{c}`" for c in option.choices) + "."
    return cell(text)


# --- options and inputs ----------------------------------------------------------------------------------


def options_table() -> str:
    where = {CLI: "CLI", GITHUB: "GitHub", GITLAB: "GitLab"}
    rows = [
        (
            f"`{o.name}`",
            f"`{o.env_var}`",
            code(o.default_text()),
            ", ".join(where[p] for p in (CLI, GITHUB, GITLAB) if p in o.platforms),
            "no (workflow-only)" if o.workflow_only else "yes",
            described(o),
        )
        for o in OPTIONS
    ]
    return table(("option", "environment variable", "default", "where", "config file", "what it does"), rows)


def action_inputs_table() -> str:
    """Effective defaults: action.yml leaves option inputs empty so ENKRYPTIFY_* and the config file apply."""
    rows = [(f"`{o.name}`", code(o.default_text()), described(o)) for o in for_platform(GITHUB)]
    only_inputs = [o.name for o in for_platform(GITHUB) if input_default(o) == o.default_text() and o.default_text()]
    not_in_file = [o.name for o in for_platform(GITHUB) if o.workflow_only and o.name not in only_inputs]
    note = (
        "An input left empty falls back to its `ENKRYPTIFY_*` variable, then the config file (except the "
        "workflow-only "
        + ", ".join(f"`{n}`" for n in not_in_file)
        + "), then the default shown; action.yml declares these inputs with an empty default for that reason. "
        + ", ".join(f"`{n}`" for n in only_inputs[:-1])
        + f" and `{only_inputs[-1]}` carry their defaults in action.yml, so the input always decides.\n\n"
    )
    return note + table(("input", "default", "what it does"), rows)


def action_outputs_table() -> str:
    rows = [(f"`{name}`", cell(text)) for name, text in OUTPUTS.items()]
    rows.append(("`<NAME>`", "One output per exported secret, with `export-outputs: true` (masked)."))
    return table(("output", "what it holds"), rows)


def component_inputs_table() -> str:
    header, _body = yaml.safe_load_all(TEMPLATE.read_text(encoding="utf-8"))
    rows = []
    for name, spec in header["spec"]["inputs"].items():
        default = spec["default"]
        text = ("true" if default else "false") if isinstance(default, bool) else str(default)
        description = spec["description"]
        if spec.get("options"):
            description += " One of: " + ", ".join(f"`{c}`" for c in spec["options"]) + "."
        rows.append((f"`{name}`", code(text), cell(description)))
    return table(("Input", "Default", "What it does"), rows)


def workflow_only() -> str:
    names = ", ".join(f"`{o.name}`" for o in OPTIONS if o.workflow_only)
    return (
        f"{WORKFLOW_ONLY_RULE} Workflow-only options: {names}. A config file that sets one is refused "
        "before any request (exit 2), naming the key and where to set it instead."
    )


# Who controls what, and what each can and cannot make the action do (README.md and SECURITY.md).
TRUST_MODEL: tuple[tuple[str, str, str, str], ...] = (
    (
        "**Workflow author** (trusted)",
        "The workflow or pipeline file, CI secrets and variables, action and component inputs, CLI flags, "
        "`ENKRYPTIFY_*` variables.",
        "Everything the token allows: which token and API (`api-url`), which extra CA (`ca-cert`), `auth`, whether "
        "dangerous names are allowed, where the secrets go (`GITHUB_ENV`, outputs, `export-file`, the dotenv "
        "report, a `run` child). The workflow-only options are theirs alone: {workflow_only}.",
        "Turn TLS verification off, send the token over plain `http://` to a host that is not loopback, follow a "
        "redirect with the token, write `export-file` outside the workspace or `RUNNER_TEMP`, pass `NODE_OPTIONS` "
        "through `GITHUB_ENV`.",
    ),
    (
        "**Repository contents** (untrusted: any branch or pull request can change them)",
        "`.enkryptify.yml` (or the file `config` names) and every other checked-out file.",
        "Choose which of the token's secrets are fetched and how they are named (`workspace`, `project`, "
        "`environment`, `environments:`, `secrets`, `prefix`, `name-case`, `invalid-names`, `parse-json`, "
        "`personal-values`) and `timeout`, `retries`, `max-variables`, `dry-run`. Scope the token to what such "
        "a branch may select.",
        "Set a workflow-only option: the run stops before any request (exit 2), so it cannot redirect the token, "
        "add a CA, allow dangerous names, pick the export file or where exports go. Nor exhaust memory or crash "
        "the parser: 64 KiB, UTF-8, no YAML aliases, 16 levels at most, exit 2 for anything else.",
    ),
    (
        "**The Enkryptify workspace** (its members: secret names and values; workspace, project and environment names)",
        "The names and values the token can read.",
        "Decide the values later steps receive under the names the workflow selected: that is the point.",
        "Export a name that makes a later program load code, trust another party or fetch from elsewhere "
        "({dangerous_rule_short}; exit 6 unless the workflow allows it); write a file command, a second variable "
        "or a line a shell runs (random delimiters, validated names; a dotenv value that `sh`, `bash` and the "
        "dotenv readers would not read back exactly is refused, exit 6); put a value in a log line.",
    ),
    (
        "**The API server** (untrusted answers; whoever answers at `api-url`)",
        "Status codes, headers, bodies and timing of every answer.",
        "Refuse, fail or delay the run (every failure has its documented exit code and hint); "
        "it receives the token, because the workflow chose it.",
        "Send the token elsewhere (no redirects are followed); show the token or a JWT in a message (server "
        "messages are sanitized to one printable line); exhaust memory (bodies capped at 64 MiB); anything "
        "the workspace cannot, since its names and values pass the same checks.",
    ),
)


def trust_model() -> str:
    workflow_only = ", ".join(f"`{o.name}`" for o in OPTIONS if o.workflow_only)
    rule = "see the dangerous-name guard in README.md"
    rows = [
        tuple(cell(text.format(workflow_only=workflow_only, dangerous_rule_short=rule)) for text in row)
        for row in TRUST_MODEL
    ]
    return table(("who", "controls", "can make the action", "cannot make the action"), rows)


def exit_codes_table() -> str:
    return table(("code", "meaning"), [(str(int(c)), text) for c, text in errors.EXIT_CODES.items()])


def dangerous_names() -> str:
    def listed(family: dangerous.Family) -> str:
        parts = [f"`{n}`" for n in sorted(family.names)]
        parts += [f"`{p}*`" for p in family.prefixes] + [f"`*{s}`" for s in family.suffixes]
        return ", ".join(parts)

    rows = [(cell(f.what), listed(f), "yes" if f.credentials_pass else "no") for f in dangerous.FAMILIES]
    passing = ", ".join(f"`*{s}`" for s in dangerous.CREDENTIAL_SUFFIXES)
    exempt = ", ".join(f"`{n}`" for n in sorted(dangerous.APPLICATION_NAMES))
    return (
        f"{dangerous.RULE} Names are compared ignoring case, after `prefix` and `name-case`.\n\n"
        + table(("who reads them", "names refused", "credentials pass"), rows)
        + f'\n\n"Credentials pass": in that family a name matched only by a prefix that ends in {passing} is '
        "a credential, not a setting, and is exported (`NODE_AUTH_TOKEN`, `GH_TOKEN`, `TWINE_PASSWORD`); the "
        f"settings that decide where it is sent stay refused. Always allowed: {exempt} (read by applications)."
    )


# --- worked examples, computed by the real selection code -------------------------------------------------

SELECTION_SECRETS = ("DATABASE_URL", "STRIPE_KEY", "STRIPE_TEST_KEY", "SENTRY_DSN", "legacy-token")
SELECTION_SPEC = "DATABASE_URL\nSTRIPE_*\n!STRIPE_TEST_*\nSENTRY=SENTRY_DSN  # rename\nlegacy-*"
JSON_VALUE = '{"db": {"host": "db.internal", "port": 5432}, "debug": false, "tags": ["a", "b"], "note": null}'
_TARGET = Target(workspace="acme", project="web-app", environment="production", environment_id="env-1")


def selection_example() -> str:
    secrets = [Secret(name, "value") for name in SELECTION_SECRETS]
    plan = build_plan(secrets, _TARGET, spec=SELECTION_SPEC, prefix="APP_", name_case="upper")
    notes = {note.source: note.reason for note in plan.renamed}
    rows = [(f"`{i.source}`", f"`{i.name}`", cell(notes.get(i.source, ""))) for i in plan.items]
    rows += [(f"`{n}`", "—", "not selected") for n in SELECTION_SECRETS if n not in {i.source for i in plan.items}]
    spec = "\n".join(f"  {line}" for line in SELECTION_SPEC.splitlines())
    return (
        f"```yaml\nprefix: APP_\nname-case: upper\nsecrets: |\n{spec}\n```\n\n"
        f"Secrets {', '.join(f'`{n}`' for n in SELECTION_SECRETS)} are exported as:\n\n"
        + table(("secret", "exported as", "note in the log"), rows)
    )


def json_example() -> str:
    plan = build_plan([Secret("CONFIG", JSON_VALUE)], _TARGET, parse_json=True)
    lines = [f"{item.name}={item.value}" for item in plan.items]
    return f"`CONFIG` = `{JSON_VALUE}` with `parse-json: true` exports:\n\n```\n" + "\n".join(lines) + "\n```"


# --- troubleshooting ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trouble:
    """One row: what the user sees, why, and the hint the program prints (both checked against the code)."""

    module: str  # under enkryptify_action/, e.g. "config.py"
    error: type[errors.EnkryptifyError]
    message: str  # a fragment of the message as the code writes it ("…" for a variable part)
    cause: str
    hint: str  # a fragment of the printed hint, as the code writes it
    shown: str = ""  # what the table shows instead, when the code's hint is all variable parts


TROUBLES: tuple[Trouble, ...] = (
    Trouble(
        "client.py",
        errors.UsageError,
        "No Enkryptify token: ENKRYPTIFY_TOKEN is empty or unset.",
        "The secret is missing, misspelt, or (GitLab) protected while the branch is not.",
        "Store the API token as a CI secret and pass it as ENKRYPTIFY_TOKEN",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "The Enkryptify token is malformed",
        "The secret holds quotes, whitespace, a `Bearer ` prefix or control characters, or is neither `ek_live_…` "
        "nor a JWT (the message says which).",
        "Copy the whole token from Enkryptify into the ENKRYPTIFY_TOKEN secret, with no quotes or extra text.",
    ),
    Trouble(
        "resolve.py",
        errors.UsageError,
        "No environment given.",
        "Neither the `environment` option nor a config file's `environments:` mapping names one.",
        "Set the environment option (name or ID), or map branches to environments in the config file.",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "No environment given and branch … matches none of: … (read the branch from …).",
        "The branch mapping has no pattern for this branch (pull requests run on `N/merge`).",
        "Set the environment option, or add a pattern for this branch under `environments:`.",
    ),
    Trouble(
        "resolve.py",
        errors.UsageError,
        "The token sees … …s; say which one with the … option.",
        "`workspace` or `project` was left empty and the token sees several.",
        "Candidates: ….",
    ),
    Trouble(
        "resolve.py",
        errors.NotFoundError,
        "The token sees no ….",
        "The token's scope covers no workspace or project.",
        "Check the token's scope in Enkryptify, or set the … option.",
    ),
    Trouble(
        "resolve.py",
        errors.NotFoundError,
        "Environment … not found in project ….",
        "A typo, or an environment of another project (names are case-sensitive).",
        "Available environments: ",
    ),
    Trouble(
        "select.py",
        errors.NotFoundError,
        "Secret(s) not found in this environment: ….",
        "An exact `NAME` or `ALIAS=NAME` entry of `secrets` names no secret (globs may match nothing).",
        "Names are case-sensitive. Available: ….",
    ),
    Trouble(
        "select.py",
        errors.UsageError,
        "Cannot parse the secrets option: ",
        "A `secrets` entry is not `NAME`, `GLOB*`, `!GLOB` or `ALIAS=NAME` (or a rename uses a glob).",
        "Entries (one per line, or separated by commas or spaces): NAME, GLOB* (may match nothing), "
        "!GLOB (exclude), ALIAS=NAME (rename).",
    ),
    Trouble(
        "select.py",
        errors.ValidationError,
        "…: exporting … could hijack later steps (…; allow-dangerous-names)",
        "A secret (after prefix and case) has a name a later program reads to load code, trust or fetch: "
        "`PATH`, `LD_PRELOAD`, `PIP_INDEX_URL`, `*_PROXY`, `GITHUB_*` (see Dangerous names).",
        VARIABLE,
        shown=select.HINT_DANGEROUS,  # the hint joins one constant per kind of problem found
    ),
    Trouble(
        "select.py",
        errors.ValidationError,
        "… and … both export …",
        "Two secrets land on one name (an alias, `name-case`, sanitizing or `parse-json` fields).",
        VARIABLE,
        shown=select.HINT_CLASH,
    ),
    Trouble(
        "github/exports.py",
        errors.ValidationError,
        "… cannot be exported through GITHUB_ENV: the GitHub runner refuses it even when ",
        "The runner never accepts `NODE_OPTIONS` from GITHUB_ENV.",
        "Rename it (ALIAS=NODE_OPTIONS in the secrets option), exclude it (!NODE_OPTIONS), "
        "or set export-env: false and use export-outputs or export-file.",
    ),
    Trouble(
        "github/exports.py",
        errors.ValidationError,
        "Step output names are case-insensitive, so these would overwrite each other: ",
        "With `export-outputs: true`, two names differ only in case, or one is `names` or `count`.",
        "Set a prefix, rename with ALIAS=NAME in the secrets option, or set name-case: upper.",
    ),
    Trouble(
        "github/exports.py",
        errors.UsageError,
        "… … is outside the workspace and RUNNER_TEMP.",
        "An `export-file` or `files` path points outside the job's workspace and temp folder.",
        "Use a path such as .env.ci (in the workspace) or ${{ runner.temp }}/secrets.env.",
    ),
    Trouble(
        "sources.py",
        errors.UsageError,
        "sources is set, so … must be empty",
        "`sources` names each source's project and environment; `project`/`environment` are set as well.",
        "One PROJECT/ENVIRONMENT per line",
    ),
    Trouble(
        "secret_files.py",
        errors.ValidationError,
        "Not valid base64, so the file(s) cannot be decoded: ",
        "A `NAME:base64=PATH` entry names a secret whose value is not base64.",
        "Store the value base64-encoded in Enkryptify (standard alphabet, padded), or drop :base64.",
    ),
    Trouble(
        "child.py",
        errors.UsageError,
        "files: … must be a relative path for run",
        "With `run`, secret files live in a private folder removed when the command ends.",
        "Write e.g. TLS_KEY=tls/key.pem; the variable TLS_KEY then holds the file's absolute path.",
    ),
    Trouble(
        "cli.py",
        errors.UsageError,
        "The files option cannot be used with --format gitlab",
        "A dotenv report carries variables only; files cannot reach a later job that way.",
        "Write the files in the job that needs them",
    ),
    Trouble(
        "formats.py",
        errors.ValidationError,
        "… secret(s) cannot be written as dotenv exactly: ",
        "`pull --format dotenv` or `export-file` with a value that `sh`/`bash` and the dotenv readers would not "
        "read back the same (a `'` with `$` or a backtick, `${`, a carriage return): sourcing it could run code.",
        "Use --format shell",
    ),
    Trouble(
        "github/composite.py",
        errors.UsageError,
        "… … is outside RUNNER_TEMP: the composite action has no post step to delete it ",
        "The composite action (`any-runner`) was given an export-file in the workspace or elsewhere.",
        "Use a path such as ${{ runner.temp }}/secrets.env, or the container action on Linux.",
    ),
    Trouble(
        "github/composite.py",
        errors.ValidationError,
        "Environment variable names are case-insensitive on Windows, so these would overwrite each other: ",
        "The composite action on Windows: two secrets' names differ only in case.",
        "Set name-case: upper, rename with ALIAS=NAME in the secrets option, or exclude one (!NAME).",
    ),
    Trouble(
        "github/composite.py",
        errors.UsageError,
        "export-outputs is not available in the composite action: ",
        "A composite action passes on only its declared outputs (`names`, `count`).",
        "Use export-env or an export-file under ${{ runner.temp }}, or the container action on Linux.",
    ),
    Trouble(
        "sinks/gitlab.py",
        errors.ValidationError,
        "GitLab cannot carry these secrets exactly in a dotenv report:",
        "A value GitLab would alter (a line break, leading/trailing whitespace, `%NAME%`, NUL) or a name it does "
        "not accept or the runner does not deliver (`FF_*`, `CI_RUNNER_*`, bash's own names, ...): see the "
        'component\'s "What GitLab can carry" table.',
        "Use same-job mode for these secrets: `enkryptify-fetch run -- CMD`",
    ),
    Trouble(
        "sinks/gitlab.py",
        errors.ValidationError,
        "The dotenv report is refused: ",
        "More variables than `max-variables`, or a report whose gzip (as GitLab Runner uploads it) is `max-size` "
        "(5120) bytes or more.",
        "Use same-job mode for these secrets",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "Refusing plain http:// to …: the token would cross the network unencrypted.",
        "`api-url` uses `http://` to a host other than localhost.",
        "Use https://, or http:// only to localhost/127.0.0.1/[::1] for local testing.",
    ),
    Trouble(
        "client.py",
        errors.UsageError,
        "ca-cert is neither a readable PEM file nor PEM certificate text.",
        "A wrong path (the action runs in a container: use a workspace path) or a truncated PEM.",
        "Pass the path of a PEM file, or the PEM text starting with -----BEGIN CERTIFICATE-----.",
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "certificate verify failed: …",
        "The server's certificate is self-signed, from a private CA or a TLS-intercepting proxy, expired, or "
        "for another host. Reported at once, not retried.",
        network.TLS_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "TLS handshake with … failed (…)",
        "The server at api-url does not speak TLS there (a plain-http port?) or refuses our TLS versions.",
        network.TLS_HANDSHAKE_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "cannot resolve host … (DNS lookup failed)",
        "A typo in api-url's host, or the runner cannot resolve it (private DNS, no network).",
        network.DNS_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "connection refused by …",
        "Nothing listens at api-url's host and port, or a firewall rejects the connection.",
        network.REFUSED_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "… refused the tunnel (…)",
        "HTTPS_PROXY/ALL_PROXY names a proxy that is down, refuses CONNECT to the API host or wants credentials.",
        network.PROXY_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "… … timed out …: ….",
        "The API did not answer within `timeout` seconds on every attempt (connect or answer).",
        network.TIMEOUT_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "the answer did not complete within … s",
        "The answer kept coming too slowly: each attempt has `timeout` seconds in total, not only per read.",
        network.TIMEOUT_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "… … stopped …: ….",
        "The run's deadline passed: requests, retries and waits together get 5 * `retries` * `timeout` seconds.",
        network.TIMEOUT_HINT,
    ),
    Trouble(
        "network.py",
        errors.NetworkError,
        "the connection was closed or reset mid-response",
        "The connection broke on every attempt (a proxy or load balancer cutting it).",
        network.NETWORK_HINT,
    ),
    Trouble(
        "client.py",
        errors.ApiError,
        "… … answered HTTP … with JSON nested too deeply.",
        "The answer is not the Enkryptify API's (no real answer nests thousands of levels).",
        "Check api-url points at the Enkryptify API; no real answer nests that deep.",
    ),
    Trouble(
        "client.py",
        errors.UsageError,
        "SSL_CERT_FILE or SSL_CERT_DIR names no readable PEM certificates.",
        "The variable points at a missing file or folder, or at something that is not PEM.",
        "Point SSL_CERT_FILE at a PEM bundle, or unset it to use the built-in CA list; add a CA with ca-cert.",
    ),
    Trouble(
        "resolve.py",
        errors.NotFoundError,
        "Workspace … not found, or not visible to this token.",
        "A typo in `workspace`, or the token's scope does not cover it.",
        "Workspaces this token sees: ….",
    ),
    Trouble(
        "resolve.py",
        errors.NotFoundError,
        "Project … not found in workspace …, or not visible to this token.",
        "A typo in `project` (slug or ID), or the token's scope does not cover it.",
        "Projects this token sees there: ….",
    ),
    Trouble(
        "client.py",
        errors.ApiError,
        "… … answered HTTP … with ….",
        "`api-url` reaches something that is not the Enkryptify API (a proxy or login page), or a truncated body.",
        "Check api-url points at the Enkryptify API (not a proxy or login page); retry later.",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "Unknown key(s) in config file …: ….",
        "A typo in `.enkryptify.yml`.",
        "Valid keys: ….",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "Config file … sets …, which only the workflow may set",
        "`.enkryptify.yml` sets a workflow-only option such as `api-url`, `ca-cert` or `token` (a branch could "
        "redirect the token).",
        "Remove it from the config file and set it in the workflow instead: ….",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "Config file … uses a YAML alias (*name) at line ….",
        "An anchor and alias (`&a` … `*a`, or a `<<:` merge key): refused, like files over 64 KiB or nested over "
        "16 levels.",
        "Write the value out in full: aliases are not accepted in a config file.",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "Config file not found: ….",
        "The `config` option names a file that is not there (paths are relative to the working directory).",
        "Check the config option.",
    ),
    Trouble(
        "config.py",
        errors.UsageError,
        "Invalid value… for … (…): expected ….",
        "An option, input or `ENKRYPTIFY_*` variable has the wrong type or is out of range.",
        "…: …",
        shown="the option's name and description, e.g. `retries: Attempts per request for 429, …`",
    ),
    Trouble(
        "cli.py",
        errors.UsageError,
        "Refusing to print secret values to a terminal.",
        "`enkryptify-fetch pull` run interactively without `--output`.",
        "Use --output FILE, or --output - to print them anyway.",
    ),
    Trouble(
        "cli.py",
        errors.CommandNotFoundError,
        "Cannot run …: command not found…. Nothing was fetched.",
        "`enkryptify-fetch run -- CMD`: CMD is not a path that exists, nor in PATH (checked before any request).",
        "Check the spelling, give the full path, or install it in an earlier step.",
    ),
    Trouble(
        "cli.py",
        errors.CommandNotExecutableError,
        "Cannot run …: … is not executable. Nothing was fetched.",
        "CMD exists but has no execute permission (a script checked out without `chmod +x`), or is a folder.",
        "Make it executable (chmod +x …), or run it through its interpreter",
    ),
    Trouble(
        "files.py",
        errors.ExportError,
        "Cannot write …: ….",
        "The path is a folder, its folder does not exist or is not writable, or the disk is full.",
        VARIABLE,
        shown="One for the cause: "
        + " / ".join(dict.fromkeys(re.sub(r"\{\w+\}", VARIABLE, h) for h in files.WRITE_HINTS.values())),
    ),
    Trouble(
        "oidc.py",
        errors.UsageError,
        "auth: oidc needs a GitHub ID token, but … not set.",
        "The job lacks `permissions: id-token: write`, or runs for a pull request from a fork (no ID token).",
        "Give the job `permissions: id-token: write` (at workflow or job level)",
    ),
    Trouble(
        "oidc.py",
        errors.UsageError,
        "auth: oidc needs an ID token in …, which is empty or unset.",
        "Outside GitHub the ID token must be handed over: GitLab's `id_tokens:` block is missing.",
        "GitLab: add to the job",
        shown="the `id_tokens: ENKRYPTIFY_ID_TOKEN: aud: enkryptify` block to add to the job",
    ),
    Trouble(
        "oidc.py",
        errors.UsageError,
        "auth: oidc needs the workspace option",
        "The OIDC exchange names the workspace whose credential it uses.",
        "Set workspace to the ID of the Enkryptify workspace where the credential is registered.",
    ),
    Trouble(
        "oidc.py",
        errors.AuthenticationError,
        "Enkryptify refused the OIDC ID token (POST …, HTTP …); it sent ….",
        "No OIDC credential in the workspace matches the ID token's issuer, audience and subject (401 or 403).",
        "Register an OIDC credential in Enkryptify for workspace",
        shown="register a credential with exactly the issuer, audience and subject the message lists",
    ),
    Trouble(
        "oidc.py",
        errors.ApiError,
        "… answered HTTP …: the Enkryptify API at this api-url does not offer OIDC exchange here, or does "
        "not know this workspace.",
        "The OIDC endpoint answered 404 or 405 (auth: oidc is experimental).",
        "Check that workspace is the workspace ID (not its slug) and api-url is right",
    ),
)


def literal_text(node: ast.expr, constants: dict[str, str]) -> str | None:
    """A string expression as the code writes it: f-string parts as ``…``, module constants resolved."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else VARIABLE for v in node.values
        )
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        # "Valid keys: " + ", ".join(keys) + "." reads as "Valid keys: …."
        return (literal_text(node.left, constants) or VARIABLE) + (literal_text(node.right, constants) or VARIABLE)
    if isinstance(node, ast.Call):  # computed at run time, e.g. " ".join(hints.values())
        return VARIABLE
    if isinstance(node, ast.IfExp):  # either branch may be shown: keep both
        a, b = literal_text(node.body, constants), literal_text(node.orelse, constants)
        return f"{a or VARIABLE} / {b or VARIABLE}"
    return None


@dataclass(frozen=True)
class Raised:
    """One ``ErrorClass(message, hint=...)`` call in the package."""

    module: str
    error: str
    texts: tuple[str, ...]  # every string literal inside the call's message argument (and the module)
    hint: str


def raised_errors() -> list[Raised]:
    """Every construction of an error class in the package, with its hint as the code writes it."""
    names = {cls.__name__ for cls in vars(errors).values() if isinstance(cls, type)}
    found: list[Raised] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants: dict[str, str] = {}
        for statement in tree.body:
            if isinstance(statement, ast.Assign) and isinstance(target := statement.targets[0], ast.Name):
                text = literal_text(statement.value, constants)
                if text is not None:
                    constants[target.id] = text
        strings = tuple(
            t
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant | ast.JoinedStr | ast.BinOp) and (t := literal_text(n, constants)) is not None
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names:
                hint = next((literal_text(k.value, constants) for k in node.keywords if k.arg == "hint"), None)
                found.append(Raised(path.relative_to(PACKAGE).as_posix(), node.func.id, strings, hint or ""))
    return found


def printed_hint(trouble: Trouble, raised: list[Raised]) -> str:
    """The whole hint of the ``raise`` this row documents; SystemExit when the code has no such raise."""
    candidates = [r for r in raised if r.module == trouble.module and r.error == trouble.error.__name__]
    where = f"enkryptify_action/{trouble.module}"
    if not candidates:
        raise SystemExit(f"gen_docs: troubleshooting: no {trouble.error.__name__}(...) in {where}")
    hints = [r.hint for r in candidates if trouble.hint in r.hint]
    if not hints:
        raise SystemExit(
            f"gen_docs: troubleshooting: {trouble.hint!r} is not the hint of a {trouble.error.__name__} in {where}"
        )
    if not any(_fragment_in(trouble.message, text) for text in candidates[0].texts):
        raise SystemExit(f"gen_docs: troubleshooting: message {trouble.message!r} is not written in {where}")
    return hints[0]


def _fragment_in(fragment: str, text: str) -> bool:
    """``fragment`` in ``text``, where a ``…`` in the fragment stands for any text (a variable part)."""
    pattern = ".*?".join(re.escape(part) for part in fragment.split(VARIABLE))
    return re.search(pattern, text, re.DOTALL) is not None


def troubleshooting_table() -> str:
    raised = raised_errors()
    rows: list[tuple[str, ...]] = []
    for status, hint in client.HINTS.items():
        error = client._ERRORS.get(status, errors.ApiError)  # what _status_error raises
        what = f"`… failed with HTTP {status}`" + (" (or any 5xx)" if status == 500 else "")
        rows.append((what, str(int(error.exit_code)), cell(error.__doc__ or error.title), cell(hint)))
    for t in TROUBLES:
        hint = printed_hint(t, raised)  # checks the row against the code, shown or not
        hint = t.shown or hint
        rows.append((cell(f"`{t.message}`"), str(int(t.error.exit_code)), cell(t.cause), cell(hint)))
    return table(("error (starts like)", "exit", "cause", "fix (the printed hint)"), rows)


# --- regions -----------------------------------------------------------------------------------------------


def example(path_text: str) -> str:
    path = ROOT / path_text
    language = "yaml" if path.suffix in (".yml", ".yaml") else ""
    return f"```{language}\n{path.read_text(encoding='utf-8')}```"


GENERATORS = {
    "options": options_table,
    "action-inputs": action_inputs_table,
    "action-outputs": action_outputs_table,
    "component-inputs": component_inputs_table,
    "workflow-only": workflow_only,
    "trust-model": trust_model,
    "exit-codes": exit_codes_table,
    "dangerous-names": dangerous_names,
    "selection-example": selection_example,
    "json-example": json_example,
    "troubleshooting": troubleshooting_table,
}


def render_region(name: str) -> str:
    if name.startswith("example "):
        return example(name.removeprefix("example ").strip())
    if name not in GENERATORS:
        raise SystemExit(f"gen_docs: unknown generated region {name!r}")
    return GENERATORS[name]()


def regenerate(text: str) -> str:
    """``text`` with every generated region rewritten."""
    cache: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in cache:
            cache[name] = render_region(name)
        return f"{match.group('begin')}\n{cache[name]}\n{match.group('end')}"

    return REGION.sub(replace, text)


def stale_files(paths: tuple[Path, ...] = DOCS) -> list[Path]:
    return [p for p in paths if regenerate(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    stale = stale_files()
    for path in stale:
        rel = path.relative_to(ROOT)
        if args.check:
            print(f"gen_docs: {rel} is out of date: run `make docs`", file=sys.stderr)
        else:
            path.write_text(regenerate(path.read_text(encoding="utf-8")), encoding="utf-8")
            print(f"gen_docs: wrote {rel}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
