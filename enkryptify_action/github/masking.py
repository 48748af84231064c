"""What to register with ``::add-mask::``: a pure function of the plan, so tests can check it exactly.

The runner masks each registered value, its trimmed lines and some encodings of it, but not fields
inside a structured value (github-runner.md §2, "Substrings are not masked"). So besides the whole
value we register each line and, for JSON, every string and number leaf: a later ``echo "$JSON"``
or a pretty-printed copy then shows no field in clear. Lines and leaves shorter than
``MIN_PART_LENGTH`` are left to the whole-value mask: masking ``{`` or ``true`` garbles every log
line (runner#326, Doppler#16).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from ..plan import ExportPlan

MIN_PART_LENGTH = 4
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_JSON_DEPTH = 64


def mask_parts(value: str) -> list[str]:
    """The strings to register for one value, whole value first; ``[]`` for a blank value.

    Blank (empty or whitespace-only) values are skipped: the runner only warns about them.
    """
    if not value.strip():
        return []
    parts = [value]
    parts.extend(_lines(value))
    for leaf in _json_leaves(value):
        parts.append(leaf)
        parts.extend(_lines(leaf))
    return _unique(part for part in parts if part == value or len(part) >= MIN_PART_LENGTH)


def plan_masks(plan: ExportPlan) -> list[str]:
    """Every string to register for a plan, in item order, without duplicates."""
    return _unique(part for item in plan.items for part in mask_parts(item.value))


def _lines(value: str) -> list[str]:
    """Trimmed non-empty lines, split on CR, LF and CRLF like the runner's masker."""
    lines = [line.strip() for line in _LINE_BREAK.split(value)]
    return [line for line in lines if line] if len(lines) > 1 else []


def _json_leaves(value: str) -> list[str]:
    """String and number leaves of a JSON object or array, numbers both as written and normalized."""
    text = value.strip()
    if not text.startswith(("{", "[")):
        return []
    try:
        # Keep numbers as written ("1.50"), the form an `echo` of the raw value would show.
        data = json.loads(text, parse_int=_Number, parse_float=_Number)
    except (ValueError, RecursionError):
        return []
    leaves: list[str] = []

    def walk(node: object, depth: int) -> None:
        if depth > _MAX_JSON_DEPTH:
            return
        if isinstance(node, dict):
            for child in node.values():
                walk(child, depth + 1)
        elif isinstance(node, list):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, _Number):
            leaves.append(str(node))
            leaves.append(node.normalized())  # the form parse-json exports
        elif isinstance(node, str):
            leaves.append(node)

    walk(data, 0)
    return leaves


class _Number(str):
    """A JSON number kept as its source text."""

    __slots__ = ()

    def normalized(self) -> str:
        number = json.loads(self)
        return json.dumps(number)


def _unique(parts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    ordered: list[str] = []
    for part in parts:
        if part not in seen:
            seen.add(part)
            ordered.append(part)
    return ordered
