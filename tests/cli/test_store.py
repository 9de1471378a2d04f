"""`samesay import` / `export` / `db` as a user runs them (a real subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from store.entries import FaqDraft
from store.faq_store import FaqStore
from store.migrate import head_revision


def samesay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, timeout=120
    )


def test_import_export_and_db_commands(tmp_path: Path) -> None:
    # One backend suffices: the commands only parse arguments and call store.bulk, which the
    # other tests cover on both; each subprocess pays the CLI's start-up.
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"question": "q1?", "answer": "a1", "alternates": ["x"], "tags": ["t"]}) + "\n"
        + json.dumps({"question": "", "answer": "rejected"}) + "\n",
        encoding="utf-8",
    )
    strict = samesay("import", str(source), "--strict", "--no-progress",
                     "--database-url", database_url)
    assert strict.returncode == 1, strict.stderr
    assert "line 2: question: must not be empty" in strict.stderr
    assert "nothing imported" in strict.stderr

    lenient = samesay("import", str(source), "--no-progress", "--database-url", database_url)
    assert lenient.returncode == 0, lenient.stderr
    assert "imported 1, rejected 1" in lenient.stderr

    exported = tmp_path / "out.csv"
    result = samesay("export", str(exported), "--no-progress", "--database-url", database_url)
    assert result.returncode == 0, result.stderr
    assert "exported 1 entries" in result.stdout
    header = exported.read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,question,answer,alternates,tags"

    current = samesay("db", "current", "--database-url", database_url)
    assert current.returncode == 0 and f"database: {head_revision()}" in current.stdout
    missing = samesay("import", str(tmp_path / "nope.jsonl"), "--database-url", database_url)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    store = FaqStore(database_url)
    try:
        assert [e.question for e in store.iter_entries()] == ["q1?"]
    finally:
        store.close()


def test_export_fails_in_one_line_on_a_target_it_cannot_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    FaqStore(database_url).close()
    target = tmp_path / "out"
    target.mkdir()
    argv = ["export", str(target), "--format", "jsonl", "--no-progress"]
    assert main([*argv, "--database-url", database_url]) == 1
    assert capsys.readouterr().err == f"export failed: cannot write {target}: Is a directory\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_read_only_commands_refuse_a_missing_sqlite_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opening a store creates a missing SQLite file: export and `db current` must not, or a
    # mistyped path "exports 0 entries" and leaves an empty database behind.
    missing = tmp_path / "nowhere" / "x.db"
    url = f"sqlite:///{missing}"
    out = tmp_path / "out.jsonl"
    assert main(["export", str(out), "--no-progress", "--database-url", url]) == 1
    assert capsys.readouterr().err == f"export failed: no SQLite database at {missing.resolve()}\n"
    assert main(["db", "current", "--database-url", url]) == 1
    assert "db current failed: no SQLite database at" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)  # the default: samesay-data/ in the working directory
    monkeypatch.delenv("SAMESAY_DATABASE_URL", raising=False)
    monkeypatch.delenv("SAMESAY_DATA_DIR", raising=False)
    assert main(["export", str(out), "--no-progress"]) == 1
    assert "samesay-data/samesay.db" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_import_update_and_delete_missing_as_a_user_runs_them(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = FaqStore(database_url)
    try:
        first, second = store.add([FaqDraft("q1?", "a1"), FaqDraft("q2?", "a2")])
    finally:
        store.close()
    edited = tmp_path / "edited.jsonl"
    edited.write_text(
        json.dumps({"id": first.id, "question": "q1?", "answer": "a1, edited"}) + "\n"
        + json.dumps({"question": "q3?", "answer": "a3"}) + "\n",
        encoding="utf-8",
    )
    alone = samesay("import", str(edited), "--delete-missing", "--database-url", database_url)
    assert alone.returncode == 2 and "--delete-missing needs --update" in alone.stderr
    synced = samesay("import", str(edited), "--update", "--delete-missing", "--no-progress",
                     "--database-url", database_url)
    assert synced.returncode == 0, synced.stderr
    assert "added 1, updated 1, unchanged 0, deleted 1, rejected 0" in synced.stdout
    store = FaqStore(database_url)
    try:
        assert [(e.id, e.answer) for e in store.iter_entries()] == [
            (first.id, "a1, edited"), (second.id + 1, "a3"),
        ]
    finally:
        store.close()
