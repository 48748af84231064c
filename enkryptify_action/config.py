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
from .options import BY_NAME, OPTIONS, Kind, Option, Value

DEFAULT_CONFIG_FILE = ".enkryptify.yml"
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_STATIC = re.compile(r"^ek_live_[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything one run needs, parsed and validated. Field names are the options' ``dest``."""

    token: str = field(repr=False)
    workspace: str
    project: str
    environment: str
    secrets: str
    prefix: str
    name_case: str
    invalid_names: str
    allow_dangerous_names: bool
    parse_json: bool
    personal_values: bool
    auth: str
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
    """Read a config file with ``yaml.safe_load``; unknown keys are an error listing the valid ones."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read config file {path}: {exc.strerror}.", hint="Check the config option.") from None
    import yaml  # only runs with a config file pay for it (about 10-25 ms of start-up)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"Config file {path} is not valid YAML{where}.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"Config file {path} must be a mapping of option names to values.")
    allowed = sorted([o.name for o in OPTIONS if o.in_config_file] + ["environments"])
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise UsageError(
            f"Unknown key(s) in config file {path}: {', '.join(unknown)}.",
            hint="Valid keys: " + ", ".join(allowed) + ". The token never goes in a config file.",
        )
    mapping = data.pop("environments", None) or {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise UsageError(
            f"`environments` in {path} must map branch patterns to environment names.",
            hint="Example:\nenvironments:\n  main: production\n  release/*: staging",
        )
    return ConfigFile(path=path, values=dict(data), environments=tuple(mapping.items()))


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
    for option in OPTIONS:
        value: Value = option.default
        for source, layer in layers:
            if option.name in layer:
                value = parse_value(option, layer[option.name], source)
                break
        resolved[option.dest] = value

    environment_source = "option" if resolved["environment"] else ""
    if not resolved["environment"] and config is not None and config.environments:
        ref = environ.get("GITHUB_REF_NAME") or environ.get("CI_COMMIT_REF_NAME") or ""
        for pattern, env_name in config.environments:
            if ref and fnmatch.fnmatchcase(ref, pattern):
                resolved["environment"] = env_name
                environment_source = f"branch {ref} matches {pattern!r} in {config.path.name}"
                break
        else:
            patterns = ", ".join(p for p, _ in config.environments)
            raise UsageError(
                f"No environment given and branch {ref or '(unknown)'} matches none of: {patterns}.",
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
    if not (_STATIC.match(token) or _JWT.match(token)):
        raise UsageError(
            "The Enkryptify token is malformed: expected an ek_live_... API token or a JWT.",
            hint="Copy the whole token from Enkryptify into the ENKRYPTIFY_TOKEN secret, with no quotes or extra text.",
        )
    return token


def validate_api_url(raw: str) -> str:
    """Require https, or plain http to a loopback host only: the token never crosses a network in clear."""
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"Invalid api-url {url!r}: expected https://host[:port].")
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
