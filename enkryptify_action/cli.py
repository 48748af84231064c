"""The ``enkryptify-fetch`` command line: ``pull``, ``run`` and ``check``.

With no arguments inside GitHub Actions (``GITHUB_ACTIONS=true``) it runs as the GitHub Action.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Settings, resolve_settings
from .errors import (
    EXIT_CODES,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_USAGE,
    CommandNotExecutableError,
    CommandNotFoundError,
    EnkryptifyError,
    ExitCode,
    UsageError,
    cannot_run,
)
from .files import write_private_file
from .formats import printable
from .options import CLI, Kind, for_platform
from .plan import ExportPlan
from .secret_files import FileSpec, parse_file_specs, plan_files, secret_files_written

if TYPE_CHECKING:  # argparse is imported where a parser is built: the GitHub Action mode never needs it
    import argparse

PROG = "enkryptify-fetch"
FORMATS = ("dotenv", "json", "shell", "gitlab")


def _add_options(parser: argparse.ArgumentParser, *, dry_run: bool) -> None:
    import argparse

    group = parser.add_argument_group(
        "options (each also readable from ENKRYPTIFY_<NAME>; workflow-only ones never from the config file)"
    )
    for option in for_platform(CLI):
        if option.name == "dry-run" and not dry_run:
            continue
        flags = [f"--{option.name}"] + (["--env"] if option.name == "environment" else [])
        help_text = f"{option.description} [env {option.env_var}{'; workflow-only' if option.workflow_only else ''}]"
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
    run.add_argument(
        "--keep-token",
        action="store_true",
        help=f"keep {', '.join(CREDENTIAL_VARIABLES)} in the command's environment "
        "(default: removed, so the command gets the selected secrets and not the credential)",
    )
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    run.set_defaults(handler=_cmd_run)

    check = commands.add_parser("check", help="fetch and validate; print the names that would be exported")
    _add_options(check, dry_run=False)
    check.set_defaults(handler=_cmd_check)
    for subparser in commands.choices.values():
        subparser.set_defaults(parser=subparser)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; a flag the subcommand does not know is reported with that subcommand's usage.

    (argparse alone hands unknown flags back to the top-level parser, which prints the top-level usage.)
    """
    import difflib

    args, extra = build_parser().parse_known_args(argv)
    if extra:
        subparser: argparse.ArgumentParser = args.parser
        known = [flag for action in subparser._actions for flag in action.option_strings]
        message = f"unrecognized arguments: {' '.join(extra)}"
        close = difflib.get_close_matches(extra[0].split("=", 1)[0], known, n=1)
        if extra[0].startswith("-") and close:
            message += f" (did you mean {close[0]}?)"
        subparser.error(message)
    return args


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
    plan, stats = fetch_plan(settings, on_credential=mask_in_github_log, warn=warn)
    debug(
        f"fetched {stats.fetched} secret(s), exporting {len(plan.items)}; "
        f"{stats.attempts} request(s), {stats.retries} retried; {time.monotonic() - started:.3f}s"
    )
    for note in plan.replaced:
        info(f"{note.source}: {note.reason}")
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
    specs = parse_file_specs(settings.files)
    if specs and args.format == "gitlab":
        raise UsageError(
            "The files option cannot be used with --format gitlab: a dotenv report carries variables, not files.",
            hint=f"Write the files in the job that needs them: {PROG} run --files 'NAME=PATH' -- CMD (same-job mode).",
        )
    plan = _fetch(settings)
    plan, files = plan_files(plan, specs, place=_place_here)
    text = render(plan, args.format, settings=settings, output=args.output)  # validates before writing
    if settings.dry_run:
        return _print_names(plan)
    to_stdout = args.output in (None, "-")
    with secret_files_written(files):  # a failure below puts back whatever the files replaced
        if to_stdout:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_private_file(Path(args.output), text)
    where = "stdout" if to_stdout else args.output
    info(f"wrote {len(plan.items)} secret(s) from {_where(plan)} to {where} ({args.format})")
    for file in files:
        info(f"wrote {file.name}'s file {file.path}")
    return EXIT_OK


def _place_here(raw: str) -> Path:
    """A ``files`` PATH for ``pull``: relative to the working directory, or absolute."""
    path = Path(raw)
    path = path if path.is_absolute() else Path.cwd() / path
    if raw.endswith(("/", "\\")) or path.name in ("", ".", ".."):
        raise UsageError(f"files: {raw!r} names a folder, not a file.")
    return path.parent.resolve() / path.name


def _cmd_check(args: argparse.Namespace) -> ExitCode:
    settings = settings_from_args(args)
    plan = _fetch(settings)
    plan, _files = plan_files(plan, parse_file_specs(settings.files), place=_place_here)  # validated, not written
    return _print_names(plan)


