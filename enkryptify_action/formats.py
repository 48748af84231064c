"""Plain output formats for ``pull``: dotenv, JSON and POSIX shell. Pure functions of a plan."""

from __future__ import annotations

import json
import re

from .plan import ExportPlan

_DOUBLE_QUOTE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "$": "\\$"})


# Workflow commands in text that did not come from us (actions/runner 258d6c8,
# src/Runner.Common/ActionCommand.cs): the runner reads ``::name ...::`` at the start of a left-trimmed line
# and the legacy ``##[name ...]`` *anywhere* in a line, names ignoring case, on stdout and stderr. We break
# both prefixes with a plain space (``## [``, ``: :``): no command name, letter case or position gets
# around it, it needs no state, and no comparison mode skips a space (the runner's ``IndexOf`` and
# ``StartsWith`` are culture-sensitive, and under ICU those may skip zero-width and control characters:
# a zero-width break could be read through). ``::stop-commands::<token>`` fences were not chosen: every
# such line would need one, our own annotations would have to stay outside them, and they mean nothing
# to the CLI's other readers (GitLab, a terminal).
COMMAND_BREAK = " "
_DOUBLE_COLON = re.compile(r":(?=:)")


def inert(text: str) -> str:
    """``text`` with every ``::`` and ``##[`` broken by ``COMMAND_BREAK``: it cannot form a workflow command.

    For everything we print that holds text from outside (secret names, workspace, project and
    environment names, server messages, hints quoting them), in command data as in plain lines.
    """
    if "::" in text:
        text = _DOUBLE_COLON.sub(":" + COMMAND_BREAK, text)
    return text.replace("##[", "##" + COMMAND_BREAK + "[")


def printable(text: str) -> str:
    """One log line: control characters shown as ``?`` (a name can never start a new line), then ``inert``."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return inert(text)


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
