"""Run the Samesay app with a baseline encoder (benchmarks only): `python -m bench.serve_encoder`.

The app factory accepts an `encoder` that overrides the checkpoint; this launcher passes one
(all-MiniLM-L6-v2) and otherwise serves exactly like `samesay serve` would: same factory, same
settings from the environment, same uvicorn options. Worker processes import this module and
call `create_minilm_app`, so the swap needs nothing in the product's code path.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

ENCODERS = {"minilm": "bench.serve_encoder:create_minilm_app"}


def create_minilm_app():  # -> fastapi.FastAPI (imported lazily: workers import this module)
    from app.config import Settings
    from app.main import create_app
    from bench.minilm import MiniLmEncoder

    return create_app(Settings(), encoder=MiniLmEncoder())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_encoder")
    parser.add_argument("--encoder", choices=sorted(ENCODERS), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    # Accepts `-- serve --host H --port P [--workers N]` as the bench passes to `samesay`.
    args, rest = parser.parse_known_args(argv)
    rest = [a for a in rest if a not in ("--", "serve")]
    if rest:
        args = parser.parse_args(rest, namespace=args)

    import uvicorn

    uvicorn.run(
        ENCODERS[args.encoder],
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
