"""Download one pinned npm package tarball, check its integrity hash, unpack it: what `npm install` does for
a package without dependencies or install scripts, without needing npm (a fresh Debian machine has none,
and Debian's npm pulls in some 300 packages).

    python3 scripts/npm_tarball.py NAME VERSION sha512-BASE64 DEST_DIR

Unpacks the tarball's ``package/`` folder into DEST_DIR (created; must not exist). Refuses a tarball whose
sha512 differs from the pin, and any member that is not a plain file or folder inside ``package/``.
The registry is https://registry.npmjs.org unless NPM_CONFIG_REGISTRY names another (npm's own variable).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path, PurePosixPath

DEFAULT_REGISTRY = "https://registry.npmjs.org"


class TarballError(Exception):
    """The tarball cannot be trusted or unpacked."""


def tarball_url(registry: str, name: str, version: str) -> str:
    """npm's tarball address: ``REGISTRY/NAME/-/BASENAME-VERSION.tgz`` (BASENAME without a @scope/)."""
    return f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def check_integrity(data: bytes, integrity: str) -> None:
    """Refuse ``data`` unless its sha512 is the pinned npm ``integrity`` string (``sha512-<base64>``)."""
    got = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if got != integrity:
        raise TarballError(f"integrity mismatch: expected {integrity}, got {got}")


def unpack(data: bytes, dest: Path) -> int:
    """Write the files under ``package/`` of the gzipped tar ``data`` into ``dest``; the number of files."""
    files = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts
            if not parts or parts[0] != "package" or ".." in parts or PurePosixPath(member.name).is_absolute():
                raise TarballError(f"refusing member {member.name!r}: not inside package/")
            target = dest.joinpath(*parts[1:])
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover (a regular file always has data)
                    raise TarballError(f"cannot read {member.name!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(source.read())
                target.chmod(0o755 if member.mode & 0o111 else 0o644)
                files += 1
            else:
                raise TarballError(f"refusing member {member.name!r}: not a plain file or folder")
    return files


def fetch(name: str, version: str, integrity: str, dest: Path, registry: str = DEFAULT_REGISTRY) -> int:
    """Download, check and unpack one package into ``dest``; the number of files written."""
    url = tarball_url(registry, name, version)
    with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 (https registry, pinned hash)
        data = response.read()
    check_integrity(data, integrity)
    dest.mkdir(parents=True)
    return unpack(data, dest)


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    name, version, integrity, dest = argv
    registry = os.environ.get("NPM_CONFIG_REGISTRY") or DEFAULT_REGISTRY
    try:
        fetch(name, version, integrity, Path(dest), registry)
    except (TarballError, OSError) as exc:
        print(f"npm_tarball: {name}@{version}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
