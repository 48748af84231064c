"""Plain output formats for ``pull``: dotenv, JSON and POSIX shell. Pure functions of a plan."""

from __future__ import annotations

import json

from .plan import ExportPlan

_DOUBLE_QUOTE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "$": "\\$"})


def printable(text: str) -> str:
    """One log line with control characters shown as ``?``: a secret's name can never start a new line
    (and so never a ``::workflow-command::`` in a GitHub log)."""
    return text if text.isprintable() else "".join(ch if ch.isprintable() else "?" for ch in text)


def dotenv_value(value: str) -> str:
    """Quote a value for a .env file read by docker compose, python-dotenv or ``set -a; . file``.

    Single quotes are literal in all three, so they are used whenever the value allows it; otherwise
    double quotes with backslash escapes (``\\n``, ``\\"``, ``\\\\``, ``\\$``).
    """
    if "'" not in value and "\n" not in value and "\r" not in value:
        return f"'{value}'"
    return '"' + value.translate(_DOUBLE_QUOTE_ESCAPES) + '"'


def render_dotenv(plan: ExportPlan) -> str:
    return "".join(f"{item.name}={dotenv_value(item.value)}\n" for item in plan.items)


def render_json(plan: ExportPlan) -> str:
    return json.dumps(plan.as_dict(), ensure_ascii=False, indent=2) + "\n"


def shell_quote(value: str) -> str:
    """POSIX single-quoting: exact for every byte sequence, newlines included."""
    return "'" + value.replace("'", "'\\''") + "'"


def render_shell(plan: ExportPlan) -> str:
    """``export NAME='value'`` lines for ``eval "$(enkryptify-fetch pull --format shell)"``."""
    return "".join(f"export {item.name}={shell_quote(item.value)}\n" for item in plan.items)
