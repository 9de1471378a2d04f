"""Run the Samesay app with a baseline encoder (benchmarks only): `python -m bench.serve_encoder`.

The app factory accepts an `encoder` that overrides the checkpoint; this launcher passes one
(all-MiniLM-L6-v2) and otherwise serves exactly like `samesay serve` would: same factory, same
settings from the environment, same uvicorn options. Worker processes import this module and
call `create_minilm_app`, so the swap needs nothing in the product's code path.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

ENCODERS = {
    "minilm": "bench.serve_encoder:create_minilm_app",
    # The app's own checkpoint loading: for runs before/without `samesay serve`.
    "checkpoint": "bench.serve_encoder:create_checkpoint_app",
}


def create_checkpoint_app():
    from app.config import Settings
    from app.main import create_app

    return create_app(Settings())


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
    # Also accepts `... -- serve --host H --port P [--workers N]`, the way the bench calls
    # `samesay serve`, so both servers take the same arguments.
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args([a for a in argv if a not in ("--", "serve")])

    from app.config import Settings
    from app.log import configure_logging
    from app.serving import serve

    settings = Settings()
    configure_logging(settings.log_level)
    # As `samesay serve` sets it before its workers start (cli/serve.py).
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.faiss_threads))
    # How `samesay serve` runs (uvicorn options, a socket per worker): only the encoder differs.
    serve(ENCODERS[args.encoder], args.host, args.port, args.workers, settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
