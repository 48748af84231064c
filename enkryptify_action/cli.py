"""The ``enkryptify-fetch`` command line: ``pull``, ``run`` and ``check``.

With no arguments inside GitHub Actions (``GITHUB_ACTIONS=true``) it runs as the GitHub Action.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Settings, resolve_settings
from .errors import EXIT_CODES, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, EnkryptifyError, ExitCode, UsageError
from .files import write_private_file
from .formats import printable
from .options import CLI, Kind, for_platform
from .plan import ExportPlan

if TYPE_CHECKING:  # argparse is imported where a parser is built: the GitHub Action mode never needs it
    import argparse

PROG = "enkryptify-fetch"
FORMATS = ("dotenv", "json", "shell", "gitlab")


def _add_options(parser: argparse.ArgumentParser, *, dry_run: bool) -> None:
    import argparse

    group = parser.add_argument_group("options (each also readable from ENKRYPTIFY_<NAME>)")
    for option in for_platform(CLI):
        if option.name == "dry-run" and not dry_run:
            continue
        flags = [f"--{option.name}"] + (["--env"] if option.name == "environment" else [])
        help_text = f"{option.description} [env {option.env_var}]"
        if option.default_text():
            help_text += f" (default: {option.default_text()})"
        if option.kind is Kind.BOOL:
            group.add_argument(*flags, dest=option.dest, action=argparse.BooleanOptionalAction, help=help_text)
        elif option.kind is Kind.TEXT:
            group.add_argument(*flags, dest=option.dest, action="append", metavar="ENTRY", help=help_text)
        elif option.kind is Kind.CHOICE:
            group.add_argument(*flags, dest=option.dest, choices=option.choices, help=help_text)
        else:
            group.add_argument(*flags, dest=option.dest, metavar=option.kind.value.upper(), help=help_text)


def build_parser() -> argparse.ArgumentParser:
    import argparse

    exit_codes = "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Fetch secrets from Enkryptify for CI: print or write them, or run a command with them.",
        epilog=f"exit codes:\n{exit_codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    pull = commands.add_parser("pull", help="write the secrets as dotenv, JSON, shell or GitLab dotenv")
    _add_options(pull, dry_run=True)
    pull.add_argument("--format", choices=FORMATS, default="dotenv", help="output format (default: dotenv)")
    pull.add_argument(
        "--output",
        "-o",
        metavar="FILE",
        help="file to write (created 0600); '-' prints to stdout. Default: stdout unless it is a terminal.",
    )
    pull.set_defaults(handler=_cmd_pull)

    run = commands.add_parser("run", help="run a command with the secrets in its environment only")
    _add_options(run, dry_run=False)
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    run.set_defaults(handler=_cmd_run)

    check = commands.add_parser("check", help="fetch and validate; print the names that would be exported")
    _add_options(check, dry_run=False)
    check.set_defaults(handler=_cmd_check)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    if getattr(args, "token", None):
        warn("--token puts the token in the process list; prefer the ENKRYPTIFY_TOKEN environment variable")
    flags: dict[str, object] = {}
    for option in for_platform(CLI):
        value = getattr(args, option.dest, None)
        if isinstance(value, list):
            value = "\n".join(value)
        flags[option.name] = value
    return resolve_settings(flags=flags, environ=os.environ, cwd=Path.cwd())


def _fetch(settings: Settings) -> ExportPlan:
    from .pipeline import fetch_plan

    started = time.monotonic()
    plan, stats = fetch_plan(settings, on_credential=lambda _secret: None, warn=warn)
    debug(
        f"fetched {stats.fetched} secret(s), exporting {len(plan.items)}; "
        f"{stats.attempts} request(s), {stats.retries} retried; {time.monotonic() - started:.3f}s"
    )
    return plan


def render(plan: ExportPlan, fmt: str, *, settings: Settings, output: str | None = None) -> str:
    from . import formats

    if fmt == "gitlab":
        from .sinks.gitlab import DEFAULT_REPORT_NAME, render_gitlab_dotenv

        report_path = output if output not in (None, "-") else DEFAULT_REPORT_NAME
        return render_gitlab_dotenv(
            plan, max_variables=settings.max_variables, max_size=settings.max_size, report_path=str(report_path)
        )
    if fmt == "json":
        return formats.render_json(plan)
    if fmt == "shell":
        return formats.render_shell(plan)
    return formats.render_dotenv(plan)


def _cmd_pull(args: argparse.Namespace) -> ExitCode:
    settings = settings_from_args(args)
    if args.output is None and sys.stdout.isatty() and not settings.dry_run:
        raise UsageError(
            "Refusing to print secret values to a terminal.",
            hint="Use --output FILE, or --output - to print them anyway.",
        )
    plan = _fetch(settings)
    text = render(plan, args.format, settings=settings, output=args.output)  # validates before writing
    if settings.dry_run:
        return _print_names(plan)
    to_stdout = args.output in (None, "-")
    if to_stdout:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_private_file(Path(args.output), text)
    where = "stdout" if to_stdout else args.output
    info(f"wrote {len(plan.items)} secret(s) from {_where(plan)} to {where} ({args.format})")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> ExitCode:
    return _print_names(_fetch(settings_from_args(args)))


def _cmd_run(args: argparse.Namespace) -> ExitCode:
    command = list(args.argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise UsageError("run needs a command.", hint=f"Example: {PROG} run --environment production -- ./deploy.sh")
    plan = _fetch(settings_from_args(args))
    env = dict(os.environ)
    env.update(plan.as_dict())  # secrets override inherited variables, as `ek run` does
    info(f"running {command[0]} with {len(plan.items)} secret(s) from {_where(plan)}")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], command, env)  # noqa: S606 (the user's own command, no shell)
    except OSError as exc:
        raise UsageError(f"Cannot run {command[0]!r}: {exc.strerror}.") from None
    return EXIT_INTERNAL  # pragma: no cover (execvpe does not return)


def _print_names(plan: ExportPlan) -> ExitCode:
    lines = [f"{len(plan.items)} secret(s) from {_where(plan)} would be exported:"]
    for item in plan.items:
        origin = f"  (from {item.source})" if item.source != item.name else ""
        lines.append(f"  {item.name}{origin}")
    lines.extend(f"  skipped {note.source}: {note.reason}" for note in plan.skipped)
    print("\n".join(printable(line) for line in lines))
    return EXIT_OK


def _where(plan: ExportPlan) -> str:
    t = plan.target
    return f"{t.workspace}/{t.project}/{t.environment}"


def _debug_enabled() -> bool:
    return (
        os.environ.get("ENKRYPTIFY_DEBUG") == "1"
        or os.environ.get("RUNNER_DEBUG") == "1"
        or os.environ.get("CI_DEBUG_TRACE") == "true"
    )


def _say(prefix: str, message: str) -> None:
    """Each line of ``message`` on stderr, behind the program's prefix, control characters replaced."""
    for line in message.split("\n"):
        print(f"{PROG}: {prefix}{printable(line)}", file=sys.stderr)


def info(message: str) -> None:
    _say("", message)


def warn(message: str) -> None:
    _say("warning: ", message)


def debug(message: str) -> None:
    if _debug_enabled():
        _say("debug: ", message)


def report_error(exc: EnkryptifyError) -> None:
    _say("error: ", exc.message)
    if exc.hint:
        _say("hint: ", exc.hint)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the console script, ``python -m enkryptify_action`` and ``entrypoint.py``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list and os.environ.get("GITHUB_ACTIONS") == "true":
        from .github.action import run_action

        return run_action()
    try:
        args = build_parser().parse_args(args_list)
    except SystemExit as exc:  # argparse: --help/--version exit 0, errors exit 2
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code: ExitCode = args.handler(args)
        return code
    except EnkryptifyError as exc:
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so, never print the message (it could hold a value)
        print(f"{PROG}: internal error ({type(exc).__name__}); please report it.", file=sys.stderr)
        if _debug_enabled():
            print("".join(traceback.format_tb(exc.__traceback__)), file=sys.stderr)
        return EXIT_INTERNAL
