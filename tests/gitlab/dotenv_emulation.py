"""What GitLab does with a dotenv report, from the runner's upload to the consuming job's environment.

Rebuilt from the real sources (read file by file; facts carried over, no code copied):

* GitLab Rails, gitlabhq/gitlabhq mirror:
  ``app/services/ci/parse_dotenv_artifact_service.rb`` (1410f851), ``lib/gitlab/ci/variables/collection.rb``
  (05f0ebba), ``lib/gitlab/ci/variables/collection/item.rb`` (0a412bce), ``.../collection/sort.rb``
  (16e3c17d), ``lib/expand_variables.rb`` (13ad005a), ``app/presenters/ci/build_runner_presenter.rb``
  (0286e4c6), ``app/models/concerns/ci/contextable.rb`` (variable order).
* GitLab Runner d79f3e7 (19.4.0): ``helpers/archives/gzip_create.go`` (klauspost/pgzip v1.2.6 at
  ``DefaultCompression``, flate level 5 in klauspost/compress ``flate/deflate.go``), ``common/build.go``
  (``GetAllVariables``), ``common/spec/variables.go`` (``Expand``, ``Get``), ``common/version.go``,
  ``shells/abstract.go`` (``exportVariables``), ``shells/bash.go`` and ``helpers/shell_escape.go``
  (``ShellEscape``, ``PosixShellEscape``), ``executors/kubernetes/overwrites.go``.

The chain, one function per stage:

1. ``runner_gzip``: the runner uploads the report as one gzip member whose header carries the file's base
   name and path. Python has no copy of klauspost's encoder, so the deflate stream here is zlib's (level
   6) with the same framing (sync flush, final block): sizes are close to, not equal to, the runner's.
2. ``parse_upload``: Rails refuses the gzip unless ``size < dotenv_size``; decodes UTF-8 (invalid bytes
   replaced, BOM stripped); each line (Ruby ``each_line``: only ``\\n`` ends one) is matched with
   ``/^(.*?)=(.*)$/`` ("Invalid Format" if not), key and value ``strip``ped; last duplicate wins. Then,
   in this order: more than ``dotenv_variables`` keys is refused, and only then are the keys validated
   (``\\A[a-zA-Z0-9_]+\\z``, at most 255 characters, not blank) when the rows are inserted.
3. ``rails_hand_over``: the job's variables in precedence order (``contextable.rb``: predefined, YAML,
   dotenv, instance, group, project, pipeline variables; later wins), dotenv ones stored ``raw: false``,
   are put through ``sort_and_expand_all(keep_undefined: true, expand_file_refs: false,
   expand_raw_refs: false)``: an item whose value contains ``$`` or ``%`` depends on the names its
   references name; the items are sorted dependencies first (Ruby ``TSort``); a cycle of two or more
   items leaves the whole collection unexpanded; otherwise each such item's value is rewritten by one
   left-to-right scan of ``\\$\\$|%%|\\$(?<key>NAME)|\\${\\g<key>?}|%\\g<key>%``: ``$$``, ``%%`` and ``${}``
   stay, a reference to a variable already placed becomes its value (a raw or file variable: the
   reference stays), an undefined one stays.
4. ``runner_assembly``: the runner's list is its resolved feature flags, its variables before the job's
   (``CI_BUILDS_DIR``, ``CI_PROJECT_DIR``, ...), the job's variables minus those named like one of its
   feature flags, then the ones it sets after them (``CI_DISPOSABLE_ENVIRONMENT`` or
   ``CI_SHARED_ENVIRONMENT``, ``CI_RUNNER_VERSION``, ``CI_RUNNER_REVISION``, ``CI_RUNNER_EXECUTABLE_ARCH``,
   ``RUNNER_TEMP_PROJECT_DIR``, ``CI_BUILD_NETWORK_NAME`` with ``FF_NETWORK_PER_BUILD``); every non-raw
   value is then expanded once with Go's ``os.Expand`` against the unexpanded list (``$$`` → ``$``; last
   variable of a name wins; positional and special names are empty).
5. ``bash_delivery``: real bash runs ``export KEY=<ShellEscape(VALUE)>`` for each variable in that order,
   then ``export GITLAB_ENV=...`` and the loop that sources it, all inside ``( eval <escaped script> )``
   under errexit, as ``BashWriter.Finish`` writes it; the job's environment is read back from the process.
   A failing ``export`` (digit-first key, read-only name) stops the job: ``JobFailed``.

``delivered_variables`` runs the whole chain and returns what the consuming job sees for each dotenv key.
"""

