"""Resolve the settings of one run from flags, GitHub inputs, environment, config file and defaults.

Precedence, highest first: CLI flags > GitHub inputs (``INPUT_*``) > ``ENKRYPTIFY_*`` environment
variables > config file (``.enkryptify.yml`` or ``config``) > defaults. An empty string counts as
"not given", so an action input left at its empty default does not hide a lower source.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import UsageError
from .options import BY_NAME, CLI, GITHUB, GITLAB, OPTIONS, Kind, Option, Value
from .redact import without_userinfo
from .secret_files import parse_file_specs
from .sources import check_exclusive, parse_sources

DEFAULT_CONFIG_FILE = ".enkryptify.yml"
CONFIG_MAX_BYTES = 64 * 1024
CONFIG_MAX_DEPTH = 16  # the deepest valid file is 2 levels (environments: and a secrets list)
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# What the SDK accepts (Enkryptify/sdk acb9e05 src/enkryptify.ts #validateTokenFormat: startsWith("ek_live_")
# or exactly two dots), except an empty rest or empty first segments, which the SDK lets through. The token
# alphabet is not documented, so only what is surely wrong is refused (TOKEN_PROBLEMS).
_JWT = re.compile(r"^[^.]+\.[^.]+\.[^.]*$")
_STATIC = re.compile(r"^ek_live_.+$")
TOKEN_PROBLEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("it starts with 'Bearer ' (give the token alone)", re.compile(r"^bearer\s", re.IGNORECASE)),
    ("it contains quotes", re.compile(r"[\"'`\u2018\u2019\u201c\u201d]")),
    ("it contains whitespace", re.compile(r"\s")),
    ("it contains control characters", re.compile(r"[\x00-\x1f\x7f-\x9f]")),
    ("it contains characters outside printable ASCII, which no HTTP header can carry", re.compile(r"[^\x21-\x7e]")),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one run needs, parsed and validated. Field names are the options' ``dest``."""

    token: str = field(repr=False)
    workspace: str
    project: str
    environment: str
    sources: str
    secrets: str
    files: str
    prefix: str
    name_case: str
    invalid_names: str
    allow_dangerous_names: bool
    parse_json: bool
    personal_values: bool
    auth: str
    oidc_audience: str
    api_url: str
    ca_cert: str = field(repr=False)
    timeout: float
    retries: int
    config: str
    export_env: bool
    export_outputs: bool
    export_file: str
    summary: bool
    dry_run: bool
    max_variables: int
    max_size: int
    environment_source: str = ""  # "option" or "branch <ref> → pattern <pattern>"


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """A parsed config file: option values plus the ordered branch → environment mapping."""

    path: Path
    values: dict[str, Any]
    environments: tuple[tuple[str, str], ...]


def parse_value(option: Option, raw: object, source: str) -> Value:
    """Parse one raw value (text from env/inputs/flags, or a YAML scalar) for ``option``."""

    def bad(expected: str) -> UsageError:
        shown = "" if option.name == "token" else f" {str(raw)[:60]!r}"
        return UsageError(
            f"Invalid value{shown} for {option.name} ({source}): expected {expected}.",
            hint=f"{option.name}: {option.description}",
        )

    if option.kind is Kind.BOOL:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad("true or false")
    if option.kind in (Kind.INT, Kind.FLOAT):
        if isinstance(raw, bool):
            raise bad("a number")
        try:
            number: int | float = int(str(raw).strip()) if option.kind is Kind.INT else float(str(raw).strip())
        except ValueError:
            raise bad("a whole number" if option.kind is Kind.INT else "a number") from None
        low, high = option.minimum, option.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            raise bad(f"a value from {low:g} to {high:g}")
        if number != number:  # NaN
            raise bad("a number")
        return number
    if not isinstance(raw, str):
        if option.kind is Kind.TEXT and isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            return "\n".join(raw)
        raise bad("text")
    if option.kind is Kind.CHOICE:
        text = raw.strip().lower()
        if text not in option.choices:
            raise bad("one of " + ", ".join(option.choices))
        return text
    return raw if option.kind is Kind.TEXT else raw.strip()


