"""The step summary (GITHUB_STEP_SUMMARY): names, sources and notes as Markdown — never values."""

from __future__ import annotations

import html

from ..errors import EnkryptifyError
from ..plan import ExportPlan

_MARKDOWN_SPECIAL = "\\`*_{}[]<>|~#"


def md(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, HTML- and Markdown-escaped."""
    flat = " ".join(text.splitlines())
    escaped = html.escape(flat, quote=False)
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in escaped)


def render_summary(plan: ExportPlan, *, destinations: list[str], dry_run: bool) -> str:
    """A heading line, a table of exported names, then renamed/skipped notes."""
    target = plan.target
    where = f"{md(target.workspace)} / {md(target.project)} / {md(target.environment)}"
    count = len(plan.items)
    if dry_run:
        lines = [f"### Enkryptify: dry run, {count} secret(s) from {where} would be exported", ""]
    else:
        to = ", ".join(destinations) or "nowhere (every export is turned off)"
        lines = [f"### Enkryptify: {count} secret(s) from {where}", "", f"Exported to: {to}.", ""]
    if plan.items:
        lines += ["| Name | Secret | Project | Environment |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {md(item.name)} | {md(item.source)} | {md(target.project)} | {md(target.environment)} |"
            for item in plan.items
        ]
        lines.append("")
    if plan.renamed:
        lines.append("**Renamed:**")
        lines += [f"- {md(note.source)} → {md(note.name or '')} ({md(note.reason)})" for note in plan.renamed]
        lines.append("")
    if plan.skipped:
        lines.append("**Skipped:**")
        lines += [f"- {md(note.source)}: {md(note.reason)}" for note in plan.skipped]
        lines.append("")
    return "\n".join(lines)


def render_error_summary(exc: EnkryptifyError) -> str:
    """The failure, with its hint; error messages never hold values (errors.py)."""
    lines = [f"### Enkryptify: {md(exc.title)}", "", md(exc.message), ""]
    if exc.hint:
        lines += [f"**Hint:** {md(exc.hint)}", ""]
    lines += ["Nothing was exported.", ""]
    return "\n".join(lines)