# Credentials the program reads (or the runner gives it to get one): `run` removes them from the child's
# environment unless --keep-token is given. The child gets the selected secrets, not the key to all of them.
CREDENTIAL_VARIABLES = (
    "ENKRYPTIFY_TOKEN",
    "INPUT_TOKEN",
    "ENKRYPTIFY_ID_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


def child_environment(inherited: Mapping[str, str], secrets: Mapping[str, str], *, keep_token: bool) -> dict[str, str]:
    """The inherited environment less the credentials (unless kept), then the secrets on top (as `ek run` does)."""
    env = dict(inherited)
    if not keep_token:
        for name in CREDENTIAL_VARIABLES:
            env.pop(name, None)
    env.update(secrets)
    return env


def find_command(name: str, search_path: str | None) -> str:
    """The program a shell would run for ``name``, found before anything is fetched.

    Like sh/bash: a name with a ``/`` is used as it is; otherwise the first executable regular file in
    PATH wins (an empty entry is the current folder). Missing: exit 127; found but not executable (or
    a folder): exit 126. Looked up in our PATH, so a secret named PATH cannot choose the program.
    """
    if "/" in name:
        candidates = [name]
    else:
        entries = (search_path if search_path is not None else os.defpath).split(os.pathsep)
        candidates = [os.path.join(entry or ".", name) for entry in entries]
    blocked: str | None = None
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
        if blocked is None and (os.path.isfile(candidate) or (candidate == name and os.path.exists(name))):
            blocked = candidate  # a folder found in PATH is skipped, as sh does; named with a / it is refused
    if blocked is not None:
        message = (
            f"Cannot run {name!r}: {blocked} is a folder. Nothing was fetched."
            if os.path.isdir(blocked)
            else f"Cannot run {name!r}: {blocked} is not executable. Nothing was fetched."
        )
        raise CommandNotExecutableError(
            message,
            hint=f"Make it executable (chmod +x {blocked}), or run it through its interpreter (-- sh {blocked}).",
        )
    where = "" if "/" in name else " in PATH"
    raise CommandNotFoundError(
        f"Cannot run {name!r}: command not found{where}. Nothing was fetched.",
        hint="Check the spelling, give the full path, or install it in an earlier step.",
    )


def _cmd_run(args: argparse.Namespace) -> ExitCode:
    command = list(args.argv)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise UsageError("run needs a command.", hint=f"Example: {PROG} run --environment production -- ./deploy.sh")
    program = find_command(command[0], os.environ.get("PATH"))  # before any request
    settings = settings_from_args(args)
    specs = parse_file_specs(settings.files)
    plan = _fetch(settings)
    if specs:
        inherited = child_environment(os.environ, {}, keep_token=args.keep_token)
        return _run_with_files(command, program, inherited, plan, specs)
    env = child_environment(os.environ, plan.as_dict(), keep_token=args.keep_token)
    info(f"running {command[0]} with {len(plan.items)} secret(s) from {_where(plan)}")
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(program, command, env)  # noqa: S606 (the user's own command, no shell)
    except OSError as exc:
        raise cannot_run(command[0], exc) from None
    return EXIT_INTERNAL  # pragma: no cover (execve does not return)


def _run_with_files(
    command: list[str], program: str, env: dict[str, str], plan: ExportPlan, specs: tuple[FileSpec, ...]
) -> ExitCode:
    """``run`` with secret files: they exist in a private folder only while the child runs (child.py)."""
    from .child import Interrupted, exit_for, place_in, private_folder, run_and_wait

    try:
        with private_folder(warn) as (folder, signals):
            plan, files = plan_files(plan, specs, place=lambda raw: place_in(folder, raw))
            with secret_files_written(files):
                env.update(plan.as_dict())
            info(
                f"running {command[0]} with {len(plan.items)} secret(s) from {_where(plan)}, "
                f"{len(files)} as file(s) removed when it ends"
            )
            return ExitCode(run_and_wait(command, program, env, signals))
    except Interrupted as exc:
        return ExitCode(exit_for(exc))


def mask_in_github_log(secret: str) -> None:
    """In a GitHub Actions ``run:`` step, register a credential the CLI obtains (a JWT, an OIDC ID token)
    with the runner's masker before it is used: the runner reads workflow commands on stderr too, and
    stdout may carry ``pull`` output. The API token itself is already masked: it comes from a secret."""
    if os.environ.get("GITHUB_ACTIONS") != "true" or not secret.strip():
        return
    from .github.action import command_line

    print(command_line("add-mask", secret), file=sys.stderr, flush=True)


def _print_names(plan: ExportPlan) -> ExitCode:
    lines = [f"{len(plan.items)} secret(s) from {_where(plan)} would be exported:"]
    for item in plan.items:
        origin = f"  (from {item.source})" if item.source != item.name else ""
        lines.append(f"  {item.name}{origin}")
    lines.extend(f"  skipped {note.source}: {note.reason}" for note in plan.skipped)
    print("\n".join(printable(line) for line in lines))
    return EXIT_OK


def _where(plan: ExportPlan) -> str:
    return plan.target.where


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

        try:
            return run_action()
        except KeyboardInterrupt:  # a SIGINT deferred while the exports were written is delivered after them
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
    try:
        args = parse_args(args_list)
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
