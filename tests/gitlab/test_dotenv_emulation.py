"""The GitLab emulation itself, held against vectors taken from the real code's behaviour.

The writer's tests trust tests/gitlab/dotenv_emulation.py, so each stage gets its own table: values in,
values out. The Rails hand-over vectors were run through GitLab's own ``Collection``/``Item``/``Sort``
code under Ruby 3.1 (recorded in tests/hardening/RESULTS.md, "GitLab emulation rebuilt"); the upload
vectors follow ``parse_dotenv_artifact_service.rb`` and Ruby's ``scan``/``strip``; the delivery vectors
run real bash. Go's own ``os.Expand`` tests pin the runner's expansion.
"""

from __future__ import annotations

import gzip

import pytest

from enkryptify_action.sinks.gitlab import BASH_OWNED_NAMES
from tests.gitlab.dotenv_emulation import (
    DotenvRejected,
    JobFailed,
    Variable,
    bash_delivery,
    delivered_variables,
    go_os_expand,
    parse_dotenv_report,
    parse_upload,
    posix_shell_escape,
    rails_hand_over,
    runner_assembly,
    runner_expand,
    runner_gzip,
    shell_escape,
)

# --- upload ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ('K="quoted value"', "K", '"quoted value"'),  # quotes kept literally
        ("K='  v  '", "K", "'  v  '"),
        ("K=v # not a comment", "K", "v # not a comment"),
        ("K=a=b=c", "K", "a=b=c"),  # split at the first '='
        ("  K  =  v w  ", "K", "v w"),  # key and value stripped, inner space kept
        ("K=\tv\x0b", "K", "v"),
        ("K=\0v\0", "K", "v"),  # Ruby 3.1 strip removes NUL at both ends
        ("K=", "K", ""),  # empty value allowed
        ("K=héllo ☃", "K", "héllo ☃"),
        ("K=a\rb", "K", "a\rb"),  # only \n ends a line: an inner CR stays (Ruby scan, checked)
        ("K=a\u2028b", "K", "a\u2028b"),
        ("K=${OTHER}", "K", "${OTHER}"),  # no substitution at upload
    ],
)
def test_upload_keeps_what_dotenv_libraries_would_change(line: str, key: str, value: str) -> None:
    assert parse_dotenv_report((line + "\n").encode()) == {key: value}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"# comment\nK=v\n", "Invalid Format"),
        (b"K=v\n\nL=w\n", "Invalid Format"),  # blank line
        (b"K=v\ncontinued\n", "Invalid Format"),  # second physical line of a multi-line value
        (b"export K=v\n", "Key can contain only"),
        (b"MY-KEY=v\n", "Key can contain only"),
        (b"=v\n", "Key can't be blank"),
        (b"K" * 256 + b"=v\n", "Key is too long"),
    ],
)
def test_upload_rejects_what_gitlab_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(DotenvRejected, match=reason):
        parse_dotenv_report(data)


def test_upload_misc_rules() -> None:
    assert parse_dotenv_report(b"\xef\xbb\xbfK=v") == {"K": "v"}  # BOM stripped, last newline optional
    assert parse_dotenv_report(b"K=1\nK=2\n") == {"K": "2"}  # last wins
    assert parse_dotenv_report(b"") == {}
    assert parse_dotenv_report(b"K" * 255 + b"=v\n") == {"K" * 255: "v"}


def test_the_count_is_checked_before_the_keys() -> None:
    """``parse!`` raises on the count before the rows (and their key validations) are inserted."""
    data = b"".join(f"K{i}=v\n".encode() for i in range(20)) + b"BAD-KEY=v\n"
    with pytest.raises(DotenvRejected, match="more than 20 variables"):
        parse_dotenv_report(data)
    with pytest.raises(DotenvRejected, match="Key can contain only"):
        parse_dotenv_report(data, variable_limit=21)


def test_the_size_limit_applies_to_the_gzip_not_the_text() -> None:
    text = "".join(f"APP_SETTING_{i}=https://service-{i}.internal.example.com:8443/v1\n" for i in range(150))
    data = text.encode()
    assert len(data) > 9000  # almost twice the limit, as text
    assert len(runner_gzip(data)) < 5120
    assert len(parse_dotenv_report(data, variable_limit=150)) == 150
    with pytest.raises(DotenvRejected, match=r"Too Big\. Maximum Allowable Size: 600"):
        parse_dotenv_report(data, size_limit=600, variable_limit=150)


def test_size_limit_is_strict() -> None:
    gz = runner_gzip(b"K=v\n")
    assert parse_upload(gz, size_limit=len(gz) + 1) == {"K": "v"}
    with pytest.raises(DotenvRejected, match="Too Big"):
        parse_upload(gz, size_limit=len(gz))


def test_runner_gzip_framing() -> None:
    """Header flags FNAME|FCOMMENT, the base name and the path as written, then a valid member."""
    gz = runner_gzip(b"K=v\n", "reports/secrets.env")
    assert gz[:4] == b"\x1f\x8b\x08\x18"
    assert gz[10:].startswith(b"secrets.env\0reports/secrets.env\0")
    assert gzip.decompress(gz) == b"K=v\n"


