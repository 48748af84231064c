"""Leak scan: every captured output of the end-to-end suites is checked for credentials and secret values.

Importing this module wraps ``FakeEnkryptify.handle`` once, so every fake that answers a request is
watched (weakly). ``tests/e2e/cli_helpers.run_cli`` and ``tests/github/action_harness`` call
``observe_cli``/``observe_action`` on what they captured; the scan then fails the test if any watched
fake's static token, issued JWT, minted OIDC ID token, GitHub ID-token request token or secret value
(any environment, shared or personal; the whole value and each line of 4+ characters) shows where it
must not:

* CLI: stderr always; stdout too, unless the command prints values on purpose (``pull`` to stdout).
* Action: the log as the runner would show it (masks applied), stderr, annotations, the step summary
  and GITHUB_STATE.

Failure messages name the kind of secret, never the value.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fake_api.app import FakeEnkryptify

if TYPE_CHECKING:
    from tests.github.action_harness import RunCapture

MIN_LENGTH = 4
_WATCHED: weakref.WeakSet[FakeEnkryptify] = weakref.WeakSet()
_LAST_ANSWER: weakref.WeakKeyDictionary[FakeEnkryptify, float] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()  # fakes answer from server threads; tests may run several CLIs at once


class LeakError(AssertionError):
    """A credential or secret value appeared in a captured output."""


@dataclass(frozen=True)
class Known:
    label: str  # "token", "jwt", "value of NAME"
    text: str


def _install() -> None:
    original: Any = FakeEnkryptify.handle
    if getattr(original, "_leakscan", False):
        return

    def handle(self: FakeEnkryptify, req: Any) -> Any:
        with _LOCK:
            _WATCHED.add(self)
            _LAST_ANSWER[self] = time.monotonic()
        return original(self, req)

    handle._leakscan = True  # type: ignore[attr-defined]
    FakeEnkryptify.handle = handle  # type: ignore[method-assign]


_install()


def watch(fake: FakeEnkryptify) -> None:
    """Watch a fake explicitly (e.g. one that has not answered yet)."""
    with _LOCK:
        _WATCHED.add(fake)


_ONLY: list[list[FakeEnkryptify]] = []


@contextlib.contextmanager
def restricted(fakes: Iterable[FakeEnkryptify]) -> Iterator[None]:
    """Scan for these fakes' secrets only (``[]``: scan nothing), e.g. in a property test that makes many
    fakes and checks its own runs, where an earlier example's value may be ordinary text of this one."""
    _ONLY.append(list(fakes))
    try:
        yield
    finally:
        _ONLY.pop()


def known_secrets(fakes: Iterable[FakeEnkryptify] | None = None, *, since: float | None = None) -> list[Known]:
    """The secrets of ``fakes``; by default of the fakes that answered since ``since`` (a ``time.monotonic()``
    taken before the run), or of every watched fake when none did (a run refused before any request)."""
    found: list[Known] = []
    if fakes is None and _ONLY:
        fakes = _ONLY[-1]
    if fakes is None:
        with _LOCK:
            fakes = list(_WATCHED)
            recent = [f for f in fakes if since is not None and _LAST_ANSWER.get(f, -1.0) >= since]
        fakes = recent or fakes
    for fake in fakes:
        found += [Known("token", token) for token in list(fake.tokens)]
        found += [Known("jwt", jwt) for jwt in list(fake.jwts)]
        found += [Known("OIDC ID token", token) for token in list(fake.oidc.id_tokens)]
        found += [Known("ID-token request token", token) for token in list(fake.oidc.request_tokens)]
        for project in list(fake.projects.values()):
            for secret in list(project.secrets.values()):
                for value in list(secret.values):
                    found += [Known(f"value of {secret.name}", part) for part in _parts(value.value)]
    return [k for k in found if k.text]


def _parts(value: str) -> list[str]:
    parts = [value] if len(value.strip()) >= MIN_LENGTH else []
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return parts + [line.strip() for line in lines if len(line.strip()) >= MIN_LENGTH and line.strip() != value]


def scan(outputs: dict[str, str], *, since: float | None = None) -> None:
    """Raise LeakError naming the output and the kind of secret found in it."""
    known = known_secrets(since=since)
    for where, text in outputs.items():
        if not text:
            continue
        for item in known:
            if item.text in text:
                raise LeakError(f"{item.label} appeared in {where}")


def prints_values(args: Sequence[str]) -> bool:
    """Whether a CLI invocation writes values to stdout by design (``pull`` without ``--output FILE``)."""
    if not args or args[0] != "pull" or "--dry-run" in args:
        return False
    for flag in ("--output", "-o"):
        if flag in args:
            index = args.index(flag)
            return index + 1 < len(args) and args[index + 1] == "-"
        prefixed = [a for a in args if a.startswith(flag + "=")]
        if prefixed:
            return prefixed[-1].endswith("=-")
    return True


def observe_cli(args: Sequence[str], stdout: str | None, stderr: str | None, *, since: float | None = None) -> None:
    """The CLI's output; under GitHub Actions it registers the credentials it obtains with ``::add-mask::``
    on stderr, so stderr is scanned as the runner shows it (masked)."""
    text = stderr or ""
    if "::add-mask" in text:
        from tests.github.runner_emulation import replay_log

        text = replay_log(text).text
    outputs = {"stderr": text}
    if not prints_values(list(args)):
        outputs["stdout"] = stdout or ""
    scan(outputs, since=since)


def observe_action(run: RunCapture, *, since: float | None = None) -> None:
    outputs = {
        "the log (masked as the runner shows it)": run.log,
        "stderr": run.stderr,
        "the step summary": run.files.get("GITHUB_STEP_SUMMARY", ""),
        "GITHUB_STATE": "\n".join(f"{key}={value}" for key, value in run.state.items()),
    }
    scan(outputs, since=since)
