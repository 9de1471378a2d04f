"""Bulk import and export of FAQ entries as JSONL or CSV/TSV, with progress and a row report.

File formats (chosen by extension .jsonl/.ndjson, .csv, .tsv, or explicitly):
- JSONL: one object per line: {"question": str, "answer": str, "alternates": [str],
  "tags": [str]}; blank lines are skipped.
- CSV/TSV: a header row naming the columns question, answer and optionally alternates, tags.
  An alternates/tags cell is either a JSON list (`["a", "b|c"]`) or `|`-separated (`a|b`);
  an empty cell is an empty list. Export always writes JSON lists, so any text round-trips.
Columns/keys `id`, `created_at`, `updated_at` (what export writes) and `revision` (what the
API's FAQ bodies add) are accepted and ignored: imported entries always get new ids. Any other
unknown key rejects the row (JSONL) or the file (CSV header), so a typo like "alternate"
cannot silently drop data.

With `update=True` a file can be edited and imported back (export, edit in a spreadsheet,
import): a row with an `id` replaces that entry (a row equal to the stored entry writes
nothing), a row with no id or an empty one is added, and an id this store does not have
rejects the row. `delete_missing=True` (with update) also deletes every entry whose id the
file does not name, so the file becomes the whole FAQ set; it stores nothing if any row is
rejected, since a rejected row's entry would otherwise be deleted as missing.

Import is one transaction: either every accepted row is stored or none is. Rows that fail
validation are listed in the report with their line number and reason; by default the valid
rows are still stored (`strict=False`); with `strict=True` any rejected row stores nothing and
raises ImportRejected carrying the report.

Export writes one snapshot to a temp file beside the target and renames it over the target;
a target it cannot write (a directory, an impossible path) raises StoreError, leaving no
temp file and any previous file untouched.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from store.entries import MAX_FAQ_ID, FaqDraft, FaqEntry
from store.errors import FaqValidationError, ImportFormatError, ImportRejected, StoreError
from store.faq_store import FaqStore
from store.files import atomic_write

Format = Literal["jsonl", "csv", "tsv"]
FIELDS = ("question", "answer", "alternates", "tags")
IGNORED_FIELDS = ("id", "created_at", "updated_at", "revision")
_EXTENSIONS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
                                  ".tsv": "tsv"}
# A CSV cell may hold a 20,000-character answer plus quoting; the csv default is 128 KiB.
_CSV_FIELD_LIMIT = 16 * 1024 * 1024


@dataclass(frozen=True)
class RejectedRow:
    line: int  # 1-based line where the row starts in the file
    field: str | None  # the offending field, when one is to blame
    reason: str


@dataclass
class ImportReport:
    path: str
    format: Format
    strict: bool
    rows_read: int = 0
    ids: list[int] = field(default_factory=list)  # ids of the added entries, in file order
    rejected: list[RejectedRow] = field(default_factory=list)
    revision: int | None = None  # store revision of the import transaction (None: nothing)
    update: bool = False
    updated: list[int] = field(default_factory=list)  # update: entries replaced
    unchanged: int = 0  # update: rows equal to their stored entry
    deleted: list[int] = field(default_factory=list)  # delete_missing: entries deleted

    @property
    def imported(self) -> int:
        return len(self.ids)

    def summary(self) -> str:
        if self.update:
            counts = (
                f"added {self.imported}, updated {len(self.updated)}, unchanged "
                f"{self.unchanged}, deleted {len(self.deleted)}"
            )
        else:
            counts = f"imported {self.imported}"
        lines = [
            f"{self.path}: read {self.rows_read} row(s), {counts}, rejected {len(self.rejected)}"
        ]
        lines += [
            f"  line {row.line}: {row.field + ': ' if row.field else ''}{row.reason}"
            for row in self.rejected
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class ExportReport:
    path: str
    format: Format
    count: int
    revision: int  # store revision the export is consistent with


def detect_format(path: Path, explicit: str | None = None) -> Format:
    if explicit:
        if explicit not in ("jsonl", "csv", "tsv"):
            raise ImportFormatError(f"unknown format {explicit!r}: use jsonl, csv or tsv")
        return explicit  # type: ignore[return-value]
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise ImportFormatError(
            f"cannot tell the format of {path.name!r} from its extension: "
            "use .jsonl, .csv or .tsv, or pass the format explicitly"
        ) from None


def import_file(
    store: FaqStore,
    path: Path,
    *,
    format: str | None = None,
    strict: bool = False,
    progress: bool = True,
    update: bool = False,
    delete_missing: bool = False,
) -> ImportReport:
    """Validate every row, then store the accepted ones in one transaction (see module doc)."""
    if delete_missing and not update:
        raise ValueError("delete_missing needs update: without ids every entry is missing")
    path = Path(path)
    file_format = detect_format(path, format)
    strict = strict or delete_missing
    report = ImportReport(str(path), file_format, strict, update=update)
    drafts: list[FaqDraft] = []
    replacements: dict[int, tuple[int, FaqDraft]] = {}  # id -> (line, draft)
    with tqdm(desc=f"reading {path.name}", unit=" rows", disable=not progress) as bar:
        for line, row in read_rows(path, file_format):
            report.rows_read += 1
            bar.update()
            try:
                faq_id = _row_id(row, replacements) if update else None
                draft = _draft(row)
            except FaqValidationError as error:
                report.rejected.append(RejectedRow(line, error.field, error.message))
                continue
            if faq_id is None:
                drafts.append(draft)
            else:
                replacements[faq_id] = (line, draft)
    known = store.exists(replacements)
    for faq_id, (line, _) in list(replacements.items()):
        if faq_id not in known:
            del replacements[faq_id]
            reason = f"no FAQ with id {faq_id} in this store (leave id empty to add the row)"
            report.rejected.append(RejectedRow(line, "id", reason))
    report.rejected.sort(key=lambda row: row.line)
    if strict and report.rejected:
        raise ImportRejected(report)
    if not update and drafts:
        with tqdm(total=len(drafts), desc="storing", unit=" entries", disable=not progress) as bar:
            added = store.add_batch(drafts, on_progress=bar.update)
        report.ids, report.revision = [entry.id for entry in added.entries], added.revision
    elif update:
        total = None if delete_missing else len(drafts) + len(replacements)
        with tqdm(total=total, desc="storing", unit=" entries", disable=not progress) as bar:
            synced = store.sync(
                drafts, {faq_id: draft for faq_id, (_, draft) in replacements.items()},
                delete_others=delete_missing, on_progress=bar.update,
            )
        report.ids = [entry.id for entry in synced.added]
        report.updated, report.deleted = synced.updated, synced.deleted
        report.unchanged, report.revision = len(synced.unchanged), synced.revision
    return report


def _row_id(row: dict[str, Any], seen: dict[int, tuple[int, FaqDraft]]) -> int | None:
    """An update row's FAQ id: None (no id, or an empty cell) adds the row as a new FAQ."""
    value = row.get("id")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.isascii() and text.isdecimal():
        text = int(text)
    if isinstance(text, bool) or not isinstance(text, int) or not 1 <= text <= MAX_FAQ_ID:
        raise FaqValidationError("id", "must be an FAQ id (a whole number from 1) or empty")
    if text in seen:
        raise FaqValidationError("id", f"FAQ {text} is already on line {seen[text][0]}")
    return text


