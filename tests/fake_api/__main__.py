"""Run the fake Enkryptify API on its own.

    python -m tests.fake_api --seed tests/fake_api/seed_demo.yml --port 0

Prints the base URL as the first stdout line, then serves until SIGTERM/SIGINT.
Token values are never printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from tests.fake_api.app import DEMO_SEED, FakeEnkryptify
from tests.fake_api.server import serve_fake


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_api", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default=str(DEMO_SEED), help="seed file (.json, .yml, .yaml)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--exchange-mode", choices=["both", "header", "body", "disabled"])
    parser.add_argument("--jwt-ttl", type=int)
    args = parser.parse_args(argv)

    fake = FakeEnkryptify.from_file(args.seed)
    if args.no_rate_limits:
        fake.rate_limits = False
    if args.exchange_mode:
        fake.exchange_mode = args.exchange_mode
    if args.jwt_ttl is not None:
        fake.jwt_ttl = args.jwt_ttl

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with serve_fake(fake, host=args.host, port=args.port) as base_url:
        print(base_url, flush=True)
        print(f"fake Enkryptify API: {len(fake.projects)} project(s), {len(fake.tokens)} token(s)", file=sys.stderr)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