from __future__ import annotations

import gzip
import os
import re
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

RUBY_STRIP = " \t\n\v\f\r\0"
_LINE = re.compile(r"^([^\n]*?)=([^\n]*)$")
_KEY = re.compile(r"[a-zA-Z0-9_]+")
REPORT_PATH = "enkryptify-secrets.env"


class DotenvRejected(Exception):
    """GitLab answers the upload with HTTP 400 and this reason; the producing job fails."""


class JobFailed(Exception):
    """The consuming job's shell stopped before the user's script (errexit after a failed ``export``)."""


# --- 1. the runner's gzip -------------------------------------------------------------------------


def runner_gzip(data: bytes, path: str = REPORT_PATH, *, mtime: int = 0) -> bytes:
    """One gzip member framed as gitlab-runner writes it: FNAME and FCOMMENT set, sync flush, final block."""
    name = os.path.basename(path).encode()
    header = b"\x1f\x8b\x08\x18" + struct.pack("<I", mtime) + b"\x00\xff" + name + b"\0" + path.encode() + b"\0"
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH) + compressor.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer


# --- 2. the upload parse ----------------------------------------------------------------------------


def parse_upload(gz: bytes, *, size_limit: int = 5120, variable_limit: int = 20) -> dict[str, str]:
    """The variables Rails stores for an uploaded gzip (values not yet expanded), or DotenvRejected."""
    if not len(gz) < size_limit:
        raise DotenvRejected(f"Dotenv Artifact Too Big. Maximum Allowable Size: {size_limit}")
    text = gzip.decompress(gz).decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # each_line yields no empty piece after the last "\n"
    variables: dict[str, str] = {}
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            raise DotenvRejected("Invalid Format")
        variables[match.group(1).strip(RUBY_STRIP)] = match.group(2).strip(RUBY_STRIP)
    if len(variables) > variable_limit:
        raise DotenvRejected(f"Dotenv files cannot have more than {variable_limit} variables")
    for key in variables:  # validated when the rows are inserted, after the count
        errors = []
        if not key:
            errors.append("Key can't be blank")
        if len(key) > 255:
            errors.append("Key is too long (maximum is 255 characters)")
        if _KEY.fullmatch(key) is None:
            errors.append("Key can contain only letters, digits and '_'.")
        if errors:
            raise DotenvRejected("Validation failed: " + ", ".join(errors))
    return variables


def parse_dotenv_report(
    data: bytes, *, size_limit: int = 5120, variable_limit: int = 20, path: str = REPORT_PATH
) -> dict[str, str]:
    """Upload ``data`` as the runner does and parse it as Rails does."""
    return parse_upload(runner_gzip(data, path), size_limit=size_limit, variable_limit=variable_limit)


# --- 3. the Rails hand-over ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Variable:
    """One job variable as Rails and the runner pass it around."""

    key: str
    value: str
    raw: bool = False
    file: bool = False


RAILS_VARIABLES = re.compile(
    r"\$\$|%%|\$(?P<a>[a-zA-Z_][a-zA-Z0-9_]*)|\$\{(?P<b>[a-zA-Z_][a-zA-Z0-9_]*)?\}|%(?P<c>[a-zA-Z_][a-zA-Z0-9_]*)%"
)


def _reference(match: re.Match[str]) -> str | None:
    return match.group("a") or match.group("b") or match.group("c")


