"""Hypothesis strategies for secret names and values that attack the export formats.

Values mix every Unicode character with the pieces each format treats specially: CR/LF mixes, ``=``,
``<<``, ``%`` escapes, ``::`` workflow commands, file-command delimiter look-alikes, NUL, ``$``
expansion, quotes, BOMs, Unicode line separators, very long lines and JSON objects.
"""

from __future__ import annotations

import json
import string

from hypothesis import strategies as st

DELIMITER_LIKE = "ghadelimiter_" + "0123456789abcdef" * 2
PIECES = (
    "\r", "\n", "\r\n", "\n\r", "\r\r\n", "=", "==", "<<", "<<EOF", "EOF", "A<<B", "X=Y",
    "%", "%0A", "%0D", "%25", "%250A", "%%",
    "::", "::add-mask::", "::error::boom", "::stop-commands::tok", "::endgroup::", "##[group]",
    "ghadelimiter_", DELIMITER_LIKE, "_GitHubActionsFileCommandDelimeter_",
    "\0", "$", "$$", "$$$", "${", "}", "${}", "$HOME", "${CI_JOB_TOKEN}", "$1", "$*", "$A_B", "${A_B}",
    '"', "'", "`", "\\", "\\n", " ", "  ", "\t", "\v", "\f", "\x1c", "\x85", "\xa0",
    "\ufeff", "\u2028", "\u2029", "é", "日本語", "🔐", "\u202e",
    "{", "}", "[", "]", ",", ":", "null", "true", "1.50", "-0", "1e5",
)  # fmt: skip

fragment = st.one_of(st.sampled_from(PIECES), st.text(max_size=6), st.text(string.ascii_letters, max_size=6))
joined = st.lists(fragment, max_size=10).map("".join)

long_line = st.tuples(st.text(min_size=1, max_size=3), st.integers(500, 9_000), joined).map(
    lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]] + t[2]
)

_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), joined
)
_json_tree = st.recursive(
    _json_scalar,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
json_object = st.tuples(
    st.dictionaries(st.text(max_size=8), _json_tree, min_size=1, max_size=4),
    st.sampled_from([None, 2]),
    st.booleans(),
).map(lambda t: json.dumps(t[0], indent=t[1], ensure_ascii=t[2]))

# Unpaired surrogates arrive from JSON such as "\ud800"; rare on purpose.
with_surrogate = st.tuples(joined, st.sampled_from(["\ud800", "\udfff", "\udc80"]), joined).map("".join)

values = st.one_of(joined, joined, st.text(), long_line, json_object, with_surrogate)
"""Any secret value."""

short_values = st.one_of(joined, st.text(max_size=20), json_object)
"""Values without the very long lines (for tests that put many of them through one file)."""

valid_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)

# Workflow commands as the runner reads them (actions/runner 258d6c8 ActionCommand.cs): legacy ``##[name]``
# anywhere in a line, ``::name::`` at the start of a left-trimmed line; names in any letter case.
COMMANDS = ("set-output name=x", "save-state name=s", "add-mask", "stop-commands", "error", "warning", "group",
            "endgroup", "debug", "echo", "notice")  # fmt: skip
_CASES = (str.lower, str.upper, str.title, str.swapcase)
_command = st.tuples(
    st.sampled_from(COMMANDS),
    st.sampled_from(_CASES),
    st.sampled_from(["##[{}]", "::{}::", " ::{} ::", "\u3000::{}::", "##[{} ]"]),
).map(lambda t: t[2].format(t[1](t[0])))
command_names = st.tuples(st.text(max_size=4), _command, st.sampled_from(["", "pwned", "e", "tok12345"])).map("".join)
"""A secret name that holds a workflow command under either syntax, in some letter case."""

names = st.one_of(valid_names, valid_names, st.text(min_size=1, max_size=12), joined.filter(bool), command_names)
"""Any secret name as stored in Enkryptify (the plan sanitizes, skips or refuses invalid ones)."""

secrets = st.dictionaries(names, values, max_size=6)
"""name -> value for one environment."""
