"""The GitLab emulation itself, held against the reference rules and Go's own expansion tests.

The writer's tests trust this emulation, so it gets its own checks against what GitLab documents and
does (shared/reference/gitlab.md §2), each one a case a lenient `.env` parser would get wrong.
"""

from __future__ import annotations

import pytest

from tests.gitlab.dotenv_emulation import (
    DotenvRejected,
    delivered_variables,
    go_os_expand,
    parse_dotenv_report,
    runner_expand,
)


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ('K="quoted value"', "K", '"quoted value"'),  # quotes kept literally
        ("K='  v  '", "K", "'  v  '"),
        ("K=v # not a comment", "K", "v # not a comment"),
        ("K=a=b=c", "K", "a=b=c"),  # split at the first '='
        ("  K  =  v w  ", "K", "v w"),  # key and value stripped, inner space kept
        ("K=\tv\x0b", "K", "v"),
        ("K=", "K", ""),  # empty value allowed
        ("K=héllo ☃", "K", "héllo ☃"),
        ("K=a\rb", "K", "a\rb"),  # only \n splits lines
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


def test_size_limit_is_strict() -> None:
    almost = b"K=" + b"x" * (5120 - 3) + b"\n"
    assert len(almost) == 5120
    with pytest.raises(DotenvRejected, match="Too Big"):
        parse_dotenv_report(almost)


def test_size_limit_accepts_one_byte_less() -> None:
    data = b"K=" + b"x" * (5120 - 4) + b"\n"
    assert len(data) == 5119
    assert parse_dotenv_report(data)["K"] == "x" * 5116


def test_variable_limit_counts_distinct_keys() -> None:
    twenty = "".join(f"K{i}=v\n" for i in range(20)).encode()
    assert len(parse_dotenv_report(twenty)) == 20
    with pytest.raises(DotenvRejected, match="more than 20 variables"):
        parse_dotenv_report(twenty + b"K20=v\n")
    assert len(parse_dotenv_report(twenty + b"K0=again\n")) == 20
    assert len(parse_dotenv_report(twenty + b"K20=v\n", variable_limit=50)) == 21


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
        ("x$HOME", "x/root"),
        ("x${HOME}y", "x/rooty"),
        ("trailing$", "trailing$"),
        ("a$ b", "a$ b"),
    ],
)
def test_runner_expand(text: str, expanded: str) -> None:
    assert runner_expand(text, {"HOME": "/root"}) == expanded


def test_delivered_variables_expand_against_job_and_each_other() -> None:
    data = b"A=x$B\nB=b\nC=$HOME\nD=$$HOME\n"
    assert delivered_variables(data, job_variables={"HOME": "/home/ci"}) == {
        "A": "xb",
        "B": "b",
        "C": "/home/ci",
        "D": "$HOME",
    }
