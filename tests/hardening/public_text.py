"""Text the program prints on purpose (templates, hints, names): a value that happens to equal part of it
(``true``, ``line``, a secret's own name) is not a leak. Built from real refusals, so it follows the code."""

from __future__ import annotations

from enkryptify_action import network
from enkryptify_action.client import FALLBACK_NOTE, HINTS, NETWORK_HINT
from enkryptify_action.errors import EnkryptifyError
from enkryptify_action.plan import ExportItem, ExportPlan, Secret, Target
from enkryptify_action.select import build_plan
from enkryptify_action.sinks.gitlab import render_gitlab_dotenv

TARGET = Target("acme", "web-app", "production", "env-1")


def _refusals() -> list[EnkryptifyError]:
    found: list[EnkryptifyError] = []
    plans = [
        [Secret("PATH", "x"), Secret("A B", "y"), Secret("NUL", "\0"), Secret("C-1", "1"), Secret("C.1", "2")],
        [Secret("S", "\ud800"), Secret("\udfff", "x")],
    ]
    for secrets in plans:
        for invalid_names in ("sanitize", "error"):
            try:
                build_plan(secrets, TARGET, invalid_names=invalid_names)
            except EnkryptifyError as exc:
                found.append(exc)
    items = (
        ExportItem("A", "x\ny", "A"),
        ExportItem("B", " x", "src"),
        ExportItem("C", "\0" + "x" * 6000, "C"),
        ExportItem("FF_X", "%A%", "FF_X"),
    )
    for max_variables, max_size in ((1, 1), (20, 5120)):
        try:
            render_gitlab_dotenv(ExportPlan(TARGET, items), max_variables=max_variables, max_size=max_size)
        except EnkryptifyError as exc:
            found.append(exc)
    return found


CORPUS = "\n".join(
    [
        *HINTS.values(),
        NETWORK_HINT,
        network.DNS_HINT,
        network.REFUSED_HINT,
        network.TIMEOUT_HINT,
        network.TLS_HINT,
        network.TLS_HANDSHAKE_HINT,
        network.PROXY_HINT,
        FALLBACK_NOTE,
        "enkryptify-fetch: error: hint: warning: wrote secret(s) from acme/web-app/production",
    ]
    + [f"{exc.message}\n{exc.hint}" for exc in _refusals()]
)


def is_public(value: str, *names: str) -> bool:
    """Whether ``value`` is part of what the program prints anyway."""
    return value in CORPUS or any(value in name for name in names)
