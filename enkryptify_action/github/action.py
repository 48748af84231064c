"""The GitHub Action's main and post steps.

Nothing is printed before the token's ``::add-mask::``, and nothing but masks is printed until every
exported value is registered: the runner masks a log line only with masks it already knows
(github-runner.md §2, "No retroactive masking"). Warnings raised meanwhile are held back.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import github_action_utils as gau
import httpx
from github_action_utils._serialization import escape_data

from ..config import Settings, resolve_settings
from ..errors import EXIT_INTERNAL, EXIT_OK, EnkryptifyError, ExportError
from ..files import mark_file
from ..formats import inert, printable
from ..pipeline import RunStats, fetch_plan
from ..plan import ExportPlan
from ..secret_files import decoded_texts, parse_file_specs, plan_files
from .composite import check_composite, check_composite_plan, is_composite
from .exports import Exports, build_exports, export_file_path, write_exports
from .host_paths import host_path_mapper
from .inputs import raw_token_candidates, read_inputs
from .masking import is_blank, mask_parts, plan_masks
from .summary import render_error_summary, render_summary

STATE_EXPORT_FILE = "enkryptify_export_file"
STATE_FILES = "enkryptify_files"
# The log lists this many exported names; the `names` output always holds them all.
LOG_MAX_NAMES = 200


def command_line(command: str, message: str) -> str:
    """One workflow command exactly as github-action-utils prints it (``_commands.print_command``).

    Its escaping (``escape_data``: ``%`` first, then CR and LF), so a value is one line and arrives intact.
    """
    return f"::{command} ::{escape_data(message)}"


def text_command(command: str, message: str) -> str:
    """``command_line`` for a message that shows in the log (``group``): ``inert``, so no text in it can
    form a command. Only ``add-mask`` data is written unchanged."""
    return command_line(command, inert(message))


def warning(message: str) -> None:
    """A ``::warning::`` annotation; the message is ``inert`` (it may quote names or server text)."""
    gau.warning(inert(message))


def error(message: str, *, title: str) -> None:
    """An ``::error::`` annotation; message and title are ``inert``."""
    gau.error(inert(message), title=inert(title))


def write_lines(lines: list[str]) -> None:
    """Write log lines with one write and one flush, the way github-action-utils writes one line.

    Under the runner (GITHUB_ACTIONS=true) the UTF-8 bytes go straight to ``sys.stdout.buffer`` (a
    redirected stream may default to another encoding); otherwise the text goes through ``sys.stdout``.
    """
    if not lines:
        return
    text = "\n".join(lines) + "\n"
    buffer: BinaryIO | None = getattr(sys.stdout, "buffer", None)
    if gau.is_github_action() and buffer is not None:
        data = text.encode("utf-8")  # before any write: an encoding error prints nothing
        sys.stdout.flush()
        buffer.write(data)
    else:
        sys.stdout.write(text)
    sys.stdout.flush()


class Masker:
    """Registers each string once with ``::add-mask::``: one batch of lines, one write, flushed."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def register(self, values: Iterable[str]) -> None:
        lines: list[str] = []
        for value in values:
            if not is_blank(value) and value not in self._seen:  # the runner refuses blank ones
                self._seen.add(value)
                lines.append(command_line("add-mask", value))
        write_lines(lines)


def say(text: str) -> None:
    """One plain log line (``printable``)."""
    write_lines([printable(text)])


def run_action(environ: Mapping[str, str] | None = None, *, transport: httpx.BaseTransport | None = None) -> int:
    """Fetch, mask, export; return the exit code. ``transport`` is for in-process tests only."""
    env = os.environ if environ is None else environ
    cwd = Path.cwd()
    debug = env.get("RUNNER_DEBUG") == "1"
    started = time.monotonic()
    masker = Masker()
    held_warnings: list[str] = []
    settings: Settings | None = None
    try:
        masker.register(raw_token_candidates(env))
        settings = resolve_settings(inputs=read_inputs(env), environ=env, cwd=cwd)
        check_composite(settings, env, cwd)
        plan, stats = fetch_plan_masked(settings, masker, held_warnings.append, transport, env)
        masker.register(plan_masks(plan))
        check_composite_plan(plan, settings, env)
        plan, secret_files = plan_files(
            plan,
            parse_file_specs(settings.files),
            place=lambda raw: export_file_path(raw, env, cwd, option="files"),
            exported_as=host_path_mapper(env),
        )
        masker.register(part for text in decoded_texts(secret_files) for part in mask_parts(text))
        exports = build_exports(plan, settings, env, cwd, secret_files=secret_files)
    except EnkryptifyError as exc:
        _emit_warnings(held_warnings)
        return _fail(exc, env, settings)
    except Exception as exc:  # a bug: never print its message, it could hold a value
        return _internal_error(exc)
    _emit_warnings(held_warnings)
    if debug:
        gau.debug(
            f"fetched {stats.fetched} secret(s), exporting {len(plan.items)}; {stats.attempts} request(s), "
            f"{stats.retries} retried; {time.monotonic() - started:.3f}s"
        )
    try:
        _log_plan(plan, settings)
        composite = is_composite(env)  # a composite action has no post step: its files lie under RUNNER_TEMP
        write_exports(  # dry run: names and count only
            exports,
            env,
            remember_file=_forget_file if composite else _remember_file,
            remember_secret_file=_forget_file if composite else _SecretFileRecords(),
        )
        if settings.summary:
            file_name = exports.file_path.name if exports.file_path is not None else None
            summary = render_summary(
                plan, destinations=_destinations(exports, settings), dry_run=settings.dry_run, export_file=file_name
            )
            _append_summary(env, summary)
    except EnkryptifyError as exc:
        return _fail(exc, env, settings)
    except Exception as exc:
        return _internal_error(exc)
    if debug:
        gau.debug(f"done in {time.monotonic() - started:.3f}s")
    return EXIT_OK


