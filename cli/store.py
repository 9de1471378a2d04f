"""`samesay import`, `samesay export`, `samesay db upgrade|current` and `samesay bench store`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.arguments import configured_database_url, database_url, positive_int


def add_commands(commands: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    importer = commands.add_parser(
        "import",
        help="add FAQ entries from a JSONL/CSV/TSV file (one transaction, rejected rows reported)",
        description="Rows failing validation are reported with their line numbers; the valid "
        "rows are stored in one transaction unless --strict, which then stores nothing. "
        "CSV/TSV: header question,answer[,alternates,tags]; list cells as JSON lists or "
        "'|'-separated.",
    )
    importer.add_argument("file", type=Path, help="a .jsonl, .csv or .tsv file")
    _add_common(importer)
    importer.add_argument(
        "--strict", action="store_true", help="store nothing if any row is rejected (exit 1)"
    )
    importer.add_argument(
        "--update", action="store_true",
        help="a row with an id (as export writes) replaces that FAQ; a row without one is "
        "added: export, edit, import back",
    )
    importer.add_argument(
        "--delete-missing", action="store_true",
        help="with --update: also delete every FAQ whose id is not in the file (the file "
        "becomes the whole FAQ set); implies --strict",
    )
    importer.set_defaults(func=_import)

    exporter = commands.add_parser(
        "export", help="write every FAQ entry to a JSONL/CSV/TSV file that import reads back"
    )
    exporter.add_argument("file", type=Path, help="a .jsonl, .csv or .tsv file (replaced)")
    _add_common(exporter)
    exporter.set_defaults(func=_export)

    database = commands.add_parser("db", help="database schema: show or upgrade its version")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    for name, help_text, func in (
        ("upgrade", "migrate the database schema to this version's head", _db_upgrade),
        ("current", "print the database's and this code's schema revisions", _db_current),
    ):
        command = database_commands.add_parser(name, help=help_text)
        command.add_argument(
            "--database-url", type=database_url, help="SQLAlchemy URL (default: settings)"
        )
        command.set_defaults(func=func)

    bench_store = bench.add_parser(
        "store", help="FAQ write throughput (single adds, batches, threads) and changes_since"
    )
    bench_store.add_argument(
        "--database-url", type=database_url, help="SQLAlchemy URL (default: temp SQLite file)"
    )
    bench_store.add_argument(
        "--entries", type=positive_int, default=2000, help="entries per phase"
    )
    bench_store.add_argument(
        "--threads", type=positive_int, default=4, help="concurrent writer threads"
    )
    bench_store.set_defaults(func=_bench)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=("jsonl", "csv", "tsv"), help="default: from the file extension"
    )
    parser.add_argument(
        "--database-url", type=database_url, help="SQLAlchemy URL (default: settings)"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return args.database_url
    from app.config import Settings  # lazily: settings are read only when a command runs

    return configured_database_url(Settings().resolved_database_url)


def _import(args: argparse.Namespace) -> int:
    from store.bulk import import_file
    from store.errors import ImportRejected, StoreError
    from store.faq_store import FaqStore

    if args.delete_missing and not args.update:
        print("import: --delete-missing needs --update (rows name FAQs by id)", file=sys.stderr)
        return 2
    try:
        store = FaqStore(_database_url(args))
        try:
            report = import_file(
                store, args.file, format=args.format, strict=args.strict,
                progress=not args.no_progress, update=args.update,
                delete_missing=args.delete_missing,
            )
        finally:
            store.close()
    except ImportRejected as refused:
        print(refused.report.summary(), file=sys.stderr)
        flag = "--delete-missing" if args.delete_missing else "--strict"
        print(f"nothing imported ({flag})", file=sys.stderr)
        return 1
    except StoreError as error:
        print(f"import failed: {error}", file=sys.stderr)
        return 1
    print(report.summary(), file=sys.stderr if report.rejected else sys.stdout)
    return 0


def _export(args: argparse.Namespace) -> int:
    from store.bulk import export_file
    from store.engine import require_existing_database
    from store.errors import StoreError
    from store.faq_store import FaqStore

    try:
        # Read-only: a mistyped path must fail, not export an empty store created for it.
        database_url = _database_url(args)
        require_existing_database(database_url)
        store = FaqStore(database_url)
        try:
            report = export_file(store, args.file, format=args.format,
                                 progress=not args.no_progress)
        finally:
            store.close()
    except StoreError as error:
        print(f"export failed: {error}", file=sys.stderr)
        return 1
    print(f"{report.path}: exported {report.count} entries at store revision {report.revision}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from store.errors import StoreError
    from store.faq_store import FaqStore

    try:
        FaqStore(_database_url(args), upgrade=True).close()
    except StoreError as error:
        print(f"upgrade refused: {error}", file=sys.stderr)
        return 1
    from store.migrate import head_revision

    print(f"schema at {head_revision()}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import InterfaceError, OperationalError

    from store.engine import create_store_engine, require_existing_database
    from store.errors import StoreError
    from store.migrate import current_revision, head_revision
    from store.transactions import unavailable_reason

    try:
        url = _database_url(args)
        require_existing_database(url)  # a look must not create the database
        engine = create_store_engine(url)
    except StoreError as error:
        print(f"db current failed: {error}", file=sys.stderr)
        return 1
    try:
        revision = current_revision(engine)
    except (OperationalError, InterfaceError) as error:  # as FaqStore reports it to db upgrade
        print(f"db current failed: {unavailable_reason(error)}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"database: {revision or 'empty'}; this Samesay: {head_revision()}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from bench.store import run_store_bench
    from store.errors import StoreError

    try:
        run_store_bench(args.database_url, entries=args.entries, threads=args.threads)
    except StoreError as error:
        print(f"bench store failed: {error}", file=sys.stderr)
        return 1
    return 0
