"""Every error the program reports to a user, and the exit code it maps to.

    EnkryptifyError                 base: user-safe message + hint + exit code
     ├── UsageError                 bad option, flag or config file          (exit 2)
     ├── ApiError                   the API answered with an error status    (exit 5)
     │    ├── AuthenticationError   401: token invalid, expired or revoked   (exit 3)
     │    ├── PermissionDeniedError 403: token lacks permission or scope     (exit 3)
     │    ├── NotFoundError         404 or nothing matched                   (exit 4)
     │    └── RateLimitedError      429 after every retry                    (exit 5)
     ├── NetworkError               DNS/refused/timeout/TLS/proxy failures   (exit 5)
     ├── ValidationError            a secret cannot be exported as asked     (exit 6)
     ├── ExportError                writing the export failed                (exit 7)
     ├── CommandNotExecutableError  `run`: the command is not executable     (exit 126)
     └── CommandNotFoundError       `run`: the command was not found         (exit 127)

Messages never contain the token, the JWT or a secret value: they name paths, statuses
and secret *names* only.
"""

from __future__ import annotations

import errno
from typing import NewType

ExitCode = NewType("ExitCode", int)

EXIT_OK = ExitCode(0)
EXIT_INTERNAL = ExitCode(1)
EXIT_USAGE = ExitCode(2)
EXIT_AUTH = ExitCode(3)
EXIT_NOT_FOUND = ExitCode(4)
EXIT_API = ExitCode(5)
EXIT_VALIDATION = ExitCode(6)
EXIT_EXPORT = ExitCode(7)
EXIT_NOT_EXECUTABLE = ExitCode(126)  # as sh and bash exit for a command they cannot execute
EXIT_COMMAND_NOT_FOUND = ExitCode(127)  # as sh and bash exit for a command they cannot find

EXIT_CODES: dict[ExitCode, str] = {
    EXIT_OK: "secrets fetched and exported (or the `run` child exited 0)",
    EXIT_INTERNAL: "internal error (a bug: please report it)",
    EXIT_USAGE: "usage or configuration error (bad option, input, flag or config file)",
    EXIT_AUTH: "authentication or permission error (401/403)",
    EXIT_NOT_FOUND: "workspace, project, environment or named secret not found (404)",
    EXIT_API: "API or network error after all retries (429, 5xx, timeouts, bad responses)",
    EXIT_VALIDATION: "refused by validation: a secret cannot be exported as asked; nothing was written",
    EXIT_EXPORT: "writing the export failed (file system); nothing was left half-written",
    EXIT_NOT_EXECUTABLE: "`run`: the command is not executable (or is a folder); nothing was fetched",
    EXIT_COMMAND_NOT_FOUND: "`run`: the command was not found (checked before anything is fetched)",
}


class EnkryptifyError(Exception):
    """Base class: a message safe to show a user, an optional hint, an exit code."""

    exit_code: ExitCode = EXIT_INTERNAL
    title: str = "Enkryptify error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class UsageError(EnkryptifyError):
    """An option, input, flag or config file is invalid."""

    exit_code = EXIT_USAGE
    title = "Invalid configuration"


class ApiError(EnkryptifyError):
    """The Enkryptify API answered with an error status or an unusable body."""

    exit_code = EXIT_API
    title = "Enkryptify API error"

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class AuthenticationError(ApiError):
    """401: the token is invalid, expired or revoked."""

    exit_code = EXIT_AUTH
    title = "Authentication failed"


class PermissionDeniedError(ApiError):
    """403: the token is valid but lacks permission or scope."""

    exit_code = EXIT_AUTH
    title = "Permission denied"


class NotFoundError(ApiError):
    """404, or a workspace/project/environment/secret that matched nothing."""

    exit_code = EXIT_NOT_FOUND
    title = "Not found"


class RateLimitedError(ApiError):
    """429 on every attempt."""

    title = "Rate limited"


class NetworkError(EnkryptifyError):
    """Connecting, sending or reading failed on every attempt (or once, for a TLS verification failure).

    ``host_level``: every request to this host would fail the same way (DNS, refused, TLS, proxy).
    """

    exit_code = EXIT_API
    title = "Network error"

    def __init__(self, message: str, *, hint: str | None = None, host_level: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.host_level = host_level


class ValidationError(EnkryptifyError):
    """A secret cannot be exported as asked (name clash, dangerous name, unsafe value)."""

    exit_code = EXIT_VALIDATION
    title = "Secrets refused"


class ExportError(EnkryptifyError):
    """Writing an export file failed."""

    exit_code = EXIT_EXPORT
    title = "Export failed"


class CommandNotExecutableError(EnkryptifyError):
    """``run``: the command exists but cannot be executed (no execute permission, a folder)."""

    exit_code = EXIT_NOT_EXECUTABLE
    title = "Command not executable"


class CommandNotFoundError(EnkryptifyError):
    """``run``: the command is neither a path that exists nor found in PATH."""

    exit_code = EXIT_COMMAND_NOT_FOUND
    title = "Command not found"


def cannot_run(name: str, exc: OSError) -> CommandNotFoundError | CommandNotExecutableError:
    """The error for a command that could not be started after all (exec or spawn): 127 or 126, like a shell."""
    error = CommandNotFoundError if exc.errno == errno.ENOENT else CommandNotExecutableError
    return error(f"Cannot run {name!r}: {exc.strerror}.")