def fetch_plan_masked(
    settings: Settings,
    masker: Masker,
    warn: Callable[[str], None],
    transport: httpx.BaseTransport | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ExportPlan, RunStats]:
    """``pipeline.fetch_plan`` with the token, the OIDC credentials and every JWT registered before they are used."""
    return fetch_plan(
        settings,
        on_credential=lambda secret: masker.register([secret]),
        warn=warn,
        transport=transport,
        environ=environ,
    )


def _log_plan(plan: ExportPlan, settings: Settings) -> None:
    """A log group: the first ``LOG_MAX_NAMES`` exported names, every rename and skip; one write."""
    where = plan.target.where
    verb = "would export" if settings.dry_run else "exporting"
    lines = [text_command("group", f"Enkryptify: {verb} {len(plan.items)} secret(s) from {where}")]
    for item in plan.items[:LOG_MAX_NAMES]:
        lines.append(printable(item.name + (f"  (from {item.source})" if item.source != item.name else "")))
    if len(plan.items) > LOG_MAX_NAMES:
        lines.append(f"… and {len(plan.items) - LOG_MAX_NAMES} more (the `names` output lists them all)")
    lines += [printable(f"renamed {note.source} -> {note.name}: {note.reason}") for note in plan.renamed]
    lines += [printable(f"skipped {note.source}: {note.reason}") for note in plan.skipped]
    lines += [printable(f"replaced {note.source}: {note.reason}") for note in plan.replaced]
    if settings.environment_source not in ("", "option"):
        lines.append(printable(f"environment chosen because {settings.environment_source}"))
    lines.append("::endgroup::")
    write_lines(lines)


def _destinations(exports: Exports, settings: Settings) -> list[str]:
    found = []
    if exports.env_text is not None:
        found.append("environment variables")
    if settings.export_outputs:
        found.append("step outputs")
    if exports.secret_files:
        found.append(f"{len(exports.secret_files)} secret file(s)")
    return found  # the dotenv file is added by render_summary (export_file), escaped


def _remember_file(path: Path, temp: Path, fd: int) -> None:
    """Record the dotenv file for the post step before its first byte is written (post.py deletes it)."""
    _save_cleanup_state(STATE_EXPORT_FILE, _file_record(path, temp, fd), what="the export file", option="export-file")


class _SecretFileRecords:
    """Records each ``files`` file for the post step before its first byte is written (as ``_remember_file``).

    GITHUB_STATE keeps the last value saved under a name, so the whole list is saved each time.
    """

    def __init__(self) -> None:
        self.records: list[dict[str, object]] = []

    def __call__(self, path: Path, temp: Path, fd: int) -> None:
        self.records.append(_file_record(path, temp, fd))
        _save_cleanup_state(STATE_FILES, self.records, what="the secret files", option="files")


def _file_record(path: Path, temp: Path, fd: int) -> dict[str, object]:
    """What post.py needs to delete a file this action writes, and only that file.

    The temporary file is renamed into place, so one device, inode and mark (files.mark_file) identify
    both paths: a leftover temporary file (the step was killed while writing) and the final file, even
    after a later step appended to it.
    """
    info = os.fstat(fd)
    return {"path": str(path), "temp": str(temp), "dev": info.st_dev, "ino": info.st_ino, "mark": mark_file(fd)}


def _save_cleanup_state(name: str, value: object, *, what: str, option: str) -> None:
    try:
        gau.save_state(name, json.dumps(value))
    except (KeyError, OSError):
        raise ExportError(
            f"Cannot record {what} for cleanup (GITHUB_STATE is missing or not writable).",
            hint=f"Run this action as a step of a GitHub workflow, or leave {option} empty.",
        ) from None


def _forget_file(path: Path, temp: Path, fd: int) -> None:
    """The composite action: the file lies under RUNNER_TEMP (``check_composite``), which the runner cleans."""


def _emit_warnings(messages: list[str]) -> None:
    for message in messages:
        warning(message)
    messages.clear()


def _fail(exc: EnkryptifyError, env: Mapping[str, str], settings: Settings | None) -> int:
    text = exc.message + (f"\nHint: {exc.hint}" if exc.hint else "")
    error(text, title=exc.title)
    if settings is None or settings.summary:
        _append_summary(env, render_error_summary(exc), quiet=True)
    return int(exc.exit_code)


def _internal_error(exc: BaseException) -> int:
    error(f"Internal error ({type(exc).__name__}); please report it.", title="Enkryptify internal error")
    return int(EXIT_INTERNAL)


def _append_summary(env: Mapping[str, str], markdown: str, *, quiet: bool = False) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "ab") as handle:
            handle.write((markdown + "\n").encode("utf-8"))
    except OSError as exc:
        if not quiet:
            warning(f"Cannot write the step summary: {exc.strerror}.")
