"""The troubleshooting table is checked against the code: every row names a real raise, message and hint."""

from __future__ import annotations

from typing import Any

import pytest

from enkryptify_action import client, errors
from tests.docs.gen_docs_script import ROOT, gen_docs

README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raised() -> list[Any]:
    found: list[Any] = gen_docs.raised_errors()
    return found


@pytest.mark.parametrize("trouble", gen_docs.TROUBLES, ids=lambda t: t.message[:40])
def test_row_matches_a_raise_in_the_code(trouble, raised) -> None:
    hint = gen_docs.printed_hint(trouble, raised)  # SystemExit if the code has no such raise
    assert trouble.hint in hint
    assert f"`{gen_docs.cell(trouble.message)}` | {int(trouble.error.exit_code)} |" in README


def test_every_http_hint_is_in_the_table() -> None:
    for status, hint in client.HINTS.items():
        assert f"`… failed with HTTP {status}`" in README
        assert gen_docs.cell(hint) in README


def test_a_row_the_code_does_not_back_is_refused(raised) -> None:
    invented = gen_docs.Trouble("client.py", errors.UsageError, "No Enkryptify token", "", "Just try again.")
    with pytest.raises(SystemExit, match="is not the hint of a UsageError"):
        gen_docs.printed_hint(invented, raised)
    wrong_class = gen_docs.Trouble("files.py", errors.UsageError, "Cannot write", "", "Check the folder")
    with pytest.raises(SystemExit, match="no UsageError"):
        gen_docs.printed_hint(wrong_class, raised)
    wrong_message = gen_docs.Trouble("files.py", errors.ExportError, "Disk on fire", "", gen_docs.VARIABLE)
    with pytest.raises(SystemExit, match="is not written in"):
        gen_docs.printed_hint(wrong_message, raised)


def test_fragments_allow_variable_parts() -> None:
    assert gen_docs._fragment_in("Config file not found: ….", "Config file not found: ….")
    assert gen_docs._fragment_in("The token sees … …s;", "The token sees … …s; say which one")
    assert not gen_docs._fragment_in("The token sees no …", "The token sees 3 projects")


def test_every_user_facing_error_class_with_a_hint_is_covered(raised) -> None:
    """Each module that raises a hinted error has at least one row (a new module's errors get documented)."""
    documented = {t.module for t in gen_docs.TROUBLES} | {"client.py"}
    hinted = {r.module for r in raised if r.hint}
    assert hinted - documented <= {"github/action.py"}, "document these modules' errors in gen_docs.TROUBLES"
