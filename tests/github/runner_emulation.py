"""A Python emulation of the parts of the GitHub runner this action relies on.

Written from the actions/runner source (src/Runner.Worker/FileCommandManager.cs,
ActionCommand.cs, ActionCommandManager.cs, SecretMasker.cs, HostContext.cs), Linux flavour:

* ``parse_file_command``: how GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE are read (§1).
* ``RunnerEnv`` / ``RunnerOutputs``: how records are applied (NODE_OPTIONS refused, outputs
  case-insensitive, last write wins).
* ``LogMasker``: replays ``::add-mask::`` commands in log order and masks every later line (§2).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote


class FileCommandError(Exception):
    """The runner would fail the step with "Unable to process file command ... successfully"."""


# --------------------------------------------------------------------------------------------
# File commands (EnvFileKeyValuePairs, Linux: split on "\n" only)


def _read_line(text: str, index: int) -> tuple[str | None, int, int]:
    """(line, next index, newline length); ``None`` at the end of the text."""
    if index >= len(text):
        return None, index, 0
    end = text.find("\n", index)
    if end == -1:
        return text[index:], len(text), 0
    return text[index:end], end + 1, 1


def parse_file_command(text: str) -> list[tuple[str, str]]:
    """The records of a GITHUB_ENV/GITHUB_OUTPUT/GITHUB_STATE file, in order, exactly as the runner reads them.

    Raises ``FileCommandError`` where the runner throws; the records before the bad one are
    still returned on the exception's ``applied`` attribute (the runner applies them lazily).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    records: list[tuple[str, str]] = []
    index = 0
    while True:
        line, index, _ = _read_line(text, index)
        if line is None:
            return records
        if line == "":
            continue
        equals = line.find("=")
        heredoc = line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            key, value = line[:equals], line[equals + 1 :]
            if not key:  # passes the runner's buggy check, then ArgUtil.NotNullOrEmpty throws
                raise _error("Value cannot be null or empty: key", records)
            records.append((key, value))
            continue
        if heredoc >= 0 and (equals < 0 or heredoc < equals):
            key, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not key or not delimiter:
                raise _error(
                    f"Invalid format '{line}'. Name must not be empty and delimiter must not be empty", records
                )
            start = end = index
            while True:
                value_line, index, newline = _read_line(text, index)
                if value_line is None:
                    raise _error(f"Invalid value. Matching delimiter not found '{delimiter}'", records)
                if value_line == delimiter:
                    break
                if not newline:
                    raise _error("Invalid value. EOF marker missing new line.", records)
                end = index - newline
            records.append((key, text[start:end] if end > start else ""))
            continue
        raise _error(f"Invalid format '{line}'", records)


def _error(message: str, applied: list[tuple[str, str]]) -> FileCommandError:
    exc = FileCommandError(message)
    exc.applied = list(applied)  # type: ignore[attr-defined]
    return exc