def _depends_on(variable: Variable) -> list[str] | None:
    """``Item#depends_on``: None for raw values and values without ``$``/``%``, else the names referenced."""
    if variable.raw or not ("$" in variable.value or "%" in variable.value):
        return None
    return [name for match in RAILS_VARIABLES.finditer(variable.value) if (name := _reference(match))]


def _strongly_connected(variables: Sequence[Variable]) -> list[list[int]]:
    """Ruby ``TSort#each_strongly_connected_component`` over the items (Tarjan, dependencies first)."""
    by_key: dict[str, list[int]] = {}
    for index, variable in enumerate(variables):
        by_key.setdefault(variable.key, []).append(index)
    children = [[c for name in _depends_on(v) or [] for c in by_key.get(name, [])] for v in variables]
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    components: list[list[int]] = []

    def visit(node: int) -> None:
        order[node] = low[node] = len(order)
        stack.append(node)
        on_stack.add(node)
        for child in children[node]:
            if child not in order:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], order[child])
        if low[node] == order[node]:
            component: list[int] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            components.append(component[::-1])

    for node in range(len(variables)):
        if node not in order:
            visit(node)
    return components


def rails_hand_over(variables: Sequence[Variable]) -> list[Variable]:
    """``BuildRunnerPresenter#runner_variables``: the variables in the order and with the values Rails sends."""
    components = _strongly_connected(variables)
    if any(len(component) > 1 for component in components):
        return list(variables)  # "circular variable reference detected": nothing is expanded
    placed: list[Variable] = []
    for (index,) in components:
        variable = variables[index]
        if _depends_on(variable) is not None:
            variable = replace(variable, value=_rails_expand(variable.value, placed))
        placed.append(variable)
    return placed


