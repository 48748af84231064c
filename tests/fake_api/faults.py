"""Fault injection for the fake API: `Fault` values and the queue that hands them out.

Each `fake.inject(method, path_glob, faults)` adds a rule holding a queue; a matching
request consumes one fault, then the rule falls back to normal behaviour (`sticky=True`
keeps the last fault forever). Faults that *replace* the answer (status, html, invalid
JSON, huge body) skip the normal handler; the others (delay, reset, trickle, truncated
JSON, content type) transform the normal answer or tell the adapter how to deliver it.
"""

from __future__ import annotations

import fnmatch
import json
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    "status", "delay", "reset", "trickle", "invalid_json", "truncated_json", "html", "content_type", "huge_body"
]
REPLACING: frozenset[str] = frozenset({"status", "invalid_json", "html", "huge_body"})
JSON_CT = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour. Build with the class methods, e.g. `Fault.status(503)`."""

    kind: FaultKind
    code: int = 200
    payload: bytes | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    ctype: str = ""
    size: int = 0

    @classmethod
    def status(cls, code: int, body: Any = None, headers: Mapping[str, str] | None = None) -> Fault:
        """Answer `code` with `body` (bytes/str as-is, else JSON; default `{"message": ...}`)."""
        if body is None:
            body = {"message": _REASONS.get(code, f"Error {code}")}
        payload = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else None
        if payload is None:
            payload = json.dumps(body).encode()
        return cls("status", code=code, payload=payload, extra_headers=tuple((headers or {}).items()))

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait `seconds`, then answer normally (the mock transport raises httpx.ReadTimeout)."""
        return cls("delay", seconds=seconds)

    @classmethod
    def trickle(cls, seconds_per_byte: float) -> Fault:
        """Send the headers at once, then the normal body one byte every `seconds_per_byte` (the mock
        transport answers at once: it has no clock to stretch)."""
        return cls("trickle", seconds=seconds_per_byte)

    @classmethod
    def reset(cls) -> Fault:
        """Send the headers and part of the body, then reset the connection."""
        return cls("reset")

    @classmethod
    def invalid_json(cls) -> Fault:
        return cls("invalid_json", payload=b"{'secrets': [oops, this is not JSON,}")

    @classmethod
    def truncated_json(cls) -> Fault:
        """The normal answer cut in half (with a matching Content-Length)."""
        return cls("truncated_json")

    @classmethod
    def html(cls, status: int = 502) -> Fault:
        title = f"{status} {_REASONS.get(status, 'Error')}"
        page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><center><h1>{title}</h1></center><hr><center>nginx</center></body></html>\n"  # noqa: E501
        return cls("html", code=status, payload=page.encode())

    @classmethod
    def content_type(cls, ct: str) -> Fault:
        """The normal answer with a wrong Content-Type."""
        return cls("content_type", ctype=ct)

    @classmethod
    def huge_body(cls, n_bytes: int = 10 * 1024 * 1024) -> Fault:
        """200 with `n_bytes` of junk declared as JSON."""
        return cls("huge_body", size=n_bytes)


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Invalid or expired token",
    403: "Insufficient permissions",
    404: "Not found",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class FaultRule:
    method: str
    path_glob: str
    queue: deque[Fault]
    sticky: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method.upper()) and fnmatch.fnmatchcase(path, self.path_glob)


@dataclass
class FaultBook:
    rules: list[FaultRule] = field(default_factory=list)

    def add(self, method: str, path_glob: str, faults: Fault | Iterable[Fault], sticky: bool) -> None:
        items = deque([faults] if isinstance(faults, Fault) else faults)
        if not items:
            raise ValueError("no faults given")
        self.rules.append(FaultRule(method.upper(), path_glob, items, sticky))

    def take(self, method: str, path: str) -> Fault | None:
        """The next fault for this request (consumed unless it is a sticky rule's last)."""
        for rule in self.rules:
            if rule.queue and rule.matches(method, path):
                if rule.sticky and len(rule.queue) == 1:
                    return rule.queue[0]
                return rule.queue.popleft()
        return None

    def pending(self) -> int:
        return sum(len(r.queue) for r in self.rules)

    def clear(self) -> None:
        self.rules.clear()
