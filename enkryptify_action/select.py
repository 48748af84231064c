"""Selection and naming: turn fetched secrets into a validated ``ExportPlan``.

Rules, in order: pick secrets by the ``secrets`` spec, flatten JSON objects (``parse-json``), add the
prefix, apply the name case, fix or refuse invalid names, refuse dangerous names (``dangerous.RULE``: a name a
later program reads to decide what code to load, whom to trust or where to fetch from), refuse clashes.
Every problem is collected and reported at once; nothing is exported unless all is well.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass

from .dangerous import family_of, is_dangerous
from .errors import NotFoundError, UsageError, ValidationError
from .plan import ExportItem, ExportPlan, Note, Secret, Target

VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # \Z, not $: "$" also matches before a final "\n"
_SPEC_NAME = re.compile(r"^[^\s=!#]+$")
_SPEC_SEPARATORS = re.compile(r"[\s,]+")
_SPEC_JOIN = re.compile(r"(\s*=\s*|(?:^|(?<=[\s,]))!\s+)")  # "A = B" -> "A=B", "! B" -> "!B"

HINT_DANGEROUS = (
    "Rename it with ALIAS=NAME in the secrets option or set a prefix (the new name must not end like *PATH, "
    "*_PROXY or *_HOME either), or exclude it with !NAME; set allow-dangerous-names: true in the workflow "
    "(never the config file) only if you really mean to override it."
)
HINT_CLASH = "Give one of them another name with ALIAS=NAME in the secrets option, or exclude one with !NAME."
HINT_INVALID = "Rename with ALIAS=NAME, or set invalid-names: sanitize (the default) or skip."
HINT_UNUSABLE = "Fix the value in Enkryptify, or exclude the secret with !NAME."


@dataclass(frozen=True, slots=True)
class Rule:
    """One line of the ``secrets`` option."""

    kind: str  # "name", "glob", "exclude" or "rename"
    pattern: str
    alias: str = ""


def spec_entries(text: str) -> list[tuple[int, str]]:
    """The entries of the ``secrets`` option with their line numbers.

    Newlines, commas and whitespace all separate entries (``A,B``, ``A B`` and one per line are the
    same): an entry never holds them (Enkryptify names are letters, digits, ``_`` and ``-``). ``#``
    at the start of a line or after whitespace starts a comment; ``ALIAS = NAME`` and ``! GLOB`` keep
    their parts together.
    """
    entries: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].split("\t#", 1)[0] if not raw.lstrip().startswith("#") else ""
        line = _SPEC_JOIN.sub(lambda m: m.group(1).strip(), line)
        entries.extend((number, entry) for entry in _SPEC_SEPARATORS.split(line) if entry)
    return entries


def parse_spec(text: str) -> list[Rule]:
    """Parse the ``secrets`` option: NAME, GLOB*, !GLOB, ALIAS=NAME; ``#`` comments; blank lines."""
    rules: list[Rule] = []
    problems: list[str] = []
    for number, line in spec_entries(text):
        if line.startswith("!"):
            pattern = line[1:].strip()
            rules.append(Rule("exclude", pattern))
            ok = bool(pattern) and _SPEC_NAME.match(pattern) is not None
        elif "=" in line:
            alias, _, source = (part.strip() for part in line.partition("="))
            rules.append(Rule("rename", source, alias))
            ok = bool(alias and source) and all(_SPEC_NAME.match(x) for x in (alias, source))
            ok = ok and not any(ch in source for ch in "*?[")
        else:
            kind = "glob" if any(ch in line for ch in "*?[") else "name"
            rules.append(Rule(kind, line))
            ok = _SPEC_NAME.match(line) is not None
        if not ok:
            problems.append(f"line {number}: {line[:80]!r}")
    if problems:
        raise UsageError(
            "Cannot parse the secrets option: " + "; ".join(problems) + ".",
            hint="Entries (one per line, or separated by commas or spaces): NAME, GLOB* (may match nothing), "
            "!GLOB (exclude), ALIAS=NAME (rename).",
        )
    return rules


def select(secrets: list[Secret], rules: list[Rule]) -> list[tuple[Secret, str]]:
    """Pick secrets by the rules; return (secret, base name) pairs in the API's order."""
    by_name: dict[str, Secret] = {}
    for secret in secrets:
        by_name.setdefault(secret.name, secret)
    missing = [r.pattern for r in rules if r.kind in ("name", "rename") and r.pattern not in by_name]
    if missing:
        available = ", ".join(sorted(by_name)[:50]) or "(none)"
        raise NotFoundError(
            "Secret(s) not found in this environment: " + ", ".join(missing) + ".",
            hint=f"Names are case-sensitive. Available: {available}.",
        )
    includes = [r for r in rules if r.kind in ("name", "glob")]
    renames = [r for r in rules if r.kind == "rename"]
    excludes = [r.pattern for r in rules if r.kind == "exclude"]
    explicit = {r.pattern for r in rules if r.kind == "name"}
    chosen: list[tuple[Secret, str]] = []
    for secret in by_name.values():
        if not includes and not renames:
            wanted = True
        else:
            wanted = any(_matches(secret.name, r) for r in includes)
        if wanted and secret.name not in explicit and any(fnmatch.fnmatchcase(secret.name, x) for x in excludes):
            wanted = False
        if wanted:
            chosen.append((secret, secret.name))
        chosen.extend((secret, r.alias) for r in renames if r.pattern == secret.name)
    return chosen


