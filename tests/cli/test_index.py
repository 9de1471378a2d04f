"""`samesay index build|status` and `samesay bench index`, run as the user would."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from store.faq_store import FaqStore
from tests.index.conftest import drafts_from_groups

REPO = Path(__file__).resolve().parents[2]


def samesay(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.slow
def test_index_build_writes_an_index_of_the_store(
    tmp_path: Path, tiny_encoder_path: Path, fixture_groups
) -> None:
    url = f"sqlite:///{tmp_path / 'samesay.db'}"
    store = FaqStore(url)
    store.add(drafts_from_groups(fixture_groups))
    revision = store.revision()
    store.close()
    env = {
        "SAMESAY_DATA_DIR": str(tmp_path),
        "SAMESAY_DATABASE_URL": url,
        "SAMESAY_MODEL_PATH": str(tiny_encoder_path),
    }
    no_model = samesay("index", "build", env={**env, "SAMESAY_MODEL_PATH": str(tmp_path / "x")})
    assert no_model.returncode == 1 and "Traceback" not in no_model.stderr
    nowhere = tmp_path / "typo" / "samesay.db"
    no_store = samesay("index", "build", env={**env, "SAMESAY_DATABASE_URL": f"sqlite:///{nowhere}"})
    assert no_store.returncode == 1 and "no SQLite database at" in no_store.stderr
    assert not nowhere.parent.exists()  # nothing created for the mistyped path

    missing = samesay("index", "status", env=env)
    assert missing.returncode == 1 and "samesay index build" in missing.stdout

    built = samesay("index", "build", env=env)
    assert built.returncode == 0, built.stderr
    assert f"{len(fixture_groups)} entries, {3 * len(fixture_groups)} vectors" in built.stdout
    assert "embedding FAQ entries" in built.stderr  # the progress bar

    status = samesay("index", "status", env=env)
    meta = json.loads(status.stdout)
    assert meta["count"] == 3 * len(fixture_groups) and meta["store_revision"] == revision
    assert (tmp_path / "index" / meta["index_file"]).is_file()


def test_bench_index_prints_a_row_per_kind_and_search_setting() -> None:
    result = samesay(
        "bench", "index", "--sizes", "3k", "--queries", "20", "--nprobe", "4,8",
        "--ef-search", "16", "--dim", "32", env={},
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.strip().startswith("3000")]
    assert [tuple(row[1:3]) + tuple(row[3:5]) for row in rows[1:]] == [
        ("ivf", "76", "nprobe", "4"), ("ivf", "76", "nprobe", "8"), ("hnsw", "-", "efSearch", "16")
    ]
    assert rows[0][1:4] == ["flat", "-", "-"]
    assert all(0.0 <= float(row[-1]) <= 1.0 for row in rows)



def test_index_build_defaults_to_the_model_the_service_serves(
    tmp_path: Path, tiny_encoder_path: Path, fixture_groups, monkeypatch, capsys
) -> None:
    # After a retrain the store names a checkpoint in <data_dir>/models/; the first-start
    # model (<data_dir>/model) is not there at all, so building for it would fail.
    from cli.main import main
    from index.persistence import read_meta

    content_hash = json.loads((tiny_encoder_path / "checkpoint.json").read_text())["content_hash"]
    shutil.copytree(tiny_encoder_path, tmp_path / "models" / content_hash)
    url = f"sqlite:///{tmp_path / 'samesay.db'}"
    store = FaqStore(url)
    store.add(drafts_from_groups(fixture_groups))
    store.set_active_model(content_hash)
    store.close()
    monkeypatch.delenv("SAMESAY_MODEL_PATH", raising=False)
    monkeypatch.setenv("SAMESAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SAMESAY_DATABASE_URL", url)

    assert main(["index", "build"]) == 0, capsys.readouterr().err
    assert f"encoder {content_hash[:12]}" in capsys.readouterr().out
    assert read_meta(tmp_path / "index").encoder_hash == content_hash
