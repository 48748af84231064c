"""What GitLab does with a dotenv report, from upload to the consuming job's environment.

Written from the reference rules (shared/reference/gitlab.md §2) and GitLab's source, not from our
writer, so tests can hold the writer against it:

1. Upload: ``Ci::ParseDotenvArtifactService`` (gitlab ``app/services/ci/parse_dotenv_artifact_service.rb``):
   refuse a file of ``dotenv_size`` bytes or more; decode UTF-8 (invalid bytes replaced), strip a BOM;
   for every line (Ruby ``each_line``: split after ``\\n``) take ``/^(.*?)=(.*)$/`` (first ``=``;
   Ruby's ``.`` is anything but ``\\n``), ``strip`` key and value (Ruby strip: ``\\0\\t\\n\\v\\f\\r`` and space),
   else "Invalid Format"; the key must match ``\\A[a-zA-Z0-9_]+\\z`` and be at most 255 long; duplicate
   keys: last wins; more than ``dotenv_variables`` distinct keys is refused. Quotes, ``#``, ``export``
   are not special: they stay in the key or value (and ``export K`` then fails key validation).
2. Delivery: the values are stored ``raw: false``, so GitLab Runner expands each one once before the job
   (gitlab-runner ``common/spec/variables.go``: ``os.Expand(value, Variables.Get)``, where ``Get("$")``
   is ``"$"``, the special names ``* # @ ! ? 0-9`` are empty, and other names are looked up among the
   job's variables, empty when unset).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

RUBY_STRIP = " \t\n\v\f\r\0"
_LINE = re.compile(r"^([^\n]*?)=([^\n]*)$")
_KEY = re.compile(r"[a-zA-Z0-9_]+")


class DotenvRejected(Exception):
    """GitLab answers the upload with HTTP 400 and this reason; the producing job fails."""


def parse_dotenv_report(data: bytes, *, size_limit: int = 5120, variable_limit: int = 20) -> dict[str, str]:
    """The variables GitLab stores for ``data`` (values still unexpanded), or DotenvRejected."""
    if not len(data) < size_limit:
        raise DotenvRejected(f"Dotenv Artifact Too Big. Maximum Allowable Size: {size_limit}")
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # each_line yields no empty piece after the last "\n"
    variables: dict[str, str] = {}
    for line in lines:
        match = _LINE.match(line)
        if match is None:
            raise DotenvRejected("Invalid Format")
        key, value = match.group(1).strip(RUBY_STRIP), match.group(2).strip(RUBY_STRIP)
        if not key:
            raise DotenvRejected("Validation failed: Key can't be blank")
        if _KEY.fullmatch(key) is None:
            raise DotenvRejected("Validation failed: Key can contain only letters, digits and '_'.")
        if len(key) > 255:
            raise DotenvRejected("Validation failed: Key is too long (maximum is 255 characters)")
        variables[key] = value
    if len(variables) > variable_limit:
        raise DotenvRejected(f"Dotenv files cannot have more than {variable_limit} variables")
    return variables


_SPECIAL = frozenset("*#$@!?-0123456789")


def _is_alnum(char: str) -> bool:
    return char == "_" or "0" <= char <= "9" or "a" <= char <= "z" or "A" <= char <= "Z"


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
    while i < len(s) and _is_alnum(s[i]):
        i += 1
    return s[:i], i


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


def runner_expand(value: str, variables: Mapping[str, str]) -> str:
    """GitLab Runner's expansion of a non-raw variable: ``os.Expand`` with ``Variables.Get``."""

    def get(name: str) -> str:
        if name == "$":
            return "$"
        if name in {"*", "#", "@", "!", "?"} or name.isdigit():
            return ""
        return variables.get(name, "")

    return go_os_expand(value, get)


def delivered_variables(
    data: bytes,
    *,
    variable_limit: int = 20,
    job_variables: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What a job that ``needs:`` the producer sees: parsed at upload, then expanded by the runner.

    ``job_variables`` are the consuming job's lower-precedence variables (predefined, YAML ``variables:``);
    dotenv values can refer to them and to each other.
    """
    stored = parse_dotenv_report(data, variable_limit=variable_limit)
    scope = {**(job_variables or {}), **stored}
    return {key: runner_expand(value, scope) for key, value in stored.items()}
