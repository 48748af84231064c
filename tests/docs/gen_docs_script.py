"""scripts/gen_docs.py loaded as a module (scripts/ is not a package)."""

from __future__ import annotations

from tests.script_loader import ROOT as ROOT  # re-exported for the tests
from tests.script_loader import load_script

gen_docs = load_script("gen_docs.py", "gen_docs_under_test")
