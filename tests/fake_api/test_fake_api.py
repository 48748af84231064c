"""Tests of the fake Enkryptify API itself, through both adapters."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fake_api.app import LARGE_TOKEN, FakeEnkryptify, FakeRequest
from tests.fake_api.faults import Fault
from tests.fake_api.fixtures import DEMO_TOKEN
from tests.fake_api.server import serve_fake
from tests.fake_api.transport import MOCK_BASE_URL, mock_transport

ROOT = Path(__file__).resolve().parents[2]
SECRETS = "/v1/workspace/acme/project/web-app/secret"
ENVS = "/v1/workspace/acme/project/web-app/environment"
TLS = ssl.create_default_context()  # one shared context: building one per client is slow
DEV = "0b6e3a8e-5d7c-4c52-9a1e-1d2f3a4b5c01"
PROD = "0b6e3a8e-5d7c-4c52-9a1e-1d2f3a4b5c03"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fake() -> FakeEnkryptify:
    return FakeEnkryptify.demo()


@pytest.fixture(params=["mock", "server"])
def client(request: pytest.FixtureRequest, fake: FakeEnkryptify) -> Iterator[httpx.Client]:
    """An unauthenticated client on the demo fake, through each adapter in turn."""
    if request.param == "mock":
        with httpx.Client(transport=mock_transport(fake), base_url=MOCK_BASE_URL) as c:
            yield c
    else:
        with serve_fake(fake) as url, httpx.Client(base_url=url, timeout=5, verify=TLS) as c:
            yield c


@pytest.fixture
def served(fake: FakeEnkryptify) -> Iterator[str]:
    with serve_fake(fake) as url:
        yield url


# --------------------------------------------------------------------------- shapes
def test_workspace_project_environment_shapes(client: httpx.Client, fake: FakeEnkryptify) -> None:
    h = bearer(DEMO_TOKEN)
    ws = client.get("/v1/workspace", headers=h).json()
    assert ws == [{"id": ws[0]["id"], "name": "Acme", "slug": "acme"}]
    teams = client.get("/v1/workspace/acme/project", headers=h).json()
    assert [t["name"] for t in teams] == ["Platform"]
    (prj,) = teams[0]["projects"]
    assert prj["slug"] == "web-app" and prj["name"] == "Web App" and "id" in prj
    envs = client.get(ENVS, headers=h).json()
    assert [e["name"] for e in envs] == ["development", "staging", "production"]
    assert set(envs[0]) == {"id", "name"}
    # IDs work in place of slugs
    by_id = client.get(f"/v1/workspace/{ws[0]['id']}/project/{prj['id']}/environment", headers=h)
    assert by_id.json() == envs


def test_secret_list_filters_values_by_environment(client: httpx.Client) -> None:
    h = bearer(DEMO_TOKEN)
    every = client.get(SECRETS, headers=h).json()
    assert isinstance(every, list) and len(every) == 8
    secret = every[0]
    assert set(secret) == {"id", "name", "note", "type", "dataType", "values", "createdAt", "updatedAt"}
    assert {v["environmentId"] for v in secret["values"]} == {DEV, PROD, DEV[:-1] + "2"}
    for param in ("environmentId", "environment_id"):
        dev = client.get(SECRETS, headers=h, params={param: DEV, "resolve": "true"}).json()
        assert len(dev) == 8  # array shape kept, values filtered
        assert all(v["environmentId"] == DEV for s in dev for v in s["values"])
    stripe = next(s for s in dev if s["name"] == "STRIPE_SECRET_KEY")
    assert sorted(v["isPersonal"] for v in stripe["values"]) == [False, True]
    sentry = next(s for s in dev if s["name"] == "SENTRY_DSN")
    assert sentry["values"] == []
    both = client.get(SECRETS, headers=h, params={"environmentId": DEV, "environment_id": DEV})
    assert both.status_code == 200
    clash = client.get(SECRETS, headers=h, params={"environmentId": DEV, "environment_id": PROD})
    assert clash.status_code == 400


def test_single_secret_and_multiline_values(client: httpx.Client) -> None:
    h = bearer(DEMO_TOKEN)
    pem = client.get(f"{SECRETS}/TLS_PRIVATE_KEY", headers=h, params={"environmentId": PROD}).json()
    assert pem["name"] == "TLS_PRIVATE_KEY"
    (value,) = pem["values"]
    assert value["value"].startswith("-----BEGIN PRIVATE KEY-----\n") and value["value"].count("\n") >= 3
    flags = client.get(f"{SECRETS}/FEATURE_FLAGS", headers=h).json()
    assert json.loads(flags["values"][0]["value"])["newCheckout"] is True
    missing = client.get(f"{SECRETS}/NOPE", headers=h)
    assert missing.status_code == 404 and missing.json() == {"message": "Secret not found"}


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/v1/workspace/nope/project", {}, "Workspace not found"),
        ("/v1/workspace/acme/project/nope/environment", {}, "Project not found"),
        (SECRETS, {"environmentId": "production"}, "Environment not found"),  # names are not IDs
        ("/v1/workspace/acme/nothing", {}, "Cannot GET /v1/workspace/acme/nothing"),
    ],
)
def test_not_found(client: httpx.Client, path: str, params: dict[str, str], message: str) -> None:
    r = client.get(path, headers=bearer(DEMO_TOKEN), params=params)
    assert r.status_code == 404 and r.json() == {"message": message}
    assert r.headers["content-type"].startswith("application/json")


# --------------------------------------------------------------------------- auth
def test_missing_bad_token_and_write_permissions(client: httpx.Client, fake: FakeEnkryptify) -> None:
    assert client.get("/v1/workspace").status_code == 401
    r = client.get("/v1/workspace", headers=bearer("ek_live_wrong"))
    assert r.status_code == 401 and r.json() == {"message": "Invalid or expired token"}
    assert client.get("/v1/workspace", headers={"Authorization": DEMO_TOKEN}).status_code == 401
    assert client.post(SECRETS, headers=bearer(DEMO_TOKEN), json={}).status_code == 403
    fake.add_token("ek_live_rw", read_only=False)
    assert client.post(SECRETS, headers=bearer("ek_live_rw"), json={}).status_code == 501
    assert [r.auth for r in fake.requests] == ["none", "invalid", "invalid", "static", "static"]


def test_scopes_hide_as_404(client: httpx.Client, fake: FakeEnkryptify) -> None:
    ws2 = fake.add_workspace("Other Co")
    fake.add_project(ws2, "api", environments=["production"])
    fake.add_project("acme", "mobile", team="Apps", environments=["production"])
    fake.add_token("ek_live_ws", workspaces=["other-co"])
    fake.add_token("ek_live_prj", projects=["web-app"])
    fake.add_token("ek_live_env", environments=["production"])
    assert [w["slug"] for w in client.get("/v1/workspace", headers=bearer("ek_live_ws")).json()] == ["other-co"]
    assert client.get("/v1/workspace/acme/project", headers=bearer("ek_live_ws")).status_code == 404
    teams = client.get("/v1/workspace/acme/project", headers=bearer("ek_live_prj")).json()
    assert [(t["name"], [p["slug"] for p in t["projects"]]) for t in teams] == [("Platform", ["web-app"])]
    r = client.get("/v1/workspace/acme/project/mobile/environment", headers=bearer("ek_live_prj"))
    assert r.status_code == 404
    h = bearer("ek_live_env")
    assert [e["name"] for e in client.get(ENVS, headers=h).json()] == ["production"]
    assert client.get(SECRETS, headers=h, params={"environmentId": DEV}).status_code == 404
    every = client.get(SECRETS, headers=h).json()
    assert {v["environmentId"] for s in every for v in s["values"]} == {PROD}


@pytest.mark.parametrize(
    ("mode", "header_code", "body_code"),
    [("both", 200, 200), ("header", 200, 401), ("body", 400, 200), ("disabled", 404, 404)],
)
def test_exchange_modes(client: httpx.Client, fake: FakeEnkryptify, mode: str, header_code: int, body_code: int):
    fake.exchange_mode = mode  # type: ignore[assignment]
    via_header = client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN))
    via_body = client.post("/v1/auth/exchange", json={"token": DEMO_TOKEN})
    assert (via_header.status_code, via_body.status_code) == (header_code, body_code)
    for r in (via_header, via_body):
        if r.status_code == 200:
            assert set(r.json()) == {"accessToken", "expiresIn", "tokenType"}
    mixed = client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN), json={"token": "ek_live_bad"})
    assert mixed.status_code == {"both": 200, "header": 200, "body": 401, "disabled": 404}[mode]
    mixed = client.post("/v1/auth/exchange", headers=bearer("ek_live_bad"), json={"token": DEMO_TOKEN})
    assert mixed.status_code == {"both": 200, "header": 401, "body": 200, "disabled": 404}[mode]


def test_jwt_shape_use_and_expiry(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.jwt_ttl = 120
    first = client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).json()
    second = client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).json()
    assert first["expiresIn"] == 120 and first["tokenType"] == "Bearer"
    jwt = first["accessToken"]
    assert jwt != second["accessToken"] and jwt.count(".") == 2 and DEMO_TOKEN not in jwt
    payload = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
    assert payload["exp"] - payload["iat"] == 120
    assert client.get("/v1/workspace", headers=bearer(jwt)).status_code == 200
    assert fake.requests[-1].auth == "jwt"
    assert client.post("/v1/auth/exchange", headers=bearer(jwt)).status_code == 401  # JWTs don't exchange
    fake.advance(119)
    assert client.get("/v1/workspace", headers=bearer(jwt)).status_code == 200
    fake.advance(1)
    assert client.get("/v1/workspace", headers=bearer(jwt)).status_code == 401


def test_static_bearer_can_be_refused(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.accept_static_bearer = False
    assert client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).status_code == 401
    jwt = client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).json()["accessToken"]
    assert client.get("/v1/workspace", headers=bearer(jwt)).status_code == 200


def test_revocation(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.add_token("ek_live_two")
    jwt1 = client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).json()["accessToken"]
    jwt2 = client.post("/v1/auth/exchange", headers=bearer("ek_live_two")).json()["accessToken"]
    fake.revoke(DEMO_TOKEN)
    fake.revoke("ek_live_two", jwts_too=True)
    assert client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).status_code == 401
    assert client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).status_code == 401
    assert client.get("/v1/workspace", headers=bearer(jwt1)).status_code == 200  # until expiry
    assert client.get("/v1/workspace", headers=bearer(jwt2)).status_code == 401


# --------------------------------------------------------------------------- rate limits
def test_rate_limit_headers_429_and_window(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.per_client_limit = 3
    r = client.get("/v1/workspace", headers=bearer(DEMO_TOKEN))
    assert (r.headers["RateLimit-Limit"], r.headers["RateLimit-Remaining"], r.headers["RateLimit-Reset"]) == (
        "3",
        "2",
        "60",
    )
    assert client.get("/v1/nothing").headers["RateLimit-Remaining"] == "1"  # 404s count and carry headers
    client.get("/v1/workspace")
    fake.advance(15)
    r = client.get("/v1/workspace", headers=bearer(DEMO_TOKEN))
    assert r.status_code == 429 and r.json() == {"message": "Too many requests"}
    assert r.headers["Retry-After"] == "45" and r.headers["RateLimit-Remaining"] == "0"
    fake.advance(45)
    assert client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).status_code == 200
    fake.rate_limits = False
    assert all(client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).status_code == 200 for _ in range(5))


def test_exchange_limit_is_per_token(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.exchange_limit = 2
    fake.add_token("ek_live_other")
    codes = [client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.post("/v1/auth/exchange", headers=bearer("ek_live_other")).status_code == 200
    fake.advance(60)
    assert client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).status_code == 200


# --------------------------------------------------------------------------- faults
def test_status_faults_queue_then_normal(client: httpx.Client, fake: FakeEnkryptify) -> None:
    h = bearer(DEMO_TOKEN)
    fake.inject("GET", "/v1/workspace/*/secret", [Fault.status(500), Fault.status(503, headers={"Retry-After": "2"})])
    fake.inject("*", "/v1/auth/exchange", Fault.status(429, headers={"Retry-After": "7"}))
    assert client.get("/v1/workspace", headers=h).status_code == 200  # not matching
    first = client.get(SECRETS, headers=h)
    assert first.status_code == 500 and first.json() == {"message": "Internal server error"}
    second = client.get(SECRETS, headers=h)
    assert second.status_code == 503 and second.headers["Retry-After"] == "2"
    assert client.get(SECRETS, headers=h).status_code == 200
    limited = client.post("/v1/auth/exchange", headers=h)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert fake.pending_faults() == 0
    assert [r.fault for r in fake.requests] == [None, "status", "status", None, "status"]


def test_sticky_fault(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.inject("GET", "/v1/workspace", [Fault.html(502)], sticky=True)
    for _ in range(3):
        r = client.get("/v1/workspace", headers=bearer(DEMO_TOKEN))
        assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
        assert "<html>" in r.text
    fake.clear_faults()
    assert client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).status_code == 200


def test_body_faults(client: httpx.Client, fake: FakeEnkryptify) -> None:
    h = bearer(DEMO_TOKEN)
    fake.inject(
        "GET",
        SECRETS,
        [
            Fault.invalid_json(),
            Fault.truncated_json(),
            Fault.html(200),
            Fault.content_type("text/plain"),
            Fault.huge_body(2 * 1024 * 1024),
        ],
    )
    for _ in range(2):
        r = client.get(SECRETS, headers=h)
        assert r.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            r.json()
    html = client.get(SECRETS, headers=h)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    plain = client.get(SECRETS, headers=h)
    assert plain.headers["content-type"] == "text/plain" and len(plain.json()) == 8
    huge = client.get(SECRETS, headers=h)
    assert len(huge.content) == 2 * 1024 * 1024


def test_delay_and_reset_mock(fake: FakeEnkryptify) -> None:
    fake.inject("GET", "/v1/workspace", [Fault.delay(30), Fault.reset()])
    with httpx.Client(transport=mock_transport(fake), base_url=MOCK_BASE_URL, headers=bearer(DEMO_TOKEN)) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/v1/workspace")
        with pytest.raises(httpx.ReadError):
            c.get("/v1/workspace")
        assert c.get("/v1/workspace").status_code == 200


def test_delay_server_really_waits(fake: FakeEnkryptify, served: str) -> None:
    fake.inject("GET", "/v1/workspace", [Fault.delay(2.0), Fault.delay(0.05)])
    with httpx.Client(base_url=served, headers=bearer(DEMO_TOKEN), timeout=0.2, verify=TLS) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/v1/workspace")
        started = time.monotonic()
        assert c.get("/v1/workspace").status_code == 200
        assert time.monotonic() - started >= 0.05


def test_reset_server_mid_body(fake: FakeEnkryptify, served: str) -> None:
    fake.inject("GET", SECRETS, Fault.reset())
    with httpx.Client(base_url=served, headers=bearer(DEMO_TOKEN), timeout=2, verify=TLS) as c:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            c.get(SECRETS)
        assert len(c.get(SECRETS).json()) == 8  # a new connection works


# --------------------------------------------------------------------------- server
def test_server_keep_alive_and_concurrency(fake: FakeEnkryptify, served: str) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=served, headers=bearer(DEMO_TOKEN), timeout=5, verify=TLS) as c:
            for _ in range(5):
                code = c.get(SECRETS, params={"environmentId": DEV}).status_code
                with lock:
                    results.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 40 and len(fake.requests) == 40
    assert all(r.client == "127.0.0.1" for r in fake.requests)


def test_server_is_silent_and_records_headers(fake: FakeEnkryptify, served: str, capfd) -> None:
    with httpx.Client(base_url=served, verify=TLS) as c:
        c.get(SECRETS, headers=bearer(DEMO_TOKEN), params={"environmentId": DEV, "environment_id": DEV})
        c.get("/v1/workspace", headers=bearer("ek_live_wrong"))
    out, err = capfd.readouterr()
    assert DEMO_TOKEN not in out + err and "ek_live_wrong" not in out + err
    rec = fake.requests[0]
    assert rec.query == {"environmentId": DEV, "environment_id": DEV}
    assert rec.authorization == f"Bearer {DEMO_TOKEN}" and DEMO_TOKEN not in repr(rec)


def test_url_encoded_secret_name_and_trailing_slash(fake: FakeEnkryptify) -> None:
    fake.add_secret("web-app", "odd name/with slash", {"production": "v"})
    r = fake.handle(FakeRequest.build("GET", f"{SECRETS}/odd%20name%2Fwith%20slash", token=DEMO_TOKEN))
    assert r.status == 200 and r.json()["name"] == "odd name/with slash"
    assert fake.handle(FakeRequest.build("GET", "/v1/workspace/", token=DEMO_TOKEN)).status == 200


# --------------------------------------------------------------------------- seeds
def test_from_seed_settings_and_builder() -> None:
    fake = FakeEnkryptify.from_seed(
        {
            "workspaces": [{"name": "W", "projects": [{"name": "P", "environments": ["prod"]}]}],
            "tokens": ["ek_live_x"],
            "settings": {"jwt_ttl": 60, "exchange_mode": "header"},
        }
    )
    assert fake.jwt_ttl == 60 and fake.exchange_mode == "header"
    env = fake.env_id("p", "prod")
    sid = fake.add_secret("p", "K", {env: "1"}, personal={"prod": "2"})
    assert len(sid) == 36 and sid.count("-") == 4
    r = fake.handle(FakeRequest.build("GET", "/v1/workspace/w/project/p/secret/K", token="ek_live_x"))
    assert [v["value"] for v in r.json()["values"]] == ["1", "2"]
    with pytest.raises(ValueError):
        FakeEnkryptify.from_seed({"settings": {"bogus": 1}})


def test_large_builds_fast() -> None:
    started = time.perf_counter()
    fake = FakeEnkryptify.large(10_000)
    assert time.perf_counter() - started < 1.5  # ~0.3 s on an idle machine
    assert len(fake.project_of("big").secrets) == 10_000
    r = fake.handle(FakeRequest.build("GET", "/v1/workspace/bench/project/big/secret/SECRET_09999", token=LARGE_TOKEN))
    assert [v["value"] for v in r.json()["values"]] == [
        f"{e}-value-9999" for e in ("development", "staging", "production")
    ]


def test_main_prints_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"workspaces": [{"name": "acme"}], "tokens": ["ek_live_cli"]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_api", "--seed", str(seed), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        r = httpx.get(f"{url}/v1/workspace", headers=bearer("ek_live_cli"), verify=TLS)
        assert r.json()[0]["slug"] == "acme"
        proc.terminate()
        out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0 and "ek_live_cli" not in out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_exchange_default_is_the_header_form_alone(client: httpx.Client, fake: FakeEnkryptify) -> None:
    assert fake.exchange_mode == "header"
    assert client.post("/v1/auth/exchange", headers=bearer(DEMO_TOKEN)).status_code == 200
    assert client.post("/v1/auth/exchange", json={"token": DEMO_TOKEN}).status_code == 401


def test_plain_text_errors(client: httpx.Client, fake: FakeEnkryptify) -> None:
    fake.plain_errors = True
    r = client.get("/v1/workspace", headers=bearer("ek_live_nope"))
    assert (r.status_code, r.headers["Content-Type"], r.text) == (
        401,
        "text/plain; charset=utf-8",
        "Invalid or expired token",
    )
    assert (
        client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).headers["Content-Type"].startswith("application/json")
    )


def test_trickle_sends_one_byte_at_a_time(fake: FakeEnkryptify, served: str) -> None:
    fake.inject("GET", "/v1/workspace", Fault.trickle(0.01))
    with (
        httpx.Client(base_url=served, verify=TLS) as c,
        c.stream("GET", "/v1/workspace", headers=bearer(DEMO_TOKEN)) as r,
    ):
        chunks = list(r.iter_bytes())
    assert len(chunks) > 10 and all(len(chunk) == 1 for chunk in chunks)
    assert json.loads(b"".join(chunks))[0]["slug"] == "acme"


def test_async_client_through_mock(fake: FakeEnkryptify) -> None:
    fake.exchange_mode = "body"

    async def run() -> tuple[int, int]:
        async with httpx.AsyncClient(transport=mock_transport(fake), base_url=MOCK_BASE_URL) as c:
            exchanged = await c.post("/v1/auth/exchange", json={"token": DEMO_TOKEN})
            jwt = exchanged.json()["accessToken"]
            listed = await c.get(SECRETS, headers=bearer(jwt), params={"environmentId": DEV})
            return exchanged.status_code, listed.status_code

    assert asyncio.run(run()) == (200, 200)
    assert json.loads(fake.requests[0].body) == {"token": DEMO_TOKEN}


def test_registered_fixtures(fake_client: httpx.Client, fake_server: tuple[FakeEnkryptify, str]) -> None:
    assert fake_client.get("/v1/workspace", headers=bearer(DEMO_TOKEN)).status_code == 200
    fake, url = fake_server
    with httpx.Client(base_url=url, verify=TLS) as c:
        assert c.get(ENVS, headers=bearer(DEMO_TOKEN)).status_code == 200
    assert fake.requests[-1].path == ENVS


def test_server_answers_500_when_the_fake_crashes(
    fake: FakeEnkryptify, served: str, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def boom(req: FakeRequest) -> None:
        raise RuntimeError("bug in the fake")

    monkeypatch.setattr(fake, "handle", boom)
    with httpx.Client(base_url=served, verify=TLS) as c:
        r = c.get("/v1/workspace")
    assert r.status_code == 500 and r.headers["X-Fake-Error"] == "RuntimeError"
    assert "bug in the fake" in capfd.readouterr().err
