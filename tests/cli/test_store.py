"""`samesay import` / `export` / `db` as a user runs them (a real subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

from store.faq_store import FaqStore


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
    assert current.returncode == 0 and "database: 0001" in current.stdout
    missing = samesay("import", str(tmp_path / "nope.jsonl"), "--database-url", database_url)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    store = FaqStore(database_url)
    try:
        assert [e.question for e in store.iter_entries()] == ["q1?"]
    finally:
        store.close()
