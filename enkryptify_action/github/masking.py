"""What to register with ``::add-mask::``: a pure function of the plan, so tests can check it exactly.

What the runner does with one ``::add-mask::VALUE`` (actions/runner 258d6c8,
src/Runner.Worker/ActionCommandManager.cs AddMaskCommandExtension): a value that is empty or only
.NET whitespace is refused with a warning; otherwise it registers the whole value *and every line of it*
(split on CR and LF, each trimmed, empty ones dropped, no minimum length), each also in the encodings
of HostContext.cs (base64, JSON, URI, XML, ...). So the lines of a value are masked whatever we do: a
pretty-printed JSON value makes the runner mask its ``{`` and ``}`` lines everywhere in the job, and
nothing we leave out can prevent that.

What the runner does *not* find by itself is a field inside a structured value: an ``echo`` of one
JSON field, or a ``jq -r .password``, shows it in clear. So besides the whole value we register every
string and number leaf of a JSON value (numbers as written and as ``parse-json`` prints them), and the
text of a value that is a JSON string literal; the runner then splits each leaf into lines itself.
Leaves shorter than ``MIN_PART_LENGTH`` (``true``, ``1``) are not registered: masking them would garble
every log line of the job (runner#326, Doppler#16), and a field that short is not a secret on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..plan import ExportPlan

MIN_PART_LENGTH = 4
_MAX_JSON_DEPTH = 64
# .NET Char.IsWhiteSpace, which string.IsNullOrWhiteSpace and string.Trim use. Python's str.isspace()
# and str.strip() also count U+001C..U+001F: a value made of those is not blank to the runner.
NET_WHITESPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_NET_WHITESPACE_TEXT = "".join(sorted(NET_WHITESPACE))


def is_blank(value: str) -> bool:
    """``string.IsNullOrWhiteSpace``: the runner refuses to mask such a value (and there is nothing to hide)."""
    return all(ch in NET_WHITESPACE for ch in value)


def net_trim(text: str) -> str:
    """``string.Trim()``: .NET whitespace removed from both ends."""
    return text.strip(_NET_WHITESPACE_TEXT)


def mask_parts(value: str) -> list[str]:
    """The strings to register for one value, whole value first; ``[]`` for a blank value (``is_blank``)."""
    if is_blank(value):
        return []
    parts = [value]
    parts.extend(leaf for leaf in _json_leaves(value) if len(net_trim(leaf)) >= MIN_PART_LENGTH)
    return _unique(parts)


def plan_masks(plan: ExportPlan) -> list[str]:
    """Every string to register for a plan, in item order, without duplicates."""
    return _unique(part for item in plan.items for part in mask_parts(item.value))


def _json_leaves(value: str) -> list[str]:
    """String and number leaves of a JSON object or array, numbers both as written and normalized; the
    string of a value that is one JSON string (``"0000"``: ``jq -r .`` prints ``0000``)."""
    text = net_trim(value)
    if not text.startswith(("{", "[", '"')):
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
