"""Bulk import/export: formats, rejected-row report, strictness, atomicity, round trip."""

import csv
import json
import re
from pathlib import Path

import pytest

from store.bulk import ImportFormatError, export_file, import_file, read_rows
from store.entries import FaqDraft
from store.errors import ImportRejected, StoreError
from store.faq_store import FaqStore
from store.visible import INVISIBLE_ONLY

ROWS = [
    {"question": "How do I reset my password?", "answer": "Use the reset link.",
     "alternates": ["forgot password", "password | reset"], "tags": ["account"]},
    {"question": "Where is my parcel?", "answer": "Track it under Orders.\nLine two, \"quoted\"."},
    {"question": "退货政策是什么？", "answer": "30 天内可退货。", "alternates": ["怎么退货"],
     "tags": ["售后", "orders"]},
]


def write_jsonl(path: Path, rows: list, extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def stored(store: FaqStore) -> list[tuple]:
    return [(e.question, e.answer, e.alternates, e.tags) for e in store.iter_entries()]


def test_jsonl_import_reports_rejected_rows_with_line_numbers(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "faq.jsonl", ROWS, (
        "",  # blank: skipped, still counted as a line
        '{"question": "   ", "answer": "blank question"}',
        "not json",
        '{"question": "q?", "answer": "a", "alternate": ["typo"]}',
        '["a list"]',
        '{"question": "q?", "answer": "a", "tags": "not-a-list"}',
        '{"answer": "no question"}',
    ))
    report = import_file(faq_store, path, progress=False)
    assert report.imported == 3 and report.rows_read == 9
    assert [(r.line, r.field) for r in report.rejected] == [
        (5, "question"), (6, "row"), (7, "alternate"), (8, "row"), (9, "tags"), (10, "question"),
    ]
    assert "line 7: alternate: unknown field" in report.summary()
    assert stored(faq_store) == [
        ("How do I reset my password?", "Use the reset link.",
         ("forgot password", "password | reset"), ("account",)),
        ("Where is my parcel?", "Track it under Orders.\nLine two, \"quoted\".", (), ()),
        ("退货政策是什么?", "30 天内可退货。", ("怎么退货",), ("售后", "orders")),  # NFKC: ？→?
    ]
    assert report.revision == faq_store.revision() == 1  # one transaction, one revision
    assert report.ids == [e.id for e in faq_store.iter_entries()]


def test_a_truncated_jsonl_line_is_reported_as_unterminated(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    # The line's newline used to be parsed with it: "Invalid control character" instead.
    path = write_jsonl(tmp_path / "faq.jsonl", ROWS[:1], ('{"question": "broken json',))
    [rejected] = import_file(faq_store, path, progress=False).rejected
    assert rejected.line == 2 and "Unterminated string" in rejected.reason


def test_strict_import_stores_nothing_when_a_row_is_rejected(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "faq.jsonl", ROWS, ('{"question": "q?", "answer": ""}',))
    with pytest.raises(ImportRejected) as caught:
        import_file(faq_store, path, strict=True, progress=False)
    assert [(r.line, r.field) for r in caught.value.report.rejected] == [(4, "answer")]
    assert faq_store.count() == 0 and faq_store.revision() == 0


def test_import_is_all_or_nothing_when_the_write_fails(
    faq_store: FaqStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faq_store.add([FaqDraft("existing?", "yes")])
    path = write_jsonl(tmp_path / "faq.jsonl", ROWS * 800)  # several insert chunks

    calls = 0

    def fail_on_second_chunk(n: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full, say")

    real_add_batch = FaqStore.add_batch
    monkeypatch.setattr(
        FaqStore, "add_batch",
        lambda self, drafts, on_progress=None: real_add_batch(
            self, drafts, on_progress=fail_on_second_chunk
        ),
    )
    with pytest.raises(RuntimeError):
        import_file(faq_store, path, progress=False)
    assert stored(faq_store) == [("existing?", "yes", (), ())]
    assert faq_store.revision() == 1


def test_import_rejects_invisible_only_text_like_blank_text(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    # What `samesay import` runs: zero-width spaces or a BOM are no question, no tag.
    path = write_jsonl(tmp_path / "faq.jsonl", [
        ROWS[1],
        {"question": "\u200b\u200b", "answer": "a"},
        {"question": "q?", "answer": "a", "tags": ["\ufeff"]},
    ])
    report = import_file(faq_store, path, progress=False)
    assert [(r.line, r.field, r.reason) for r in report.rejected] == [
        (2, "question", INVISIBLE_ONLY), (3, "tags[0]", INVISIBLE_ONLY),
    ]
    assert [e.question for e in faq_store.iter_entries()] == [ROWS[1]["question"]]


@pytest.mark.parametrize("field", ["alternates", "tags"])
def test_jsonl_rejects_an_object_where_a_list_is_expected(
    faq_store: FaqStore, tmp_path: Path, field: str
) -> None:
    # FaqDraft takes any iterable: an object's keys must not become alternates or tags.
    path = write_jsonl(
        tmp_path / "faq.jsonl",
        [
            ROWS[1],
            {"question": "q9?", "answer": "a", field: {"obj key one": 1, "obj key two": 2}},
        ],
    )
    report = import_file(faq_store, path, progress=False)
    assert [(r.line, r.field, r.reason) for r in report.rejected] == [
        (2, field, "must be a list of strings"),
    ]
    assert [e.question for e in faq_store.iter_entries()] == [ROWS[1]["question"]]
    with pytest.raises(ImportRejected):
        import_file(faq_store, path, strict=True, progress=False)
    assert faq_store.count() == 1


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_csv_accepts_pipe_or_json_lists(faq_store: FaqStore, tmp_path: Path, suffix: str) -> None:
    sep = "," if suffix == ".csv" else "\t"
    text = sep.join(["Question", "answer", "alternates", "tags"]) + "\n"
    text += sep.join(['"Multi\nline?"', "a1", "x | y|", "t1|t2"]) + "\n"
    text += sep.join(["q2?", "a2", '"[""has | pipe"", ""z""]"', ""]) + "\n"
    text += "\n"
    text += sep.join(["", "no question", "", ""]) + "\n"
    text += sep.join(["too", "many", "cells", "here", "!"]) + "\n"
    path = tmp_path / f"faq{suffix}"
    path.write_text(text, encoding="utf-8")
    report = import_file(faq_store, path, progress=False)
    assert [(r.line, r.field) for r in report.rejected] == [(6, "question"), (7, "row")]
    assert stored(faq_store) == [
        ("Multi\nline?", "a1", ("x", "y"), ("t1", "t2")),
        ("q2?", "a2", ("has | pipe", "z"), ()),
    ]


def test_file_level_errors_are_typed(faq_store: FaqStore, tmp_path: Path) -> None:
    bad_header = tmp_path / "bad.csv"
    bad_header.write_text("question,answr\nq,a\n", encoding="utf-8")
    not_utf8 = tmp_path / "latin1.jsonl"
    not_utf8.write_bytes('{"question": "caf\xe9?", "answer": "a"}\n'.encode("latin-1"))
    for path in (bad_header, not_utf8, tmp_path / "faq.xlsx", tmp_path / "missing.jsonl"):
        with pytest.raises(ImportFormatError):
            import_file(faq_store, path, progress=False)
    assert faq_store.count() == 0


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv"])
def test_export_then_import_round_trips(
    faq_store: FaqStore, other_database_url: str, tmp_path: Path, suffix: str
) -> None:
    tricky = [
        FaqDraft("Tabs\tand, commas; \"quotes\"?", "Line one\nline two\r\nthree", ["a|b", "[x]"],
                 ["tag|pipe", "标签"]),
        FaqDraft("Emoji 🙂?", "Yes 🙂", [f"alt {i}" for i in range(100)]),
        FaqDraft("Plain?", "Plain."),
    ]
    faq_store.add(tricky)
    path = tmp_path / f"export{suffix}"
    report = export_file(faq_store, path, progress=False)
    assert report.count == 3 and report.revision == 1
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    target = FaqStore(other_database_url)
    try:
        imported = import_file(target, path, progress=False)
        assert imported.rejected == [] and stored(target) == stored(faq_store)
    finally:
        target.close()


def test_export_then_import_into_the_same_store_duplicates_with_new_ids(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    faq_store.add([FaqDraft("q|1?", "a,1", ["x\ty"], ["t"]), FaqDraft("q2?", "a2")])
    before = stored(faq_store)
    path = tmp_path / "export.csv"
    export_file(faq_store, path, progress=False)
    report = import_file(faq_store, path, progress=False)
    assert report.rejected == [] and report.imported == 2
    assert stored(faq_store) == before + before
    assert min(report.ids) > max(e.id for e in faq_store.list_page(limit=2).entries)


def test_export_to_a_path_it_cannot_write_raises_store_error_and_leaves_no_temp(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    faq_store.add([FaqDraft("q?", "a")])
    directory = tmp_path / "a-dir"
    directory.mkdir()
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("kept", encoding="utf-8")
    for target in (directory, a_file / "under-a-file.jsonl"):
        with pytest.raises(StoreError, match=f"^cannot write {re.escape(str(target))}: "):
            export_file(faq_store, target, format="jsonl", progress=False)
    assert not list(tmp_path.rglob("*.tmp")) and not list(directory.iterdir())
    assert a_file.read_text(encoding="utf-8") == "kept"


def test_entries_as_the_api_returns_them_import_with_their_extra_keys_ignored(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    """A JSONL dump of GET /faq pages (id, timestamps, revision) imports as new entries; a key
    that is none of those is still refused."""
    api_row = {**ROWS[0], "id": 12, "created_at": "2026-01-01T00:00:00+00:00",
               "updated_at": "2026-01-02T00:00:00+00:00", "revision": 41}
    path = write_jsonl(tmp_path / "dump.jsonl", [api_row, {**ROWS[1], "revison": 3}])
    report = import_file(faq_store, path, progress=False)
    assert [(r.line, r.field) for r in report.rejected] == [(2, "revison")]
    assert [e.question for e in faq_store.iter_entries()] == [ROWS[0]["question"]]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_export_edited_and_imported_with_update_changes_entries_in_place(
    faq_store: FaqStore, tmp_path: Path, suffix: str
) -> None:
    kept, edited, gone = faq_store.add(
        [FaqDraft("Kept?", "As is."), FaqDraft("Edit me?", "Old."), FaqDraft("Gone?", "Bye.")]
    )
    path = tmp_path / f"export{suffix}"
    export_file(faq_store, path, progress=False)
    rows = [row for _, row in read_rows(path, suffix.lstrip("."))]
    rows[1] = {**rows[1], "answer": "New.", "alternates": ["edited"]}
    del rows[2]
    rows.append({"id": "", "question": "Brand new?", "answer": "Added."})
    _write(path, rows)
    revision = faq_store.revision()

    report = import_file(faq_store, path, progress=False, update=True)
    assert report.rejected == [] and report.revision == revision + 1
    assert (report.updated, report.unchanged, report.deleted) == ([edited.id], 1, [])
    assert report.summary().endswith("added 1, updated 1, unchanged 1, deleted 0, rejected 0")
    entries = {e.id: e for e in faq_store.iter_entries()}
    assert entries[edited.id].answer == "New." and entries[edited.id].alternates == ("edited",)
    assert entries[kept.id] == kept  # equal rows write nothing, not even updated_at
    assert entries[gone.id].question == "Gone?"  # without --delete-missing nothing goes
    assert entries[report.ids[0]].question == "Brand new?"

    rows[-1]["id"] = report.ids[0]  # as a new export would now write it
    _write(path, rows)
    again = import_file(faq_store, path, progress=False, update=True, delete_missing=True)
    assert (again.ids, again.updated, again.deleted) == ([], [], [gone.id])
    assert gone.id not in {e.id for e in faq_store.iter_entries()}
    assert faq_store.changes_since(revision + 1).deleted == [gone.id]


def _write(path: Path, rows: list[dict]) -> None:
    if path.suffix == ".jsonl":
        write_jsonl(path, rows)
        return
    fields = ["id", "question", "answer", "alternates", "tags"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        for row in rows:
            writer.writerow(
                [json.dumps(row.get(f, [])) if f in ("alternates", "tags") else row.get(f, "")
                 for f in fields]
            )


def test_update_rejects_unknown_repeated_and_unreadable_ids(
    faq_store: FaqStore, tmp_path: Path
) -> None:
    [entry] = faq_store.add([FaqDraft("Q?", "A.")])
    rows = [
        {"id": entry.id, "question": "Q?", "answer": "B."},
        {"id": 999, "question": "Elsewhere?", "answer": "x"},
        {"id": str(entry.id), "question": "Q again?", "answer": "C."},
        {"id": "7b", "question": "Typo?", "answer": "x"},
        {"id": True, "question": "Bool?", "answer": "x"},
    ]
    path = write_jsonl(tmp_path / "edit.jsonl", rows)
    report = import_file(faq_store, path, progress=False, update=True)
    assert [(r.line, r.field) for r in report.rejected] == [
        (2, "id"), (3, "id"), (4, "id"), (5, "id"),
    ]
    assert "no FAQ with id 999 in this store" in report.rejected[0].reason
    assert report.rejected[1].reason == f"FAQ {entry.id} is already on line 1"
    assert faq_store.get(entry.id).answer == "B." and faq_store.count() == 1
    # Deleting what the file leaves out is never done over a rejected row (whose entry would
    # go as "missing"): the whole import is refused.
    with pytest.raises(ImportRejected):
        import_file(faq_store, path, progress=False, update=True, delete_missing=True)
    assert faq_store.get(entry.id).answer == "B." and faq_store.count() == 1


def test_without_update_ids_are_ignored_as_before(faq_store: FaqStore, tmp_path: Path) -> None:
    [entry] = faq_store.add([FaqDraft("Q?", "A.")])
    path = write_jsonl(tmp_path / "f.jsonl", [{"id": entry.id, "question": "Q?", "answer": "B."}])
    report = import_file(faq_store, path, progress=False)
    assert report.imported == 1 and faq_store.count() == 2
    assert faq_store.get(entry.id).answer == "A."