def _matches(name: str, rule: Rule) -> bool:
    return name == rule.pattern if rule.kind == "name" else fnmatch.fnmatchcase(name, rule.pattern)


def flatten_json(base: str, value: str) -> list[tuple[str, str, str]]:
    """``parse-json``: a JSON-object value also yields ``BASE_KEY`` (nested keys joined with ``_``).

    Returns (name, dotted key path, value) triples. A value nested too deeply to parse or walk (about
    1,000 levels) is not flattened, like any other value that is not a JSON object.
    """
    try:
        data = json.loads(value)
    except (ValueError, RecursionError):
        return []
    if not isinstance(data, dict):
        return []
    triples: list[tuple[str, str, str]] = []

    def walk(name: str, path: str, node: object) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(f"{name}_{key}", f"{path}.{key}", child)
        elif isinstance(node, str):
            triples.append((name, path, node))
        elif node is None:
            triples.append((name, path, ""))
        else:
            triples.append((name, path, json.dumps(node, separators=(",", ":"), ensure_ascii=False)))

    try:
        walk(base, "", data)
    except RecursionError:
        return []
    return triples


def unusable_text(name: str, value: str) -> str | None:
    """Why no sink can carry this secret exactly, or None. Never shows the value.

    A NUL cannot be part of any environment variable (GITHUB_ENV, ``run``, shell, dotenv), and an unpaired
    surrogate (JSON ``"\\ud800"``) cannot be written as UTF-8: refusing here gives exit 6 with the name,
    where writing would fail midway with an internal error.
    """
    if not is_encodable(name):
        return "the secret name is not valid Unicode text (unpaired surrogate)"
    if "\0" in value:
        return "the value contains a NUL character, which no environment variable can hold"
    if not is_encodable(value):
        return "the value is not valid Unicode text (unpaired surrogate)"
    return None


def is_encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode that UTF-8 can carry (no unpaired surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def sanitize(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return "_" + clean if clean[:1].isdigit() or not clean else clean


def build_plan(
    secrets: list[Secret],
    target: Target,
    *,
    spec: str = "",
    prefix: str = "",
    name_case: str = "preserve",
    invalid_names: str = "sanitize",
    allow_dangerous_names: bool = False,
    parse_json: bool = False,
) -> ExportPlan:
    """Select, flatten, rename and validate; raise with every problem listed, or return the plan."""
    chosen = select(secrets, parse_spec(spec))
    candidates: list[tuple[str, str, str, bool]] = []  # (source, base name, value, from parse-json)
    for secret, base in chosen:
        candidates.append((secret.name, base, secret.value, False))
        if parse_json:
            for flat_name, path, flat_value in flatten_json(base, secret.value):
                candidates.append((secret.name + path, flat_name, flat_value, True))

    items: list[ExportItem] = []
    renamed: list[Note] = []
    skipped: list[Note] = []
    errors: list[str] = []
    hints: dict[str, str] = {}  # one hint per kind of problem, in the order first met
    owners: dict[str, str] = {}
    for source, base, value, flattened in candidates:
        problem = unusable_text(source, value)
        if problem is not None:
            errors.append(f"{source!a}: {problem}")
            hints.setdefault("text", HINT_UNUSABLE)
            continue
        name = prefix + base
        name = name.upper() if name_case == "upper" else name.lower() if name_case == "lower" else name
        if not VALID_NAME.match(name):
            if invalid_names == "skip":
                skipped.append(Note(source, None, f"{name!r} is not a valid variable name"))
                continue
            if invalid_names == "error":
                errors.append(f"{source}: {name!r} is not a valid variable name (invalid-names: error)")
                hints.setdefault("invalid", HINT_INVALID)
                continue
            fixed = sanitize(name)
            renamed.append(Note(source, fixed, f"sanitized from {name!r}"))
            name = fixed
        elif name != source and not flattened:  # a flattened field is named by rule, not renamed
            renamed.append(Note(source, name, "renamed"))
        if not allow_dangerous_names and is_dangerous(name):
            family = family_of(name)
            errors.append(f"{source}: exporting {name} could hijack later steps ({family}; allow-dangerous-names)")
            hints.setdefault("dangerous", HINT_DANGEROUS)
            continue
        if name in owners:
            errors.append(f"{owners[name]} and {source} both export {name}")
            hints.setdefault("clash", HINT_CLASH)
            continue
        owners[name] = source
        items.append(ExportItem(name=name, value=value, source=source))

    if errors:
        raise ValidationError(
            f"{len(errors)} secret(s) cannot be exported: " + "; ".join(errors) + ".",
            hint=" ".join(hints.values()),
        )
    return ExportPlan(target=target, items=tuple(items), renamed=tuple(renamed), skipped=tuple(skipped))
