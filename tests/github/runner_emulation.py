"""A Python emulation of the parts of the GitHub runner this action relies on (Linux flavour).

Written from the runner's own source, actions/runner commit 258d6c8 (2026-08-17); read, not copied:

* src/Runner.Common/ActionCommand.cs — ``TryParseV2`` (``::name k=v,k=v::data`` at the start of the
  left-trimmed line) and ``TryParse`` (legacy ``##[name k=v;k=v]data`` *anywhere* in the line), their
  unescaping; both only accept a *registered* name, compared ignoring case.
* src/Runner.Worker/ActionCommandManager.cs — ``TryProcessCommand`` (V2 first, then legacy;
  stop-commands and the resume token; echo of processed commands), AddMaskCommandExtension (blank
  data refused, whole value + each trimmed CR/LF line registered, ``::add-mask::***`` echoed when echo is
  on), set-output/save-state (still processed), group/endgroup (shown as ``##[group]…``), echo, debug,
  the issue commands, set-env/add-path (disabled: the step fails).
* src/Runner.Worker/Handlers/OutputManager.cs — every line of stdout *and* stderr goes through the
  command manager when it contains ``##[`` or ``::``; otherwise it is masked and shown.
* src/Sdk/DTLogging/Logging/SecretMasker.cs, ValueSecret.cs, ValueEncoders.cs and
  src/Runner.Common/HostContext.cs — each added value is also masked in every registered encoding;
  ordinal matching; overlapping hits merged into one ``***``.
* src/Runner.Worker/FileCommandManager.cs — ``EnvFileKeyValuePairs`` (``File.ReadAllText``: BOM detection,
  invalid UTF-8 as U+FFFD; LF-only lines on Linux), NODE_OPTIONS refused, an empty name throws.
  src/Runner.Worker/ExecutionContext.cs ``SetOutput`` (outputs live in a case-insensitive dictionary
  that keeps the first casing).
* src/Runner.Worker/Container/ContainerInfo.cs ``TranslateToContainerPath`` and
  src/Runner.Worker/Handlers/ContainerActionHandler.cs — the container action's mounts and the path
  translation of *every* environment value (INPUT_* included).

The vectors in tests/github/test_runner_emulation.py come from the runner's L0 tests
(src/Test/L0/Worker/ActionCommandL0.cs, ActionCommandManagerL0.cs, SetEnvFileCommandL0.cs) and from
the rules above; tests/hardening/RESULTS.md records a replay through the real C# code.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote


class FileCommandError(Exception):
    """The runner would fail the step with "Unable to process file command ... successfully"."""


# --------------------------------------------------------------------------------------------
# .NET text rules

# Char.IsWhiteSpace (string.Trim, TrimStart, IsNullOrWhiteSpace). Not Python's isspace(): U+001C..U+001F
# are whitespace to Python only.
NET_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)


def net_trim(text: str) -> str:
    return text.strip(NET_WHITESPACE)


def net_trim_start(text: str) -> str:
    return text.lstrip(NET_WHITESPACE)


def net_is_null_or_whitespace(text: str | None) -> bool:
    return text is None or all(ch in NET_WHITESPACE for ch in text)


# --------------------------------------------------------------------------------------------
# File commands (EnvFileKeyValuePairs, Linux: split on "\n" only)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),  # before UTF-16 LE, whose BOM it starts with
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


def decode_file(data: bytes) -> str:
    """``File.ReadAllText``: a UTF-8/16/32 byte-order mark picks the encoding and is dropped; otherwise
    UTF-8; undecodable bytes become U+FFFD (the decoder's replacement fallback), never an error."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


def _read_line(text: str, index: int) -> tuple[str | None, int, int]:
    """(line, next index, newline length); ``None`` at the end of the text."""
    if index >= len(text):
        return None, index, 0
    end = text.find("\n", index)
    if end == -1:
        return text[index:], len(text), 0
    return text[index:end], end + 1, 1


def parse_file_command(text: str) -> list[tuple[str, str]]:
    """The records of a GITHUB_ENV/GITHUB_OUTPUT/GITHUB_STATE file (already decoded), in order.

    An empty name (``=v``) is returned as ``("", "v")``: the parser's own check tests the line, not the
    key; what happens next depends on the file (``RunnerEnv``, ``RunnerOutputs``). Raises
    ``FileCommandError`` where the parser throws; the records before the bad one are on the
    exception's ``applied`` attribute (the runner applies them lazily, one by one).
    """
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
            records.append((line[:equals], line[equals + 1 :]))
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
    """GITHUB_ENV applied: case-sensitive keys (Linux), NODE_OPTIONS (any case) refused with an error.

    An empty name is stored (``Global.EnvironmentVariables[""]``) and then throws: ``errors`` says so and
    nothing after it is applied.
    """

    values: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_text(cls, text: str) -> RunnerEnv:
        env = cls()
        try:
            records = parse_file_command(text)
        except FileCommandError as exc:
            records = exc.applied  # type: ignore[attr-defined]
            env.errors.append(f"Unable to process file command 'env' successfully: {exc}")
        for key, value in records:
            if key.upper() == "NODE_OPTIONS":
                env.errors.append("Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.")
                continue
            env.values[key] = value
            if not key:
                env.errors.append("Unable to process file command 'env' successfully: empty name")
                break
        return env


@dataclass
class RunnerOutputs:
    """GITHUB_OUTPUT applied: a case-insensitive dictionary that keeps the *first* casing, last value wins.

    An empty name throws (``ArgUtil.NotNullOrEmpty``) before it is stored.
    """

    by_lower: dict[str, tuple[str, str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_text(cls, text: str) -> RunnerOutputs:
        outputs = cls()
        try:
            records = parse_file_command(text)
        except FileCommandError as exc:
            records = exc.applied  # type: ignore[attr-defined]
            outputs.errors.append(f"Unable to process file command 'output' successfully: {exc}")
        for key, value in records:
            if not key:
                outputs.errors.append("Unable to process file command 'output' successfully: empty name")
                break
            outputs.set(key, value)
        return outputs

    def set(self, key: str, value: str) -> None:
        first = self.by_lower.get(key.lower(), (key, ""))[0]
        self.by_lower[key.lower()] = (first, value)

    def get(self, name: str) -> str | None:
        found = self.by_lower.get(name.lower())
        return None if found is None else found[1]

    def as_dict(self) -> dict[str, str]:
        return dict(self.by_lower.values())


# --------------------------------------------------------------------------------------------
# Container actions: mounts and path translation


# ContainerActionHandler mounts these host folders (its AddPathTranslateMapping inserts each mapping
# first, so they are tried in the reverse of the order they are added: workspace first, temp last).
CONTAINER_MOUNTS: tuple[tuple[str, str], ...] = (
    ("workspace", "/github/workspace"),
    ("file_commands", "/github/file_commands"),
    ("workflow", "/github/workflow"),
    ("home", "/github/home"),
    ("temp", "/github/runner_temp"),
)


def translate_to_container_path(path: str, mappings: Sequence[tuple[str, str]]) -> str:
    """``ContainerInfo.TranslateToContainerPath`` (Linux): the first mapping whose host path equals the
    value, or is followed in it by ``/``, rewrites that prefix; anything else is returned unchanged."""
    if path:
        for host, container in mappings:
            if path == host:
                return container
            if path.startswith(host + "/"):
                return container + path[len(host) :]
    return path


def translate_environment(env: Mapping[str, str], mappings: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Every variable of a container step, INPUT_* included, as the container sees it."""
    return {name: translate_to_container_path(value, mappings) for name, value in env.items()}


# --------------------------------------------------------------------------------------------
# Workflow commands

# Registered extensions (ActionCommandManager.cs); "stop-commands" is added by the manager itself.
REGISTERED_COMMANDS = frozenset(
    {
        "add-mask",
        "add-matcher",
        "add-path",
        "debug",
        "echo",
        "endgroup",
        "error",
        "group",
        "notice",
        "remove-matcher",
        "save-state",
        "set-env",
        "set-output",
        "stop-commands",
        "warning",
    }
)
# Commands that are processed without being echoed (OmitEcho).
_OMIT_ECHO = frozenset({"add-mask", "debug", "error", "warning", "notice"})
# Disabled unless ACTIONS_ALLOW_UNSECURE_COMMANDS: the step fails.
_DISABLED = frozenset({"set-env", "add-path"})


def ordinal_upper(text: str) -> str:
    """What ``StringComparison.OrdinalIgnoreCase`` compares: each character's simple (one-character)
    upper case. The product's defence does not depend on it: it breaks the prefixes, not the names."""
    return "".join(upper if len(upper := ch.upper()) == 1 else ch for ch in text)


def same_ignoring_case(a: str, b: str) -> bool:
    return ordinal_upper(a) == ordinal_upper(b)


class Registered:
    """A set of command names compared like ``StringComparer.OrdinalIgnoreCase``."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = {ordinal_upper(name): name for name in names}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and ordinal_upper(name) in self._names

    def canonical(self, name: str) -> str:
        return self._names[ordinal_upper(name)]

    def add(self, name: str) -> None:
        self._names[ordinal_upper(name)] = name

    def remove(self, name: str) -> None:
        self._names.pop(ordinal_upper(name), None)


@dataclass(frozen=True)
class Command:
    name: str  # as written (the runner compares it ignoring case)
    properties: dict[str, str]
    data: str
    legacy: bool = False  # parsed by the ``##[...]`` parser

    @property
    def key(self) -> str:
        """The registered name it matched (``##[ADD-MASK]`` is ``add-mask``)."""
        registered = Registered(REGISTERED_COMMANDS)
        return registered.canonical(self.name) if self.name in registered else self.name


def _unescape(text: str, mappings: Sequence[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


_LEGACY_ESCAPES = ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25"))
_DATA_ESCAPES = (("\r", "%0D"), ("\n", "%0A"), ("%", "%25"))
_PROPERTY_ESCAPES = (("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25"))


def unescape_data(data: str) -> str:
    """ActionCommand.UnescapeData: %0D, then %0A, then %25."""
    return _unescape(data, _DATA_ESCAPES)


def _properties(text: str, separator: str, escapes: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``k=v`` pairs (empty entries and pairs without both sides dropped), keys ignoring case."""
    found: dict[str, str] = {}
    by_lower: dict[str, str] = {}
    for entry in (part for part in text.split(separator) if part):
        pair = [part for part in entry.split("=", 1) if part]
        if len(pair) == 2:
            key = by_lower.setdefault(ordinal_upper(pair[0]), pair[0])
            found[key] = _unescape(pair[1], escapes)
    return found


def parse_v2(line: str, registered: Registered | None = None) -> Command | None:
    """``TryParseV2``: ``::name props::data`` after TrimStart, name up to the first space, registered."""
    registered = registered or Registered(REGISTERED_COMMANDS)
    text = net_trim_start(line)
    if not text.startswith("::"):
        return None
    end = text.find("::", 2)
    if end < 0:
        return None
    info = text[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in registered:
        return None
    properties = _properties(net_trim(info[space + 1 :]), ",", _PROPERTY_ESCAPES) if space > 0 else {}
    return Command(name=name, properties=properties, data=unescape_data(text[end + 2 :]))


def parse_legacy(line: str, registered: Registered | None = None) -> Command | None:
    """``TryParse``: the *first* ``##[`` anywhere in the line, info up to the next ``]``, registered name."""
    registered = registered or Registered(REGISTERED_COMMANDS)
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3 : close]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in registered:
        return None
    properties = _properties(info[space + 1 :], ";", _LEGACY_ESCAPES) if space > 0 else {}
    return Command(name=name, properties=properties, data=_unescape(line[close + 1 :], _LEGACY_ESCAPES), legacy=True)


def parse_command(line: str, registered: Registered | None = None) -> Command | None:
    """What ``TryProcessCommand`` parses a line as: V2 first, then legacy; ``None`` for plain output."""
    return parse_v2(line, registered) or parse_legacy(line, registered)


def split_log_lines(text: str) -> list[str]:
    """The runner reads process output with StreamReader.ReadLine: CR, LF and CRLF all end a line."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


# --------------------------------------------------------------------------------------------
# The secret masker and its encoders (HostContext.cs registers them in this order)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")  # Convert.ToBase64String: padding kept


def base64_escape(value: str) -> str:
    return _b64(value.encode("utf-8", "surrogatepass"))


def base64_shift(value: str, shift: int) -> str:
    """The value's UTF-8 bytes without the first ``shift`` (what base64 of "user:" + value contains);
    a value of ``shift`` bytes or fewer is encoded whole."""
    raw = value.encode("utf-8", "surrogatepass")
    return _b64(raw[shift:] if len(raw) > shift else raw)


def command_line_escape(value: str) -> str:
    return value.replace('"', '\\"')


def expression_escape(value: str) -> str:
    return value.replace("'", "''")


_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def json_escape(value: str) -> str:
    """Newtonsoft ``JsonConvert.ToString`` without its quotes: short escapes, other controls, U+0085,
    U+2028 and U+2029 as lower-case ``\\uXXXX``; nothing else (no ``'``, no ``<``, no non-ASCII)."""
    out = []
    for ch in value:
        if ch in _JSON_SHORT:
            out.append(_JSON_SHORT[ch])
        elif ord(ch) < 0x20 or ch in "\x85\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def uri_escape(value: str) -> str:
    """``Uri.EscapeDataString``: RFC 3986 unreserved characters kept, UTF-8 bytes as upper-case %XX."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="-_.~")


_XML = {"<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "&": "&amp;"}


def xml_escape(value: str) -> str:
    """``SecurityElement.Escape``: the five XML entities, ``'`` as ``&apos;``."""
    return "".join(_XML.get(ch, ch) for ch in value)


def trim_double_quotes(value: str) -> str:
    return value[1:-1] if len(value) > 8 and value.startswith('"') and value.endswith('"') else ""


def powershell_pre_ampersand(value: str) -> str:
    """Up to and including the first ``&+``, else the last ``&``; only when that part has 6+ characters."""
    if "&" not in value:
        return ""
    if "&+" in value:
        part = value[: value.index("&+") + 2]
    else:
        part = value[: value.rindex("&") + 1]
    return part if len(part) >= 6 else ""


def powershell_post_ampersand(value: str) -> str:
    """After the first ``&+`` and one more character (the coloured one), else after the last ``&``;
    only when that part has 6+ characters."""
    if "&" not in value:
        return ""
    if "&+" in value:
        after = value.index("&+") + 2
        part = value[after + 1 :] if len(value) > after + 1 else ""
    else:
        part = value[value.rindex("&") + 1 :]
    return part if len(part) >= 6 else ""


ENCODERS = (
    base64_escape,
    lambda value: base64_shift(value, 1),
    lambda value: base64_shift(value, 2),
    command_line_escape,
    expression_escape,
    json_escape,
    uri_escape,
    xml_escape,
    trim_double_quotes,
    powershell_pre_ampersand,
    powershell_post_ampersand,
)


def encoded_variants(value: str) -> list[str]:
    """``SecretMasker.AddValue``: the value and each non-empty encoding of it."""
    variants = [value]
    for encoder in ENCODERS:
        encoded = encoder(value)
        if encoded:
            variants.append(encoded)
    return variants


@dataclass
class LogMasker:
    """The job's SecretMasker, fed by ``::add-mask::`` in log order; masks each later line."""

    secrets: set[str] = field(default_factory=set)
    originals: set[str] = field(default_factory=set)
    registered: list[str] = field(default_factory=list)  # the add-mask data, in order
    warnings: list[str] = field(default_factory=list)

    def add_value(self, value: str) -> None:
        """``SecretMasker.AddValue``: an empty value or one already added is ignored."""
        if not value or value in self.originals:
            return
        self.originals.add(value)
        self.secrets.update(encoded_variants(value))

    def add_mask(self, data: str) -> None:
        """AddMaskCommandExtension: blank refused; else the value, then each trimmed CR/LF line."""
        if net_is_null_or_whitespace(data):
            self.warnings.append("Can't add secret mask for empty string in ##[add-mask] command.")
            return
        self.registered.append(data)
        self.add_value(data)
        for line in re.split(r"[\r\n]", data):
            self.add_value(net_trim(line))

    def mask(self, line: str) -> str:
        """``MaskSecrets``: every ordinal hit of every secret, overlapping or touching hits merged."""
        spans: list[tuple[int, int]] = []
        for secret in self.secrets:
            start = line.find(secret)
            while start >= 0:
                spans.append((start, start + len(secret)))
                start = line.find(secret, start + 1)
        if not spans:
            return line
        spans.sort()
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        out, index = [], 0
        for start, end in merged:
            out.append(line[index:start] + "***")
            index = end
        out.append(line[index:])
        return "".join(out)

    def is_masked(self, value: str) -> bool:
        """Whether a later log line holding exactly ``value`` would be fully hidden."""
        return bool(value) and self.mask(value) == "***"


# --------------------------------------------------------------------------------------------
# One step's output, processed line by line


@dataclass
class ReplayedLog:
    """What the runner did with a step's output: the log as shown, and every command's effect."""

    lines: list[str] = field(default_factory=list)  # shown (masked), with the runner's own ##[group] lines
    plain: list[str] = field(default_factory=list)  # the lines shown as the step wrote them (masked)
    commands: list[Command] = field(default_factory=list)  # every command processed, in order
    mask_line_numbers: list[int] = field(default_factory=list)  # input line numbers of processed add-masks
    masker: LogMasker = field(default_factory=LogMasker)
    outputs: RunnerOutputs = field(default_factory=RunnerOutputs)  # from ##[set-output] / ::set-output::
    state: dict[str, str] = field(default_factory=dict)  # from save-state
    errors: list[str] = field(default_factory=list)  # the step fails (a command could not be processed)
    stopped_by: str | None = None  # the stop token while command processing is stopped
    echo: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class CommandProcessor:
    """``OutputManager.OnDataReceived`` + ``ActionCommandManager.TryProcessCommand`` for one step.

    ``step_debug`` is ACTIONS_STEP_DEBUG (echo of processed commands on by default, debug lines shown).
    Feed stdout and stderr lines in the order they arrived; both are processed alike.
    """

    def __init__(self, *, step_debug: bool = False, masker: LogMasker | None = None) -> None:
        self.registered = Registered(REGISTERED_COMMANDS)
        self.step_debug = step_debug
        self.log = ReplayedLog(masker=masker or LogMasker(), echo=step_debug)
        self._number = 0

    def _show(self, line: str) -> None:
        self.log.lines.append(self.log.masker.mask(line))

    def feed(self, line: str) -> None:
        number, self._number = self._number, self._number + 1
        if line and ("##[" in line or "::" in line) and self._process(line, number):
            return
        self._show(line)
        self.log.plain.append(self.log.lines[-1])

    def feed_text(self, text: str) -> None:
        for line in split_log_lines(text):
            self.feed(line)

    def _process(self, line: str, number: int) -> bool:
        command = parse_command(line, self.registered)
        if command is None:
            return False
        log = self.log
        if log.stopped_by is not None:
            if same_ignoring_case(command.name, log.stopped_by):
                self._show(line)
                self.registered.remove(log.stopped_by)
                log.stopped_by = None
                return True
            return False  # shown as plain text
        log.commands.append(command)
        key = command.key
        if key == "stop-commands":
            token = command.data
            if not token or token in self.registered or same_ignoring_case(token, "pause-logging"):
                log.errors.append("Invalid stop-commands token")
                return True
            log.stopped_by = token
            self.registered.add(token)
            if len(token) > 6:
                log.masker.add_value(token)
            self._show(line)
            return True
        if log.echo and key not in _OMIT_ECHO:
            self._show(line)
        if key == "add-mask":
            if log.echo and not net_is_null_or_whitespace(command.data):
                self._show("::add-mask::***")
            log.masker.add_mask(command.data)
            log.mask_line_numbers.append(number)
        elif key in ("group", "endgroup"):
            self._show(f"##[{key}]{command.data if key == 'group' else ''}")
        elif key == "echo":
            switch = net_trim(command.data).upper()
            if switch in ("ON", "OFF"):
                log.echo = switch == "ON"
            else:
                log.errors.append(f"Unable to process command '{line}' successfully.")
        elif key in ("error", "warning", "notice"):
            self._show(f"##[{key}]{command.data}")  # AddIssue writes the message to the log, masked
        elif key == "debug":
            if self.step_debug:
                self._show(f"##[debug]{command.data}")
        elif key in ("set-output", "save-state"):
            name = command.properties.get(_prop(command, "name"), "")
            if not name:
                log.errors.append(f"Required field 'name' is missing in ##[{key}] command.")
            elif key == "set-output":
                log.outputs.set(name, command.data)
            else:
                log.state[name] = command.data
        elif key in _DISABLED:
            log.errors.append(f"The `{key}` command is disabled.")
        return True


def _prop(command: Command, name: str) -> str:
    """The property key as written for ``name`` (properties are compared ignoring case)."""
    return next((key for key in command.properties if same_ignoring_case(key, name)), name)


def replay_log(
    stdout: str, *, stderr: str = "", masker: LogMasker | None = None, step_debug: bool = False
) -> ReplayedLog:
    """Process a step's stdout, then its stderr, line by line like the runner."""
    processor = CommandProcessor(step_debug=step_debug, masker=masker)
    processor.feed_text(stdout)
    processor.feed_text(stderr)
    return processor.log


def lines_of(value: str, minimum: int = 4) -> Iterable[str]:
    """A value's trimmed lines of ``minimum``+ characters (what must never show in clear)."""
    for line in re.split(r"\r\n|\r|\n", value):
        if len(net_trim(line)) >= minimum:
            yield net_trim(line)
