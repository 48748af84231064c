"""Unit tests: the ``sources`` and ``files`` parsers, the merge, and the file plan."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from enkryptify_action.errors import ExportError, NotFoundError, UsageError, ValidationError
from enkryptify_action.plan import ExportItem, ExportPlan, Secret, Target
from enkryptify_action.secret_files import FileSpec, parse_file_specs, plan_files, secret_files_written
from enkryptify_action.sources import Source, check_exclusive, combined_target, merge, parse_sources


def target(project: str, environment: str) -> Target:
    return Target("acme", project, environment, f"id-{project}-{environment}")


def test_parse_sources_lines_comments_and_slashes_in_environment_names() -> None:
    text = "# shared first\nshared/production\n\n  web-app / preview/pr-1  # a comment\n"
    assert parse_sources(text) == (Source("shared", "production"), Source("web-app", "preview/pr-1"))


def test_parse_sources_lists_every_bad_line() -> None:
    with pytest.raises(UsageError) as caught:
        parse_sources("shared\n/prod\nok/prod\nok/prod")
    message = caught.value.message
    assert "line 1" in message and "line 2" in message and "line 4" in message and "twice" in message


def test_sources_exclude_project_and_environment() -> None:
    check_exclusive("", given={"project": "command-line flag"})
    check_exclusive("a/b", given={})
    with pytest.raises(UsageError, match="project and environment must be empty") as caught:
        check_exclusive("a/b", given={"project": "config file .enkryptify.yml", "environment": "action input"})
    assert "project from the config file .enkryptify.yml; environment from the action input" in caught.value.message


def test_merge_later_wins_keeps_first_position_and_reports_each_replacement() -> None:
    first = (target("shared", "prod"), [Secret("A", "a1"), Secret("B", "b1")])
    second = (target("app", "prod"), [Secret("C", "c2"), Secret("A", "a2")])
    third = (target("app", "hotfix"), [Secret("A", "a3")])
    secrets, replaced = merge([first, second, third])
    assert [(s.name, s.value) for s in secrets] == [("A", "a3"), ("B", "b1"), ("C", "c2")]
    assert [n.reason for n in replaced] == ["app/prod replaces shared/prod", "app/hotfix replaces app/prod"]


def test_combined_target_names_every_source() -> None:
    combined = combined_target([target("shared", "prod"), target("app", "prod")])
    assert combined.where == "acme: shared/prod, app/prod"
    assert combined_target([target("app", "prod")]).where == "acme/app/prod"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TLS=certs/tls.pem", (FileSpec("TLS", "certs/tls.pem"),)),
        ("KS:base64 = /tmp/ks.p12\n# c\n", (FileSpec("KS", "/tmp/ks.p12", "base64"),)),
        ("KS:BASE64=a b.bin", (FileSpec("KS", "a b.bin", "base64"),)),
    ],
)
def test_parse_file_specs(text: str, expected: tuple[FileSpec, ...]) -> None:
    assert parse_file_specs(text) == expected


@pytest.mark.parametrize("text", ["TLS", "=x", "TLS:hex=x", "A=x\nA=y", "A=x\nB=x"])
def test_parse_file_specs_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_file_specs(text)


def plan_of(**values: str) -> ExportPlan:
    items = tuple(ExportItem(name, value, name) for name, value in values.items())
    return ExportPlan(target=target("app", "prod"), items=items)


def test_plan_files_puts_paths_in_the_variables_and_decodes(tmp_path: Path) -> None:
    plan = plan_of(PEM="-----BEGIN-----\nabc\n", KS=base64.b64encode(b"\x00\xff").decode(), OTHER="o")
    specs = parse_file_specs("PEM=pem\nKS:base64=ks")
    new, files = plan_files(plan, specs, place=lambda raw: tmp_path / raw)
    assert new.as_dict() == {"PEM": str(tmp_path / "pem"), "KS": str(tmp_path / "ks"), "OTHER": "o"}
    assert [(f.name, f.data) for f in files] == [("PEM", b"-----BEGIN-----\nabc\n"), ("KS", b"\x00\xff")]
    assert list(tmp_path.iterdir()) == [], "planning writes nothing"


def test_plan_files_accepts_wrapped_base64_and_refuses_bad_base64(tmp_path: Path) -> None:
    wrapped = base64.encodebytes(bytes(200)).decode()  # 76-character lines
    _new, files = plan_files(plan_of(K=wrapped), parse_file_specs("K:base64=k"), place=lambda raw: tmp_path / raw)
    assert files[0].data == bytes(200)
    with pytest.raises(ValidationError, match="K"):
        plan_files(plan_of(K="not base64!"), parse_file_specs("K:base64=k"), place=lambda raw: tmp_path / raw)
    with pytest.raises(NotFoundError, match="NOPE"):
        plan_files(plan_of(K="v"), parse_file_specs("NOPE=k"), place=lambda raw: tmp_path / raw)


def test_write_secret_files_is_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("file")
    plan = plan_of(A="a", B="b")
    _new, files = plan_files(plan, parse_file_specs("A=ok/a\nB=blocker/b"), place=lambda raw: tmp_path / raw)
    with pytest.raises(ExportError, match="left behind"), secret_files_written(files):
        pass
    assert list(tmp_path.iterdir()) == [tmp_path / "blocker"], "a file or a folder made for it was left behind"


def test_a_failure_after_the_files_puts_back_what_they_replaced(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"the user's own a")
    _new, files = plan_files(
        plan_of(A="new a", B="new b"), parse_file_specs("A=a\nB=sub/b"), place=lambda r: tmp_path / r
    )
    with pytest.raises(ExportError), secret_files_written(files):
        assert (tmp_path / "a").read_bytes() == b"new a" and (tmp_path / "sub" / "b").read_bytes() == b"new b"
        raise ExportError("the output could not be written")
    assert (tmp_path / "a").read_bytes() == b"the user's own a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"], "a temporary, backup or new file was left"


def test_success_leaves_no_backup_or_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    _new, files = plan_files(plan_of(A="new"), parse_file_specs("A=a  # a comment"), place=lambda r: tmp_path / r)
    with secret_files_written(files):
        pass
    assert [p.name for p in tmp_path.iterdir()] == ["a"] and (tmp_path / "a").read_bytes() == b"new"
    assert oct((tmp_path / "a").stat().st_mode & 0o777) == oct(0o600)


class RecordingChild:
    def __init__(self) -> None:
        self.sent: list[int] = []

    def send_signal(self, signum: int) -> None:
        self.sent.append(signum)


def test_run_signals_by_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before the child: end the run; while starting it: hold; while it runs: pass on, but not Ctrl-C twice."""
    import signal

    from enkryptify_action import child

    signals = child._Signals()
    with pytest.raises(child.Interrupted):
        signals(signal.SIGTERM, None)
    signals.starting = True
    signals(signal.SIGTERM, None)
    assert signals.pending == [signal.SIGTERM]
    recording = RecordingChild()
    signals.child = recording  # type: ignore[assignment]
    monkeypatch.setattr(child, "_terminal_sent_it", lambda: True)
    signals(signal.SIGINT, None)
    signals(signal.SIGTERM, None)
    monkeypatch.setattr(child, "_terminal_sent_it", lambda: False)
    signals(signal.SIGINT, None)
    assert recording.sent == [signal.SIGTERM, signal.SIGINT]