def load_config_file(path: Path) -> ConfigFile:
    """Read a config file: repository content, so untrusted input.

    Bounded before parsing (``CONFIG_MAX_BYTES``, UTF-8), parsed with a safe loader that refuses aliases
    and nesting deeper than ``CONFIG_MAX_DEPTH``; a workflow-only key or an unknown key is an error.
    Every problem is a ``UsageError`` (exit 2), never a crash.
    """
    try:
        with path.open("rb") as handle:
            raw = handle.read(CONFIG_MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"Cannot read config file {path}: {exc.strerror}.", hint="Check the config option.") from None
    if len(raw) > CONFIG_MAX_BYTES:
        raise UsageError(
            f"Config file {path} is larger than {CONFIG_MAX_BYTES // 1024} KiB.",
            hint="A config file holds a few options and a branch mapping: check the config option.",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"Config file {path} is not UTF-8 text (byte {exc.start + 1}).", hint="Save the file as UTF-8."
        ) from None
    data = _parse_yaml(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"Config file {path} must be a mapping of option names to values.")
    keys = [str(key) for key in data]
    workflow_only = [BY_NAME[k] for k in keys if k in BY_NAME and BY_NAME[k].workflow_only]
    if workflow_only:
        raise UsageError(
            f"Config file {path} sets {', '.join(o.name for o in workflow_only)}, which only the workflow may set: "
            "the config file is repository content that any branch can change.",
            hint="Remove it from the config file and set it in the workflow instead: "
            + "; ".join(f"{o.name} as {where_to_set(o)}" for o in workflow_only)
            + ".",
        )
    allowed = sorted([o.name for o in OPTIONS if not o.workflow_only] + ["environments"])
    unknown = sorted(k for k in keys if k not in allowed)
    if unknown:
        raise UsageError(
            f"Unknown key(s) in config file {path}: {', '.join(unknown)}.",
            hint="Valid keys: " + ", ".join(allowed) + ".",
        )
    mapping = data.pop("environments", None) or {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise UsageError(
            f"`environments` in {path} must map branch patterns to environment names.",
            hint="Example:\nenvironments:\n  main: production\n  release/*: staging",
        )
    return ConfigFile(path=path, values=dict(data), environments=tuple(mapping.items()))


def where_to_set(option: Option) -> str:
    """Where a workflow-only option is set instead: its input, flag and variable, on its platforms."""
    places = []
    if GITHUB in option.platforms:
        places.append(f"the action input `{option.name}`")
    if GITLAB in option.platforms:
        places.append(f"the component input `{option.name}`")
    if CLI in option.platforms:
        places.append(f"the flag --{option.name}")
    places.append(f"the variable {option.env_var}")
    return ", ".join(places[:-1]) + " or " + places[-1]


def _parse_yaml(text: str, path: Path) -> object:
    """``yaml.safe_load`` without aliases and with a depth limit; any failure of the parser is exit 2."""
    import yaml  # only runs with a config file pay for it (about 10-25 ms of start-up)

    class BoundedLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                raise UsageError(
                    f"Config file {path} uses a YAML alias (*name) at line {line}.",
                    hint="Write the value out in full: aliases are not accepted in a config file.",
                )
            self.depth += 1
            if self.depth > CONFIG_MAX_DEPTH:
                raise UsageError(
                    f"Config file {path} is nested more than {CONFIG_MAX_DEPTH} levels deep (line {line})."
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    loader: BoundedLoader | None = None
    try:
        loader = BoundedLoader(text)  # the reader checks the characters here already
        return loader.get_single_data()
    except UsageError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"Config file {path} is not valid YAML{where}.") from None
    except Exception:  # the parser's other failures on hostile input (bad dates, 5,000-digit ints, ...)
        raise UsageError(f"Config file {path} is not valid YAML: a value cannot be read.") from None
    finally:
        if loader is not None:
            loader.dispose()


def resolve_settings(
    *,
    flags: Mapping[str, object] | None = None,
    inputs: Mapping[str, str] | None = None,
    environ: Mapping[str, str],
    cwd: Path,
) -> Settings:
    """Merge every source by precedence and validate the result.

    ``flags`` are CLI values keyed by option name (``None`` = not given); ``inputs`` are GitHub
    action inputs keyed by option name (already read from ``INPUT_*``).
    """
    layers: list[tuple[str, Mapping[str, object]]] = [
        ("command-line flag", {k: v for k, v in (flags or {}).items() if v is not None}),
        ("action input", {k: v for k, v in (inputs or {}).items() if v != ""}),
        (
            "environment variable",
            {o.name: environ[o.env_var] for o in OPTIONS if environ.get(o.env_var, "") != ""},
        ),
    ]
    config_path = _pick_config_path(layers, cwd)
    config = load_config_file(config_path) if config_path else None
    if config is not None:
        layers.append((f"config file {config.path.name}", config.values))

    resolved: dict[str, Value] = {}
    origins: dict[str, str] = {}
    for option in OPTIONS:
        value: Value = option.default
        for source, layer in layers:
            if option.name in layer:
                value = parse_value(option, layer[option.name], source)
                origins[option.name] = source
                break
        resolved[option.dest] = value

    given = {name: origins[name] for name in ("project", "environment") if resolved[name]}
    check_exclusive(str(resolved["sources"]), given=given)
    parse_sources(str(resolved["sources"]))  # a bad line is a usage error before any request
    parse_file_specs(str(resolved["files"]))
    environment_source = "option" if resolved["environment"] else ""
    if resolved["sources"]:
        environment_source = "option"
    elif not resolved["environment"] and config is not None and config.environments:
        branch_variables = ("GITHUB_REF_NAME", "CI_COMMIT_REF_NAME")  # GitHub's, then GitLab's
        ref = next((environ[name] for name in branch_variables if environ.get(name)), "")
        for pattern, env_name in config.environments:
            if ref and fnmatch.fnmatchcase(ref, pattern):
                resolved["environment"] = env_name
                environment_source = f"branch {ref} matches {pattern!r} in {config.path.name}"
                break
        else:
            patterns = ", ".join(p for p, _ in config.environments)
            state = {name: repr(environ[name]) if environ.get(name) else "" for name in branch_variables}
            read = "; ".join(
                f"{name}={value}" if value else f"{name} {'empty' if name in environ else 'unset'}"
                for name, value in state.items()
            )
            raise UsageError(
                f"No environment given and branch {ref or '(unknown)'} matches none of: {patterns} "
                f"(read the branch from {read}).",
                hint="Set the environment option, or add a pattern for this branch under `environments:`.",
            )

    resolved["token"] = normalize_token(str(resolved["token"]))
    resolved["api_url"] = validate_api_url(str(resolved["api_url"]))
    return Settings(**resolved, environment_source=environment_source)  # type: ignore[arg-type]


def _pick_config_path(layers: list[tuple[str, Mapping[str, object]]], cwd: Path) -> Path | None:
    for _source, layer in layers:
        if "config" in layer:
            path = Path(str(layer["config"]).strip())
            path = path if path.is_absolute() else cwd / path
            if not path.is_file():
                raise UsageError(f"Config file not found: {path}.", hint="Check the config option.")
            return path
    default = cwd / DEFAULT_CONFIG_FILE
    return default if default.is_file() else None


def normalize_token(raw: str) -> str:
    """Trim a token and check its shape, without ever echoing it."""
    token = raw.strip()
    if not token:
        return ""
    problem = next((why for why, pattern in TOKEN_PROBLEMS if pattern.search(token)), None)
    if problem is None and not (_STATIC.match(token) or _JWT.match(token)):
        problem = "it neither starts with ek_live_ nor is a JWT"
    if problem is not None:
        raise UsageError(
            f"The Enkryptify token is malformed: expected an ek_live_... API token or a JWT; {problem}.",
            hint="Copy the whole token from Enkryptify into the ENKRYPTIFY_TOKEN secret, with no quotes or extra text.",
        )
    return token


def validate_api_url(raw: str) -> str:
    """Require https, or plain http to a loopback host only: the token never crosses a network in clear."""
    url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # a port that is not a number from 0 to 65535 raises here
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address, or port 99999
        host = ""
    if not host or parts.scheme not in ("http", "https"):
        shown = without_userinfo(url)  # never show a password written into the URL
        raise UsageError(f"Invalid api-url {shown!r}: expected https://host[:port].")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UsageError("Invalid api-url: credentials, query strings and fragments are not allowed.")
    if parts.scheme == "http" and not is_loopback(host):
        raise UsageError(
            f"Refusing plain http:// to {host}: the token would cross the network unencrypted.",
            hint="Use https://, or http:// only to localhost/127.0.0.1/[::1] for local testing.",
        )
    return url


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["BY_NAME", "ConfigFile", "Settings", "load_config_file", "parse_value", "resolve_settings"]
