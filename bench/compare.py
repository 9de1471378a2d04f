"""`samesay bench compare`: `bench service` at two or more commits side by side, with ratios.

A regression guard that is not a timed test: each commit is checked out into its own
temporary git worktree and benchmarked by ITS OWN `bench service` (its server, its default
model, its first start), and the runs alternate (A B A B ...) so that a neighbour's load
spreads over every commit alike. The table gives each commit's medians and their ratio to
the first commit; the server CPU per request is the steadiest column on a shared machine.

Every commit runs under this interpreter with the worktree first on PYTHONPATH, so the
installed dependencies are the same for all of them: what differs is the project's code.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import BenchError

# (label, report path in bench service's JSON: run, phase, field); run 0 is the GRU server.
METRICS = (
    ("1-client p50 ms", "latency", "p50_ms"),
    ("1-client p99 ms", "latency", "p99_ms"),
    ("1-client cpu ms/req", "latency", "server_cpu_ms_per_request"),
    ("32-client req/s", "throughput", "rps"),
    ("32-client cpu ms/req", "throughput", "server_cpu_ms_per_request"),
    ("32-client errors", "throughput", "errors"),
)
# Where the CLI entry point lived: `cli/` since the layout move, `app/cli.py` before it.
CLI_MODULES = (("cli/main.py", "cli.main"), ("app/cli.py", "app.cli"))


@dataclass(frozen=True)
class Revision:
    name: str  # as given (a branch, tag or hash)
    commit: str  # full hash
    subject: str


def resolve(repo: Path, names: Sequence[str]) -> list[Revision]:
    revisions = []
    for name in names:
        done = _git(repo, "log", "-1", "--format=%H%x00%s", f"{name}^{{commit}}", check=False)
        if done.returncode != 0:
            raise BenchError(f"not a commit in {repo}: {name!r}")
        commit, subject = done.stdout.strip().split("\x00", 1)
        revisions.append(Revision(name, commit, subject))
    return revisions


def cli_module(worktree: Path) -> str:
    for path, module in CLI_MODULES:
        if (worktree / path).is_file():
            return module
    raise BenchError(f"no samesay CLI in {worktree} (looked for {[p for p, _ in CLI_MODULES]})")


def run_order(revisions: Sequence[Revision], rounds: int) -> list[Revision]:
    """A B C A B C ...: alternating, so slow and quiet spells hit every commit alike."""
    return [revision for _ in range(rounds) for revision in revisions]


def metric(report: dict, phase: str, field: str) -> float | None:
    runs = report.get("runs") or []
    value = (runs[0].get(phase) or {}).get(field) if runs else None
    return None if value is None else float(value)


def summarise(revisions: Sequence[Revision], reports: dict[str, list[dict]]) -> list[dict]:
    """Per commit: the median of each metric over its runs and the ratio to the first commit."""
    rows = []
    base = revisions[0].commit
    for revision in revisions:
        row: dict = {"revision": revision.name, "commit": revision.commit, "metrics": {}}
        for label, phase, field in METRICS:
            values = [
                v for r in reports[revision.commit] if (v := metric(r, phase, field)) is not None
            ]
            median = statistics.median(values) if values else None
            base_values = [
                v for r in reports[base] if (v := metric(r, phase, field)) is not None
            ]
            base_median = statistics.median(base_values) if base_values else None
            ratio = median / base_median if median is not None and base_median else None
            row["metrics"][label] = {"runs": values, "median": median, "ratio": ratio}
        rows.append(row)
    return rows


def print_summary(rows: Sequence[dict]) -> None:
    width = max(len(r["revision"]) for r in rows) + 2
    for label, _, _ in METRICS:
        print(f"\n{label}")
        for row in rows:
            m = row["metrics"][label]
            runs = " / ".join(f"{v:,.2f}" for v in m["runs"]) or "n/a"
            median = "n/a" if m["median"] is None else f"{m['median']:,.2f}"
            ratio = "" if m["ratio"] is None else f"  x{m['ratio']:.3f}"
            print(f"  {row['revision']:<{width}} median {median:>10}{ratio:<9} runs {runs}")


def compare(
    repo: Path,
    names: Sequence[str],
    rounds: int,
    service_args: Sequence[str],
    data_root: Path,
    out: Path | None,
) -> list[dict]:
    if len(names) < 2:
        raise BenchError("give at least two commits to compare")
    revisions = resolve(repo, names)
    reports: dict[str, list[dict]] = {r.commit: [] for r in revisions}
    with tempfile.TemporaryDirectory(prefix="samesay-compare-") as temp:
        work = Path(temp)
        trees = {}
        try:
            for revision in revisions:
                if revision.commit in trees:
                    continue
                tree = work / revision.commit[:12]
                _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), revision.commit)
                trees[revision.commit] = tree
                _build_extensions(tree)
            for number, revision in enumerate(run_order(revisions, rounds), 1):
                print(
                    f"== run {number}/{rounds * len(revisions)}: {revision.name} "
                    f"({revision.commit[:10]} {revision.subject[:60]})",
                    flush=True,
                )
                report_path = work / f"run-{number}.json"
                _run_service(trees[revision.commit], service_args, data_root, report_path)
                reports[revision.commit].append(json.loads(report_path.read_text()))
        finally:
            for tree in trees.values():
                _git(repo, "worktree", "remove", "--force", str(tree), check=False)
    rows = summarise(revisions, reports)
    print_summary(rows)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "revisions": [r.__dict__ for r in revisions],
            "rounds": rounds,
            "service_args": list(service_args),
            "summary": rows,
            "reports": reports,
        }
        out.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nJSON written to {out}")
    return rows


def _build_extensions(tree: Path) -> None:
    """Compile a commit's C extensions in place (setup.py, since the C GRU scan), as its
    install would: without this, a worktree on PYTHONPATH would run its NumPy fallbacks."""
    if not (tree / "setup.py").is_file():
        return
    done = subprocess.run(
        [sys.executable, "setup.py", "--quiet", "build_ext", "--inplace"],
        cwd=tree,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BenchError(f"building the C extensions failed in {tree}:\n{done.stderr[-1500:]}")


def _run_service(tree: Path, service_args: Sequence[str], data_root: Path, out: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree), *filter(None, [env.get("PYTHONPATH")])])
    command = [
        sys.executable, "-m", cli_module(tree), "bench", "service",
        "--data-root", str(data_root), "--out", str(out), *service_args,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=tree, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0 or not out.is_file():
        raise BenchError(
            f"bench service failed in {tree} ({done.returncode}):\n{done.stdout[-1500:]}"
            f"{done.stderr[-1500:]}"
        )
    table = [line for line in done.stdout.splitlines() if line.startswith("gru ")]
    print("\n".join(table) + f"\n  ({time.perf_counter() - started:.0f} s)", flush=True)


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise BenchError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done