def test_variable_limit_counts_distinct_keys() -> None:
    twenty = "".join(f"K{i}=v\n" for i in range(20)).encode()
    assert len(parse_dotenv_report(twenty)) == 20
    with pytest.raises(DotenvRejected, match="more than 20 variables"):
        parse_dotenv_report(twenty + b"K20=v\n")
    assert len(parse_dotenv_report(twenty + b"K0=again\n")) == 20
    assert len(parse_dotenv_report(twenty + b"K20=v\n", variable_limit=50)) == 21


# --- Rails hand-over: every row run through GitLab's own Collection code under Ruby 3.1 ----------------

V = Variable
RAILS_VECTORS = [
    # (collection in precedence order, what Rails sends: key/value in its order)
    ([V("A", "pw-%CI_JOB_TOKEN%-x"), V("CI_JOB_TOKEN", "tok")], [("CI_JOB_TOKEN", "tok"), ("A", "pw-tok-x")]),
    ([V("CI_JOB_TOKEN", "tok"), V("A", "pw-%CI_JOB_TOKEN%-x")], [("CI_JOB_TOKEN", "tok"), ("A", "pw-tok-x")]),
    ([V("A", "%%B%%"), V("B", "b")], [("A", "%%B%%"), ("B", "b")]),  # %% kept
    ([V("A", "50%")], [("A", "50%")]),
    ([V("A", "%1%")], [("A", "%1%")]),  # a name cannot start with a digit
    ([V("A", "%1%B%"), V("B", "b")], [("B", "b"), ("A", "%1b")]),  # the scan moves on after "%1"
    ([V("A", "%UNDEF%")], [("A", "%UNDEF%")]),  # keep_undefined
    ([V("A", "$$B"), V("B", "b")], [("A", "$$B"), ("B", "b")]),  # $$ kept (the runner maps it to $)
    ([V("A", "${}")], [("A", "${}")]),
    ([V("A", "$B"), V("B", "$A")], [("A", "$B"), ("B", "$A")]),  # a cycle: nothing is expanded
    ([V("A", "$A")], [("A", "$A")]),  # a self-reference is no cycle, and finds nothing placed
    ([V("A", "x"), V("A", "$A-y")], [("A", "x"), ("A", "x-y")]),  # the lower A is placed first
    (  # a raw variable's reference is left to the runner
        [V("A", "$B"), V("B", "raw$C", raw=True), V("C", "c")],
        [("B", "raw$C"), ("A", "$B"), ("C", "c")],
    ),
    ([V("A", "${B}%C%$D"), V("B", "b"), V("C", "c")], [("B", "b"), ("C", "c"), ("A", "bc$D")]),
    ([V("A", "%B%"), V("B", "x%C%y"), V("C", "z")], [("C", "z"), ("B", "xzy"), ("A", "xzy")]),
]


@pytest.mark.parametrize(("collection", "sent"), RAILS_VECTORS)
def test_rails_hand_over_matches_gitlabs_collection(collection: list[Variable], sent: list[tuple[str, str]]) -> None:
    assert [(v.key, v.value) for v in rails_hand_over(collection)] == sent


# --- the runner: Go's os.Expand, the variable assembly -----------------------------------------------

GO_ENV = {"*": "all the args", "#": "NARGS", "$": "PID", "1": "ARGUMENT1", "HOME": "/usr/gopher"}
GO_ENV |= {"H": "(Value of H)", "home_1": "/usr/foo", "_": "underscore"}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [  # Go's src/os/env_test.go expandTests
        ("", ""),
        ("$*", "all the args"),
        ("$$", "PID"),
        ("${*}", "all the args"),
        ("$1", "ARGUMENT1"),
        ("${1}", "ARGUMENT1"),
        ("now is the time", "now is the time"),
        ("$HOME", "/usr/gopher"),
        ("$home_1", "/usr/foo"),
        ("${HOME}", "/usr/gopher"),
        ("${H}OME", "(Value of H)OME"),
        ("A$$$#$1$H$home_1*B", "APIDNARGSARGUMENT1(Value of H)/usr/foo*B"),
        ("start$+middle$^end$", "start$+middle$^end$"),
        ("mixed$|bag$$$", "mixed$|bagPID$"),
        ("$", "$"),
        ("$}", "$}"),
        ("${", ""),
        ("${}", ""),
    ],
)
def test_go_os_expand_matches_go(text: str, expanded: str) -> None:
    assert go_os_expand(text, lambda name: GO_ENV.get(name, "")) == expanded


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("pa$word", "pa"),  # unset name: empty
        ("pa$$word", "pa$word"),  # the runner maps "$$" to "$"
        ("a$$$$b", "a$$b"),
        ("cost$1", "cost"),  # positional names are empty in the runner
        ("x${12}y", "xy"),  # ... but ${12} is a name, looked up (unset here)
        ("x$HOME", "x/root"),
        ("x${HOME}y", "x/rooty"),
        ("trailing$", "trailing$"),
        ("a$ b", "a$ b"),
        ("100%", "100%"),  # the runner does not touch %
    ],
)
def test_runner_expand(text: str, expanded: str) -> None:
    assert runner_expand(text, {"HOME": "/root"}) == expanded