def read_rows(path: Path, file_format: Format) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, raw row) pairs; a row that cannot even be parsed becomes a dict with the
    key "__error__" so that the caller reports it like any other rejected row."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            if file_format == "jsonl":
                yield from _jsonl_rows(handle)
            else:
                yield from _csv_rows(handle, "\t" if file_format == "tsv" else ",")
    except UnicodeDecodeError as error:
        raise ImportFormatError(f"{path.name} is not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise ImportFormatError(f"cannot read {path}: {error.strerror or error}") from None


def _jsonl_rows(handle: io.TextIOBase) -> Iterator[tuple[int, dict[str, Any]]]:
    for line_number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            # Without its line ending: an unterminated string would end in a newline, and
            # the decoder would blame that "control character" instead.
            value = json.loads(line.rstrip("\r\n"))
        except ValueError as error:
            yield line_number, {"__error__": f"not valid JSON: {error}"}
            continue
        if not isinstance(value, dict):
            yield line_number, {"__error__": "each line must be a JSON object"}
            continue
        yield line_number, value


def _csv_rows(handle: io.TextIOBase, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise ImportFormatError(f"bad CSV header: {error}") from None
    columns = [name.strip().lower() for name in header]
    unknown = [c for c in columns if c not in FIELDS and c not in IGNORED_FIELDS]
    missing = [c for c in ("question", "answer") if c not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        raise ImportFormatError(
            f"CSV header must name question, answer and optionally alternates, tags "
            f"(got {header}; unknown {unknown}, missing {missing})"
        )
    line_number = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The reader cannot resynchronise after a malformed record: the file is broken.
            raise ImportFormatError(f"line {line_number}: malformed CSV: {error}") from None
        start, line_number = line_number, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if len(cells) != len(columns):
            yield start, {"__error__": f"expected {len(columns)} cells, got {len(cells)}"}
            continue
        row: dict[str, Any] = dict(zip(columns, cells, strict=True))
        for name in ("alternates", "tags"):
            if name in row:
                row[name] = _split_list_cell(row[name])
        yield start, row


def _split_list_cell(cell: str) -> list[str] | str:
    text = cell.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return value  # element types are checked by FaqDraft
    return [part for part in (p.strip() for p in text.split("|")) if part]


def _draft(row: dict[str, Any]) -> FaqDraft:
    if "__error__" in row:
        raise FaqValidationError("row", row["__error__"])
    unknown = sorted(k for k in row if k not in FIELDS and k not in IGNORED_FIELDS)
    if unknown:
        raise FaqValidationError(unknown[0], "unknown field (expected " + ", ".join(FIELDS) + ")")
    for required in ("question", "answer"):
        if required not in row:
            raise FaqValidationError(required, "missing")
    return FaqDraft(row["question"], row["answer"], row.get("alternates"), row.get("tags"))


def export_file(
    store: FaqStore, path: Path, *, format: str | None = None, progress: bool = True
) -> ExportReport:
    """Write every entry (one consistent snapshot) atomically: temp file, fsync, rename."""
    path = Path(path)
    file_format = detect_format(path, format)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        count, revision = _write_export(store, path, file_format, progress)
    except OSError as error:
        # A directory, an unwritable or impossible path, a full disk: a typed error the CLI
        # reports in one line. atomic_write has already removed its temp file.
        raise StoreError(f"cannot write {path}: {error.strerror or error}") from None
    return ExportReport(str(path), file_format, count, revision)


def _write_export(
    store: FaqStore, path: Path, file_format: Format, progress: bool
) -> tuple[int, int]:
    """(entries written, store revision) for one snapshot written atomically to `path`."""
    count = 0
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        write_row = _row_writer(handle, file_format)
        with store.snapshot() as snapshot, tqdm(
            total=snapshot.count, desc=f"exporting {path.name}", unit=" entries",
            disable=not progress,
        ) as bar:
            for entry in snapshot.entries():
                write_row(entry)
                count += 1
                bar.update()
            revision = snapshot.revision
    return count, revision


def _row_writer(handle: io.TextIOBase, file_format: Format):  # noqa: ANN202
    if file_format == "jsonl":
        def write_jsonl(entry: FaqEntry) -> None:
            handle.write(json.dumps(_export_record(entry), ensure_ascii=False) + "\n")
        return write_jsonl
    writer = csv.writer(handle, delimiter="\t" if file_format == "tsv" else ",",
                        lineterminator="\n")
    writer.writerow(["id", *FIELDS])

    def write_csv(entry: FaqEntry) -> None:
        writer.writerow([
            entry.id, entry.question, entry.answer,
            json.dumps(list(entry.alternates), ensure_ascii=False),
            json.dumps(list(entry.tags), ensure_ascii=False),
        ])
    return write_csv


def _export_record(entry: FaqEntry) -> dict[str, Any]:
    return {
        **entry.to_record(),
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
    }
