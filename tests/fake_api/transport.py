"""httpx.MockTransport adapter: run the fake in-process, no sockets.

    client = httpx.Client(transport=mock_transport(fake), base_url=MOCK_BASE_URL)

Faults that need a real connection are simulated: `Fault.delay` raises
httpx.ReadTimeout (the client "timed out"), `Fault.reset` raises httpx.ReadError.
All requests share one rate-limit key (`client`).
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx

from tests.fake_api.app import FakeEnkryptify, FakeRequest

MOCK_BASE_URL = "https://api.enkryptify.test"


def to_fake_request(request: httpx.Request, client: str = "mock") -> FakeRequest:
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = parse_qs(request.url.query.decode("ascii"), keep_blank_values=True)
    return FakeRequest(
        request.method, request.url.raw_path.split(b"?")[0].decode("ascii"), query, headers, request.read(), client
    )


def mock_transport(fake: FakeEnkryptify, *, client: str = "mock") -> httpx.MockTransport:
    """A transport for httpx.Client / httpx.AsyncClient that answers from `fake`."""

    def handler(request: httpx.Request) -> httpx.Response:
        resp = fake.handle(to_fake_request(request, client))
        if resp.delay > 0:
            raise httpx.ReadTimeout("The read operation timed out (fake delay)", request=request)
        if resp.reset:
            raise httpx.ReadError("[Errno 104] Connection reset by peer (fake reset)", request=request)
        return httpx.Response(resp.status, headers=resp.headers, content=resp.body, request=request)

    return httpx.MockTransport(handler)