def test_runner_drops_its_feature_flags_and_sets_its_own_variables_last() -> None:
    job = [V("FF_USE_FASTZIP", "true"), V("FF_NOT_A_FLAG", "kept"), V("CI_RUNNER_VERSION", "1.0")]
    job += [V("CI_PROJECT_DIR", "/mine"), V("GITLAB_ENV", "/tmp/x"), V("RUNNER_TEMP_PROJECT_DIR", "/tmp/t")]
    assembled = runner_assembly(job)
    last = {v.key: v.value for v in assembled}
    assert [v.value for v in assembled if v.key == "FF_USE_FASTZIP"] == ["false"]  # the runner's setting
    assert last["FF_NOT_A_FLAG"] == "kept"  # only flags this runner knows are dropped
    assert last["CI_RUNNER_VERSION"] == "19.4.0"
    assert last["CI_PROJECT_DIR"] == "/mine"  # set before the job's variables: the job's wins
    assert last["RUNNER_TEMP_PROJECT_DIR"] == "/builds/acme/shop.tmp"
    assert "CI_BUILD_NETWORK_NAME" not in last
    with_network = runner_assembly([V("CI_BUILD_NETWORK_NAME", "x")], feature_flags={"FF_NETWORK_PER_BUILD": True})
    assert [v.value for v in with_network if v.key == "CI_BUILD_NETWORK_NAME"][-1] != "x"


# --- bash ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "escaped", "posix"),
    [  # helpers/shell_escape.go: ShellEscape and PosixShellEscape
        ("", "''", "''"),
        ("plain-1.2/x@y_z,", "plain-1.2/x@y_z,", "plain-1.2/x@y_z,"),
        ("a b", "$'a b'", '"a b"'),
        ("it's", "$'it\\'s'", "it's"),
        ("a\rb\n", "$'a\\rb\\n'", "a\rb\n"),
        ("$x`y\\", "$'$x`y\\\\'", '"\\$x\\`y\\\\"'),
        ("é", "$'\\xc3\\xa9'", "é"),
        ("a\0b", "$'a\\x00b'", "a\0b"),
    ],
)
def test_shell_escape_tables(value: str, escaped: str, posix: str) -> None:
    assert shell_escape(value) == escaped
    assert posix_shell_escape(value) == posix


@pytest.mark.parametrize("posix", [False, True])
def test_bash_delivers_exactly_what_it_is_given(posix: bool) -> None:
    values = {"CR": "a\rb", "QUOTES": 'it\'s "q" `x`', "DOLLAR": "$HOME ${X}", "BANG": "a!b", "UNI": "é 日本 🔐"}
    values |= {"BACKSLASH": "C:\\n\\x41", "CTRL": "\x01\x1b[31m\x7f", "SPACE": " inner ", "EMPTY": ""}
    environment = bash_delivery([V(k, v) for k, v in values.items()], posix_escape=posix)
    assert {k: environment.get(k) for k in values} == values


def test_bash_changes_or_refuses_some_names() -> None:
    environment = bash_delivery([V("NUL", "a\0b")])
    assert environment["NUL"] == "a"  # a NUL ends the value
    fails = {key for key in BASH_OWNED_NAMES | {"1ABC"} if _job_fails(key)}
    assert fails == {"1ABC", "UID", "EUID", "PPID", "SHELLOPTS", "BASHOPTS", "BASH_VERSINFO"}
    for key in BASH_OWNED_NAMES - fails:  # computed or reset by bash: the value does not arrive
        assert bash_delivery([V(key, "mine-1")]).get(key) != "mine-1", key


def _job_fails(key: str) -> bool:
    try:
        bash_delivery([V(key, "mine-1")])
    except JobFailed:
        return True
    return False


# --- the whole chain -------------------------------------------------------------------------------------


def test_delivered_variables_whole_chain() -> None:
    data = b"A=x$B\nB=b\nC=$HOME\nD=$$HOME\nE=%HOME%\nF=50%%\nG=a\rb\nFF_USE_FASTZIP=x\nCI_RUNNER_REVISION=r\n"
    got = delivered_variables(data, job_variables={"HOME": "/home/ci"})
    assert got == {
        "A": "xb",
        "B": "b",
        "C": "/home/ci",
        "D": "$HOME",
        "E": "/home/ci",  # %NAME% has no escape
        "F": "50%%",
        "G": "a\rb",
        "FF_USE_FASTZIP": "false",
        "CI_RUNNER_REVISION": "d79f3e7b",
    }


def test_higher_precedence_variables_win() -> None:
    got = delivered_variables(b"TOKEN=from-dotenv\n", higher={"TOKEN": "from-project"})
    assert got == {"TOKEN": "from-project"}