@dataclass
class RunnerEnv:
    """GITHUB_ENV applied: case-sensitive keys (Linux), NODE_OPTIONS refused with an error."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_text(cls, text: str) -> RunnerEnv:
        env = cls()
        for key, value in parse_file_command(text):
            if key.upper() == "NODE_OPTIONS":
                env.errors.append(f"Can't store {key} output parameter using '$GITHUB_ENV' command.")
                continue
            env.values[key] = value
        return env


@dataclass
class RunnerOutputs:
    """GITHUB_OUTPUT applied: a case-insensitive dictionary, last write wins."""

    by_lower: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def from_text(cls, text: str) -> RunnerOutputs:
        outputs = cls()
        for key, value in parse_file_command(text):
            outputs.by_lower[key.lower()] = (key, value)
        return outputs

    def get(self, name: str) -> str | None:
        found = self.by_lower.get(name.lower())
        return None if found is None else found[1]

    def as_dict(self) -> dict[str, str]:
        return dict(self.by_lower.values())


# --------------------------------------------------------------------------------------------
# Workflow commands and the secret masker


@dataclass(frozen=True)
class Command:
    name: str
    properties: str
    data: str


def unescape_data(data: str) -> str:
    """ActionCommand.UnescapeData: %0D, then %0A, then %25."""
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def parse_command(line: str) -> Command | None:
    """``::name props::data`` after trimming the start of the line, or ``None`` for plain output."""
    text = line.lstrip()
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    name, _, properties = text[2:end].partition(" ")
    return Command(name=name, properties=properties, data=unescape_data(text[end + 2 :]))


def split_log_lines(text: str) -> list[str]:
    """The runner reads process output with StreamReader.ReadLine: CR, LF and CRLF all end a line."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def encoded_variants(value: str) -> list[str]:
    """The encodings the runner also masks for every registered value (HostContext.cs)."""
    variants = [value]
    raw = value.encode("utf-8")
    variants.append(base64.b64encode(raw).decode().rstrip("="))
    for shift in (1, 2):  # base64 of the value behind 1 or 2 other bytes ("user:" + password)
        shifted = base64.b64encode(b"\0" * shift + raw).decode().rstrip("=")
        if len(shifted) > 4:
            variants.append(shifted[4:])
    variants.append(value.replace('"', '\\"'))
    variants.append(value.replace("'", "''"))
    variants.append(json.dumps(value, ensure_ascii=False)[1:-1])
    variants.append(quote(value, safe="-_.~"))
    variants.append(html.escape(value, quote=True))
    if len(value) > 8 and value.startswith('"') and value.endswith('"'):
        variants.append(value[1:-1])
    if len(value) >= 6 and "&" in value:
        variants.extend(part for part in value.split("&") if part)
    return [variant for variant in variants if variant]


@dataclass
class LogMasker:
    """Replays ``::add-mask::`` in log order; masks each later line with what it knows then."""

    secrets: set[str] = field(default_factory=set)
    registered: list[str] = field(default_factory=list)  # the unescaped add-mask data, in order
    warnings: list[str] = field(default_factory=list)

    def add_mask(self, data: str) -> None:
        if not data.strip():
            self.warnings.append("Can't add secret mask for empty string in ##[add-mask] command.")
            return
        self.registered.append(data)
        parts = [data] + [line.strip() for line in re.split(r"\r\n|\r|\n", data) if line.strip()]
        for part in parts:
            self.secrets.update(encoded_variants(part))

    def mask(self, line: str) -> str:
        covered = [False] * len(line)
        for secret in self.secrets:
            start = line.find(secret)
            while start >= 0:
                for i in range(start, start + len(secret)):
                    covered[i] = True
                start = line.find(secret, start + 1)
        out: list[str] = []
        i = 0
        while i < len(line):
            if covered[i]:
                while i < len(line) and covered[i]:
                    i += 1
                out.append("***")
            else:
                out.append(line[i])
                i += 1
        return "".join(out)

    def is_masked(self, value: str) -> bool:
        """Whether a later log line holding exactly ``value`` would be fully hidden."""
        return bool(value) and self.mask(value) == "***"


@dataclass
class ReplayedLog:
    """The log as the runner would store it, plus where each add-mask came."""

    lines: list[str]  # masked lines as shown (commands other than add-mask kept as written, masked)
    mask_line_numbers: list[int]
    commands: list[Command]
    masker: LogMasker

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def replay_log(stdout: str, *, masker: LogMasker | None = None) -> ReplayedLog:
    """Process stdout line by line like the runner: add-mask registers and is not echoed."""
    masker = masker or LogMasker()
    shown: list[str] = []
    mask_lines: list[int] = []
    commands: list[Command] = []
    for number, line in enumerate(split_log_lines(stdout)):
        command = parse_command(line)
        if command is not None:
            commands.append(command)
            if command.name == "add-mask":
                masker.add_mask(command.data)
                mask_lines.append(number)
                continue
        shown.append(masker.mask(line))
    return ReplayedLog(lines=shown, mask_line_numbers=mask_lines, commands=commands, masker=masker)


def lines_of(value: str, minimum: int = 4) -> Iterable[str]:
    """A value's trimmed lines of ``minimum``+ characters (what must never show in clear)."""
    for line in re.split(r"\r\n|\r|\n", value):
        if len(line.strip()) >= minimum:
            yield line.strip()
