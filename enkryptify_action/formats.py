"""Plain output formats for ``pull``: dotenv, JSON and POSIX shell. Pure functions of a plan."""

from __future__ import annotations

import json
import re

from .errors import ValidationError
from .plan import ExportPlan

HINT_DOTENV = (
    "Use --format shell (read it with eval, or `set -a; . file`), which carries every value exactly; or exclude "
    "the secret with !NAME. On GitHub, export-file cannot carry it: use export-env or export-outputs."
)


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


def dotenv_problem(value: str) -> str | None:
    """Why no dotenv quoting reads ``value`` back exactly in every reader the file is for, or None.

    The readers and what limits them:

    - ``set -a; . file`` in POSIX sh (dash) and bash: single quotes are literal; double quotes expand ``$``,
      backticks and ``\\`` before ``$ ` " \\`` and a newline.
    - python-dotenv 1.2 (``dotenv_values``, tried here): interpolates ``${VAR}`` even inside single quotes,
      decodes ``\\\\`` and ``\\'`` there, reads a carriage return as a newline, and takes an escaped final
      backslash before the closing double quote for an escaped quote.
    - docker compose (compose-spec/compose-go e70e961, dotenv/parser.go, read, not run): single quotes are
      literal except that a backslash escapes the closing quote; double quotes decode ``\\\\`` and ``\\"``
      and interpolate ``$``.

    tests/hardening/test_review_round2.py checks the result against real sh, bash and python-dotenv.
    """
    if "\r" in value:
        return "it contains a carriage return, which python-dotenv reads as a newline"
    if _single_quotable(value) or _double_quotable(value):
        return None
    return (
        "no dotenv quoting reads it back the same in sh, bash, docker compose and python-dotenv "
        "(it has a ', a \\ or ${ together with $, a backtick or a final \\)"
    )


def _single_quotable(value: str) -> bool:
    return "'" not in value and "\\" not in value and "${" not in value


def _double_quotable(value: str) -> bool:
    # python-dotenv's double-quote pattern reads the escaped final backslash (\\") as an escaped quote
    return "$" not in value and "`" not in value and not value.endswith("\\")


def dotenv_value(value: str) -> str:
    """Quote a value for a .env file read by sh, bash, docker compose and python-dotenv alike.

    Single quotes when the value allows (literal in all four); otherwise double quotes with only ``\\`` and
    ``\"`` escaped, for a value without ``$``, a backtick or a final backslash. Newlines are written as they
    are (all four read a quoted newline). A value ``dotenv_problem`` refuses raises ``ValueError``;
    ``render_dotenv`` checks every value first.
    """
    problem = dotenv_problem(value)
    if problem is not None:
        raise ValueError(problem)
    if _single_quotable(value):
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dotenv(plan: ExportPlan) -> str:
    """The plan as a dotenv file; every value no reader would read back exactly is refused first (exit 6)."""
    refused = [(item.name, problem) for item in plan.items if (problem := dotenv_problem(item.value)) is not None]
    if refused:
        raise ValidationError(
            f"{len(refused)} secret(s) cannot be written as dotenv exactly: "
            + "; ".join(f"{name}: {problem}" for name, problem in refused)
            + ".",
            hint=HINT_DOTENV,
        )
    return "".join(f"{item.name}={dotenv_value(item.value)}\n" for item in plan.items)


def render_json(plan: ExportPlan) -> str:
    return json.dumps(plan.as_dict(), ensure_ascii=False, indent=2) + "\n"


def shell_quote(value: str) -> str:
    """POSIX single-quoting: exact for every byte sequence, newlines included."""
    return "'" + value.replace("'", "'\\''") + "'"


def render_shell(plan: ExportPlan) -> str:
    """``export NAME='value'`` lines for ``eval "$(enkryptify-fetch pull --format shell)"``."""
    return "".join(f"export {item.name}={shell_quote(item.value)}\n" for item in plan.items)
