"""Keep credentials out of text we print: pieces of the token or a JWT, and URL userinfo.

Text from the API server (its ``message`` field) is untrusted: a hostile or buggy server may echo the
token back in another case, without its ``ek_live_`` prefix, percent-encoded, or only in part. Any piece
of ``PIECE`` or more characters of a credential, found in any of those forms, withholds the whole text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

PIECE = 8
_MARKERS = ("ek_live_", "eyj")  # a static token, or a JWT's base64url '{"' header, in any case
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_GAPS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


def pieces(credentials: Iterable[str]) -> frozenset[str]:
    """Every ``PIECE``-character window of each credential, lower-cased (the prefix dropped too)."""
    found: set[str] = set()
    for credential in credentials:
        text = credential.lower()
        found.update(text[i : i + PIECE] for i in range(max(0, len(text) - PIECE + 1)))
    return frozenset(found)


def _forms(text: str) -> list[str]:
    """``text`` lower-cased, and percent-decoded up to three times (``%2565`` is ``%65`` is ``e``)."""
    forms = [text.lower()]
    current = text
    for _ in range(3):
        if not _PERCENT.search(current):
            break
        current = unquote(current)
        forms.append(current.lower())
    return forms


def holds_credential(text: str, credential_pieces: frozenset[str]) -> bool:
    """Whether ``text`` may carry a credential: a token or JWT marker, or any piece of a known one (also
    once spaces and control characters are taken out, which a server could slip between its characters)."""
    for form in _forms(text):
        if any(marker in form for marker in _MARKERS):
            return True
        for candidate in (form, _GAPS.sub("", form)):
            windows = (candidate[i : i + PIECE] for i in range(len(candidate) - PIECE + 1))
            if credential_pieces and any(window in credential_pieces for window in windows):
                return True
    return False


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` removed, even from a URL too broken to parse.

    Everything between ``//`` (or the start) and the last ``@`` is dropped (a password may itself hold
    ``/``, ``?`` or ``#``), so ``htps://user:pass@host`` shows as ``htps://host``. Only for display.
    """
    scheme, sep, rest = url.partition("//")
    if not sep:
        scheme, rest = "", url
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"
