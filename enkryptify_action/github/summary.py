"""The step summary (GITHUB_STEP_SUMMARY): names, sources and notes as Markdown — never values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ..errors import EnkryptifyError
from ..plan import ExportPlan, Note

# Each list (names, renamed, skipped) shows at most this many rows, and all rows together at most
# SUMMARY_MAX_CHARS characters (≤ 4 UTF-8 bytes each): GitHub accepts up to 1 MiB per step summary.
SUMMARY_MAX_ROWS = 1000
SUMMARY_MAX_CHARS = 200_000
# Prose (our sentences, which may quote names or a server's message): HTML's three as entities, `@` as a
# code span (nothing else stops cmark-gfm's e-mail autolink), and a backslash before every other ASCII
# punctuation character (CommonMark allows it for all of them) except the eight below, which start no
# Markdown; an escaped `/` breaks every `scheme://` autolink and `www\.` the `www.` one.
_PROSE_PLAIN = ".,:;'\"?%"
_PROSE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}
    | {ch: "\\" + ch for ch in map(chr, range(0x21, 0x7F)) if not ch.isalnum() and ch not in "&<>@" + _PROSE_PLAIN}
)


# Each line break str.splitlines() knows becomes a space (CRLF one space); NUL becomes U+FFFD, as cmark does.
_ONE_LINE = str.maketrans(dict.fromkeys("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029", " ") | {"\0": "\ufffd"})


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").translate(_ONE_LINE)


def md(text: str) -> str:
    """Prose safe anywhere in the summary (a table cell too): one line, rendered as exactly this text."""
    escaped = _one_line(text).translate(_PROSE).replace("www.", "www\\.")
    return re.sub("@+", lambda run: f"`{run.group()}`", escaped)  # one span per run: `@``@` would be one span


def code(text: str, *, in_table: bool = False) -> str:
    """``text`` as a Markdown code span: shown literally, whatever it holds (backticks, HTML, links).

    In a GFM table cell a ``|`` ends the cell even inside a code span (and ``\\|`` there is fragile after
    a backslash), so each ``|`` is written between code spans as an escaped ``\\|``.
    """
    text = _one_line(text)
    if not text:
        return "(empty)"
    if in_table:
        return "\\|".join(_span(part) for part in text.split("|"))
    return _span(text)


def _span(text: str) -> str:
    """One code span; "" for no text. The fence is one backtick longer than the longest run inside, and a
    space pads text that starts or ends with a backtick or a space (CommonMark strips one from each side)."""
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.strip(" ") and (text[0] in "` " or text[-1] in "` ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


class _Budget:
    """Characters left for summary rows."""

    def __init__(self, chars: int) -> None:
        self.chars = chars

    def take(self, rows: Iterable[str]) -> list[str]:
        """Rows while the row and character limits allow (rows are rendered lazily, so the rest cost nothing)."""
        taken: list[str] = []
        for row in rows:
            if len(taken) >= SUMMARY_MAX_ROWS or len(row) + 1 > self.chars:
                break
            self.chars -= len(row) + 1
            taken.append(row)
        return taken


def render_summary(plan: ExportPlan, *, destinations: list[str], dry_run: bool, export_file: str | None = None) -> str:
    """A heading line, a table of exported names, then renamed/skipped notes; long lists are cut short.

    ``destinations`` are our own words; ``export_file`` (the dotenv file's name) and every name from the
    API are shown as code spans, so none of them can render a link, HTML or a comment that hides the rest.
    """
    target = plan.target
    where = f"{code(target.workspace)} / {code(target.project)} / {code(target.environment)}"
    project, environment = code(target.project, in_table=True), code(target.environment, in_table=True)
    count = len(plan.items)
    budget = _Budget(SUMMARY_MAX_CHARS)
    if dry_run:
        lines = [f"### Enkryptify: dry run, {count} secret(s) from {where} would be exported", ""]
    else:
        places = [*destinations, *([f"dotenv file {code(export_file)}"] if export_file is not None else [])]
        to = ", ".join(places) or "nowhere (every export is turned off)"
        lines = [f"### Enkryptify: {count} secret(s) from {where}", "", f"Exported to: {to}.", ""]
    if plan.items:
        lines += ["| Name | Secret | Project | Environment |", "| --- | --- | --- | --- |"]
        rows = budget.take(
            f"| {code(item.name, in_table=True)} | {code(item.source, in_table=True)} | {project} | {environment} |"
            for item in plan.items
        )
        lines += rows
        lines.append("")
        if len(rows) < count:
            lines += [f"… {count - len(rows)} more names, see the `names` output.", ""]
    sections: tuple[tuple[str, tuple[Note, ...], Callable[[Note], str]], ...] = (
        ("Renamed", plan.renamed, lambda n: f"- {code(n.source)} → {code(n.name or '')} ({md(n.reason)})"),
        ("Skipped", plan.skipped, lambda n: f"- {code(n.source)}: {md(n.reason)}"),
    )
    for title, notes, render in sections:
        if notes:
            shown = budget.take(render(n) for n in notes)  # lazily: the rows past the limits are never built
            lines += [f"**{title}:**", *shown]
            if len(shown) < len(notes):
                lines.append(f"- … {len(notes) - len(shown)} more, listed in the step's log.")
            lines.append("")
    return "\n".join(lines)


def render_error_summary(exc: EnkryptifyError) -> str:
    """The failure, with its hint; error messages never hold values (errors.py)."""
    lines = [f"### Enkryptify: {md(exc.title)}", "", md(exc.message), ""]
    if exc.hint:
        lines += [f"**Hint:** {md(exc.hint)}", ""]
    lines += ["Nothing was exported.", ""]
    return "\n".join(lines)
