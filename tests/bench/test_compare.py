"""`samesay bench compare`: commit resolution, run order, CLI module discovery, the summary.

The runs themselves are `bench service` (tested in test_service.py); here a fake report
stands in for each run so that the medians and ratios are checked exactly.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bench import compare
from bench.compare import Revision, cli_module, resolve, run_order, summarise
from bench.config import BenchError

# The container image has no git (bench compare is a developer's tool, run from a checkout);
# CI's host run, which has it, runs these.
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q")
    for name in ("one", "two"):
        (path / f"{name}.txt").write_text(name)
        _git(path, "add", ".")
        _git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"commit {name}")
    return path


def test_resolve_gives_full_hashes_and_subjects(repo: Path) -> None:
    first, second = resolve(repo, ["HEAD~1", "HEAD"])
    assert first.commit == _git(repo, "rev-parse", "HEAD~1") and len(first.commit) == 40
    assert (first.subject, second.subject) == ("commit one", "commit two")
    with pytest.raises(BenchError, match="not a commit"):
        resolve(repo, ["no-such-branch"])


def test_runs_alternate_between_commits() -> None:
    a, b = Revision("a", "a" * 40, ""), Revision("b", "b" * 40, "")
    assert [r.name for r in run_order([a, b], 3)] == ["a", "b", "a", "b", "a", "b"]


def test_cli_module_follows_the_layout_move(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "cli.py").write_text("")
    assert cli_module(tmp_path) == "app.cli"  # before the move into cli/
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "main.py").write_text("")
    assert cli_module(tmp_path) == "cli.main"
    with pytest.raises(BenchError, match="no samesay CLI"):
        cli_module(tmp_path / "cli")


def _report(rps: float, cpu: float) -> dict:
    return {
        "runs": [
            {
                "latency": {"p50_ms": 1.0, "p99_ms": 3.0, "server_cpu_ms_per_request": cpu},
                "throughput": {"rps": rps, "server_cpu_ms_per_request": cpu, "errors": 0},
            }
        ]
    }


def test_summary_gives_medians_and_ratios_to_the_first_commit() -> None:
    base, head = Revision("base", "a" * 40, ""), Revision("head", "b" * 40, "")
    reports = {
        base.commit: [_report(1000, 2.0), _report(1200, 1.8), _report(1100, 1.9)],
        head.commit: [_report(500, 4.0), _report(600, 3.6), _report(550, 3.8)],
    }
    rows = summarise([base, head], reports)
    rps = {row["revision"]: row["metrics"]["32-client req/s"] for row in rows}
    assert rps["base"]["median"] == 1100 and rps["base"]["ratio"] == 1.0
    assert rps["head"]["median"] == 550 and rps["head"]["ratio"] == 0.5
    cpu = rows[1]["metrics"]["1-client cpu ms/req"]
    assert cpu["runs"] == [4.0, 3.6, 3.8] and cpu["ratio"] == pytest.approx(2.0)
    errors = rows[1]["metrics"]["32-client errors"]
    assert errors["median"] == 0 and errors["ratio"] is None  # no ratio to a zero baseline


def test_compare_needs_two_commits(repo: Path) -> None:
    with pytest.raises(BenchError, match="at least two"):
        compare.compare(repo, ["HEAD"], 1, [], repo, None)


FAKE_CLI = '''
import json, pathlib, sys
args = sys.argv[1:]
assert args[:2] == ["bench", "service"], args
out = pathlib.Path(args[args.index("--out") + 1])
rps = float(pathlib.Path(__file__).parent.parent.joinpath("rps.txt").read_text())
run = {"latency": {"p50_ms": 1000 / rps}, "throughput": {"rps": rps, "errors": 0}}
out.write_text(json.dumps({"runs": [run]}))
print("gru      32 clients   fake")
'''


def test_compare_runs_each_commit_in_its_own_worktree(tmp_path: Path, capsys) -> None:
    repo = tmp_path / "fake"
    (repo / "cli").mkdir(parents=True)
    _git(repo, "init", "-q")
    (repo / "cli" / "__init__.py").write_text("")
    (repo / "cli" / "main.py").write_text(FAKE_CLI)
    for rps in ("1000", "800"):
        (repo / "rps.txt").write_text(rps)
        _git(repo, "add", ".")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"rps {rps}")
    out = tmp_path / "compare.json"
    rows = compare.compare(repo, ["HEAD~1", "HEAD"], 2, ["--no-minilm"], tmp_path, out)
    rps = [row["metrics"]["32-client req/s"] for row in rows]
    assert [r["runs"] for r in rps] == [[1000.0, 1000.0], [800.0, 800.0]]
    assert rps[1]["ratio"] == pytest.approx(0.8)
    assert "x0.800" in capsys.readouterr().out
    assert out.is_file()
    assert _git(repo, "worktree", "list").count("\n") == 0  # temporary worktrees removed
