"""`samesay serve`: prepare the data directory on first start, then run uvicorn on the app."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import stat
import sys
from pathlib import Path

from app.config import Settings
from cli.arguments import configured_database_url, port, positive_int

KEY_FILE = "api-key"


def add_commands(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the HTTP service",
        description=(
            "Run the Samesay HTTP service (settings from SAMESAY_* env vars or .env). On first "
            "start it imports the demo FAQs into an empty store, trains the model and tunes "
            "the threshold; without SAMESAY_API_KEYS it generates a key for local use."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    serve.add_argument("--port", type=port, default=8000, help="port (default: %(default)s)")
    serve.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="worker processes; each loads the model and index (default: %(default)s)",
    )
    serve.add_argument(
        "--no-bootstrap",
        action="store_true",
        help="skip the first-start preparation (demo import, training, threshold tuning)",
    )
    serve.set_defaults(func=run_serve)


def local_api_key(data_dir: Path) -> tuple[str, bool]:
    """The key stored in data_dir (created 0600 on first call); returns (key, created)."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a different key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            print(f"samesay: warning: {path} is readable by others; chmod 600 it", file=sys.stderr)
        if not key:
            raise SystemExit(f"samesay: {path} is empty; delete it to generate a new key") from None
        return key, False
    key = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key, True


def _bootstrap(settings: Settings) -> None:
    """First-start preparation in a child process. It imports torch (~180 MB of RSS) and may
    train; with --workers 1 this process goes on to serve, which needs neither."""
    child = multiprocessing.get_context("spawn").Process(
        target=_bootstrap_child, args=(settings,), name="samesay-bootstrap"
    )
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit(child.exitcode)  # the child has printed why


def _bootstrap_child(settings: Settings) -> None:
    from app.bootstrap import BootstrapError, ensure_ready  # torch: only in this process
    from store.errors import StoreError

    try:
        ensure_ready(settings)
    except (BootstrapError, StoreError) as error:  # StoreError: the database went away since
        raise SystemExit(f"samesay: {error}") from None


def _check_store(settings: Settings) -> None:
    """Open the store once (creating or upgrading its schema, as the service would) before
    the first start and the workers: a database that is down, missing or of a newer schema is
    one line here, not a traceback from the bootstrap or every worker."""
    from store.errors import StoreError
    from store.faq_store import FaqStore

    url = configured_database_url(settings.resolved_database_url)
    try:
        FaqStore(url).close()
    except StoreError as error:
        raise SystemExit(f"samesay: {error}") from None


def run_serve(args: argparse.Namespace) -> int:
    from app.log import configure_logging
    from app.serving import ListenError, check_port, serve

    settings = Settings()
    # Every thread OpenMP creates later starts from this; workers inherit it. A single
    # query is too small to split across threads (see index.faq_index.set_threads).
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.faiss_threads))
    try:  # before the first start's training, which a taken port would waste
        check_port(args.host, args.port)
    except ListenError as error:
        raise SystemExit(f"samesay: {error.strerror}") from None
    # Before logging is configured: Alembic's INFO lines would bury a one-line refusal (the
    # bootstrap child, which opened the store first until now, never configured it either).
    _check_store(settings)
    configure_logging(settings.log_level)
    if not args.no_bootstrap:
        _bootstrap(settings)
    if not settings.api_keys:
        key, created = local_api_key(settings.data_dir)
        # Workers build their Settings from the environment: hand the key on that way.
        os.environ["SAMESAY_API_KEYS"] = key
        where = settings.data_dir / KEY_FILE
        if created:
            print(f"samesay: no SAMESAY_API_KEYS set; generated an API key for local use "
                  f"(stored in {where}):\n\n    Authorization: Bearer {key}\n", file=sys.stderr)
        else:
            print(f"samesay: no SAMESAY_API_KEYS set; using the local key in {where}",
                  file=sys.stderr)
    print(f"samesay: serving on http://{args.host}:{args.port} (docs at /docs)", file=sys.stderr)
    try:  # a listening socket per worker, see app.serving
        serve("app.main:create_app", args.host, args.port, args.workers, settings.log_level)
    except ListenError as error:
        raise SystemExit(f"samesay: {error.strerror}") from None
    return 0
