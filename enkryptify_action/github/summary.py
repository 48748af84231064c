"""The step summary (GITHUB_STEP_SUMMARY): names, sources and notes as Markdown — never values."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..errors import EnkryptifyError
from ..plan import ExportPlan, Note

# Each list (names, renamed, skipped) shows at most this many rows, and all rows together at most
# SUMMARY_MAX_CHARS characters (≤ 4 UTF-8 bytes each): GitHub accepts up to 1 MiB per step summary.
SUMMARY_MAX_ROWS = 1000
SUMMARY_MAX_CHARS = 200_000
_MARKDOWN_SPECIAL = "\\`*_{}[]<>|~#"
# html.escape(quote=False) (&, <, >), then a backslash before each other Markdown special character.
_MD_TABLE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {ch: "\\" + ch for ch in _MARKDOWN_SPECIAL if ch not in "<>"}
)


def md(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, HTML- and Markdown-escaped."""
    return " ".join(text.splitlines()).translate(_MD_TABLE)


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


def render_summary(plan: ExportPlan, *, destinations: list[str], dry_run: bool) -> str:
    """A heading line, a table of exported names, then renamed/skipped notes; long lists are cut short."""
    target = plan.target
    project, environment = md(target.project), md(target.environment)
    where = f"{md(target.workspace)} / {project} / {environment}"
    count = len(plan.items)
    budget = _Budget(SUMMARY_MAX_CHARS)
    if dry_run:
        lines = [f"### Enkryptify: dry run, {count} secret(s) from {where} would be exported", ""]
    else:
        to = ", ".join(destinations) or "nowhere (every export is turned off)"
        lines = [f"### Enkryptify: {count} secret(s) from {where}", "", f"Exported to: {to}.", ""]
    if plan.items:
        lines += ["| Name | Secret | Project | Environment |", "| --- | --- | --- | --- |"]
        rows = budget.take(
            f"| {md(item.name)} | {md(item.source)} | {project} | {environment} |" for item in plan.items
        )
        lines += rows
        lines.append("")
        if len(rows) < count:
            lines += [f"… {count - len(rows)} more names, see the `names` output.", ""]
    sections: tuple[tuple[str, tuple[Note, ...], Callable[[Note], str]], ...] = (
        ("Renamed", plan.renamed, lambda n: f"- {md(n.source)} → {md(n.name or '')} ({md(n.reason)})"),
        ("Skipped", plan.skipped, lambda n: f"- {md(n.source)}: {md(n.reason)}"),
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
