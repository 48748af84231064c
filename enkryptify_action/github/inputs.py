"""Read the action's inputs from ``INPUT_*`` variables, for every option the GitHub platform has."""

from __future__ import annotations

from collections.abc import Mapping

from ..oidc import raw_credentials
from ..options import GITHUB, for_platform


def read_inputs(environ: Mapping[str, str]) -> dict[str, str]:
    """Raw input text keyed by option name; an absent or empty input is ``""`` (= not given).

    The runner keeps hyphens in ``INPUT_*`` names (``INPUT_NAME-CASE``) and fills in action.yml
    defaults for absent inputs (github-runner.md §3). Parsing and strict booleans are left to
    ``config.resolve_settings``, so every source is validated the same way.
    """
    return {option.name: environ.get(option.github_input_var, "") for option in for_platform(GITHUB)}


def raw_token_candidates(environ: Mapping[str, str]) -> list[str]:
    """Every place a credential may come from, trimmed, so it can be masked before anything is parsed.

    The API token first; then the OIDC ID token and the runner's ID-token request token (``auth: oidc``).
    """
    candidates = [environ.get("INPUT_TOKEN", ""), environ.get("ENKRYPTIFY_TOKEN", "")]
    return [text.strip() for text in candidates if text.strip()] + raw_credentials(environ)
