"""The README stays true to the code: exit codes and options."""

from __future__ import annotations

import re
from pathlib import Path

from enkryptify_action.errors import EXIT_CODES
from enkryptify_action.options import OPTIONS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_exit_code_table_matches_the_code() -> None:
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, flags=re.MULTILINE))
    assert {int(code): text for code, text in rows.items()} == {int(code): text for code, text in EXIT_CODES.items()}


def test_every_shared_option_is_documented() -> None:
    documented = set(re.findall(r"`([a-z][a-z-]+)`", README))
    shared = {o.name for o in OPTIONS if "cli" in o.platforms}
    assert shared - documented == set()