def _rails_expand(value: str, placed: Sequence[Variable]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = _reference(match)
        if name is None:
            return match.group(0)  # $$, %% and ${} are left alone
        found = next((v for v in reversed(placed) if v.key == name), None)
        if found is None or found.file or found.raw:
            return match.group(0)  # keep_undefined; file and raw references are left to the runner
        return found.value

    return RAILS_VARIABLES.sub(substitute, value)


def job_collection(
    dotenv: Mapping[str, str],
    *,
    lower: Mapping[str, str] | None = None,
    higher: Mapping[str, str] | None = None,
) -> list[Variable]:
    """The consuming job's collection (``contextable.rb``): ``lower`` (predefined, YAML), dotenv, ``higher``."""
    return [
        *(Variable(k, v) for k, v in (lower or {}).items()),
        *(Variable(k, v) for k, v in dotenv.items()),
        *(Variable(k, v) for k, v in (higher or {}).items()),
    ]


# --- 4. the runner's variable assembly ------------------------------------------------------------------

RUNNER_FEATURE_FLAGS = {
    "FF_NETWORK_PER_BUILD": False,
    "FF_USE_FASTZIP": False,
    "FF_USE_DIRECT_DOWNLOAD": True,
    "FF_POSIXLY_CORRECT_ESCAPES": False,
    "FF_SCRIPT_SECTIONS": False,
}
"""A few of the runner's 51 feature flags at d79f3e7 (helpers/featureflags/flags.go) with their defaults."""


def go_os_expand(s: str, mapping: Callable[[str], str]) -> str:
    """Go's ``os.Expand``: ``$name``/``${name}`` replaced by ``mapping(name)``, bad ``${`` eaten."""
    out: list[str] = []
    i = j = 0
    while j < len(s):
        if s[j] == "$" and j + 1 < len(s):
            out.append(s[i:j])
            name, width = _shell_name(s[j + 1 :])
            if name == "" and width > 0:
                pass  # bad syntax such as "${" or "${}": eaten
            elif name == "":
                out.append("$")  # "$" not followed by a name: kept
            else:
                out.append(mapping(name))
            j += width
            i = j + 1
        j += 1
    return "".join(out) + s[i:]


_SPECIAL = frozenset("*#$@!?-0123456789")


def _shell_name(s: str) -> tuple[str, int]:
    """Go's ``os.getShellName``: the name after a ``$`` and how many characters it takes."""
    if s[0] == "{":
        if len(s) > 2 and s[1] in _SPECIAL and s[2] == "}":
            return s[1], 3
        for i in range(1, len(s)):
            if s[i] == "}":
                return ("", 2) if i == 1 else (s[1:i], i + 1)
        return "", 1
    if s[0] in _SPECIAL:
        return s[0], 1
    i = 0
    while i < len(s) and (s[i] == "_" or (s[i].isascii() and s[i].isalnum())):
        i += 1
    return s[:i], i


_EMPTY_NAMES = frozenset(["*", "#", "@", "!", "?", *"0123456789"])


def runner_get(variables: Sequence[Variable]) -> Callable[[str], str]:
    """``Variables.Get``: ``$`` is ``$``, positional and special names are empty, else the last of that name."""

    def get(name: str) -> str:
        if name == "$":
            return "$"
        if name in _EMPTY_NAMES:
            return ""
        return next((v.value for v in reversed(variables) if v.key == name), "")

    return get


def runner_expand(value: str, variables: Mapping[str, str]) -> str:
    """The runner's expansion of one non-raw value against ``variables``."""
    return go_os_expand(value, runner_get([Variable(k, v) for k, v in variables.items()]))


def runner_assembly(
    job: Sequence[Variable],
    *,
    feature_flags: Mapping[str, bool] = RUNNER_FEATURE_FLAGS,
    shared: bool = False,
    project_dir: str = "/builds/acme/shop",
) -> list[Variable]:
    """``Build.GetAllVariables``: the list the runner exports, in order, values expanded once."""
    flags = [Variable(name, "true" if on else "false") for name, on in feature_flags.items()]
    before = [
        Variable("CI_BUILDS_DIR", "/builds"),
        Variable("CI_PROJECT_DIR", project_dir),
        Variable("CI_CONCURRENT_ID", "0"),
        Variable("CI_CONCURRENT_PROJECT_ID", "0"),
        Variable("CI_SERVER", "yes"),
        Variable("CI_JOB_STATUS", "running"),
        Variable("CI_JOB_TIMEOUT", "3600"),
    ]
    after = [
        Variable("CI_SHARED_ENVIRONMENT" if shared else "CI_DISPOSABLE_ENVIRONMENT", "true"),
        Variable("CI_RUNNER_VERSION", "19.4.0"),
        Variable("CI_RUNNER_REVISION", "d79f3e7b"),
        Variable("CI_RUNNER_EXECUTABLE_ARCH", "linux/amd64"),
        Variable("RUNNER_TEMP_PROJECT_DIR", project_dir + ".tmp"),
    ]
    if feature_flags.get("FF_NETWORK_PER_BUILD"):
        after.append(Variable("CI_BUILD_NETWORK_NAME", "runner-abc-project-1-concurrent-0"))
    assembled = [*flags, *before, *(v for v in job if v.key not in feature_flags), *after]
    get = runner_get(assembled)
    return [v if v.raw else replace(v, value=go_os_expand(v.value, get)) for v in assembled]


# --- 5. bash --------------------------------------------------------------------------------------------

_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 39: "\\'", 92: "\\\\"}
_LITERAL = frozenset(b",-./0123456789@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_QUOTE = frozenset(b' !"#$%&()*+:;<=>?[]^`{|}~')


def shell_escape(text: str) -> str:
    """gitlab-runner's ``ShellEscape`` (byte by byte): bare if all literal, else ANSI-C ``$'...'``."""
    if text == "":
        return "''"
    out: list[str] = []
    quoted = False
    for byte in text.encode("utf-8", errors="surrogateescape"):
        if byte in _LITERAL:
            out.append(chr(byte))
        elif byte in _QUOTE:
            out.append(chr(byte))
            quoted = True
        elif byte in _ESCAPES:
            out.append(_ESCAPES[byte])
            quoted = True
        else:
            out.append(f"\\x{byte:02x}")
            quoted = True
    return "$'" + "".join(out) + "'" if quoted else "".join(out)


_POSIX_ESCAPES = {ord("`"): "\\`", ord('"'): '\\"', ord("\\"): "\\\\", ord("$"): "\\$"}
_POSIX_QUOTE = frozenset(b" !#%&()*<=>?[|")


def posix_shell_escape(text: str) -> str:
    """gitlab-runner's ``PosixShellEscape`` (``FF_POSIXLY_CORRECT_ESCAPES``): double quotes when needed."""
    if text == "":
        return "''"
    out = bytearray()
    quoted = False
    for byte in text.encode("utf-8", errors="surrogateescape"):
        if byte in _POSIX_ESCAPES:
            out += _POSIX_ESCAPES[byte].encode()
            quoted = True
        else:
            out.append(byte)
            quoted = quoted or byte in _POSIX_QUOTE
    body = out.decode("utf-8", errors="surrogateescape")
    return f'"{body}"' if quoted else body


def bash_script(variables: Iterable[Variable], *, env_file: str, posix_escape: bool = False) -> str:
    """The job script as ``BashWriter`` writes it: exports, GITLAB_ENV, then the user's ``env -0``."""
    escape = posix_shell_escape if posix_escape else shell_escape
    lines = [f"export {escape(v.key)}={escape(v.value)}" for v in variables]
    lines.append(f"export GITLAB_ENV={escape(env_file)}")
    lines.append(f'touch "{env_file}"')
    lines.append(f'while read -r line; do export "$line"; done < "{env_file}"')
    lines.append("/usr/bin/env -0")
    inner = "\n".join(lines) + "\n"
    return (
        'case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit\n'
        f"( eval {escape(inner)} ) < /dev/null\nexit 0\n"
    )


def bash_delivery(variables: Sequence[Variable], *, posix_escape: bool = False) -> dict[str, str]:
    """Run the job script in real bash and return the environment the user's script sees."""
    with tempfile.TemporaryDirectory(prefix="ek-gitlab-job-") as folder:
        env_file = str(Path(folder) / "gitlab_runner_env")
        script = bash_script(variables, env_file=env_file, posix_escape=posix_escape)
        done = subprocess.run(
            ["/bin/bash", "--noprofile", "--norc", "-s"],
            input=script.encode("utf-8", errors="surrogateescape"),
            capture_output=True,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
            cwd=folder,
            timeout=30,
            check=False,
        )
    if done.returncode != 0:
        raise JobFailed(f"bash exited {done.returncode}")
    environment: dict[str, str] = {}
    for entry in done.stdout.split(b"\0"):
        if entry:
            key, _, value = entry.partition(b"=")
            environment[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
    return environment


# --- the whole chain ------------------------------------------------------------------------------------


def delivered_variables(
    data: bytes,
    *,
    variable_limit: int = 20,
    size_limit: int = 5120,
    job_variables: Mapping[str, str] | None = None,
    higher: Mapping[str, str] | None = None,
    path: str = REPORT_PATH,
    posix_escape: bool = False,
    feature_flags: Mapping[str, bool] = RUNNER_FEATURE_FLAGS,
) -> dict[str, str]:
    """What a job that ``needs:`` the producer sees for each dotenv key (a missing key did not arrive).

    ``job_variables`` are the consuming job's lower-precedence variables (predefined, YAML ``variables:``);
    ``higher`` its project, group and pipeline variables; ``feature_flags`` the flags the runner knows.
    Raises DotenvRejected or JobFailed.
    """
    stored = parse_dotenv_report(data, size_limit=size_limit, variable_limit=variable_limit, path=path)
    handed = rails_hand_over(job_collection(stored, lower=job_variables, higher=higher))
    flags = {**feature_flags, "FF_POSIXLY_CORRECT_ESCAPES": posix_escape}
    environment = bash_delivery(runner_assembly(handed, feature_flags=flags), posix_escape=posix_escape)
    return {key: environment[key] for key in stored if key in environment}
