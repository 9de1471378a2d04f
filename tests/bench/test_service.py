"""The service benchmark's own parts: FAQ corpus, load generators, report, CLI wiring.

The load generators are tested alone against a tiny loopback HTTP server whose answers we
control (the real service is driven by `samesay bench service` itself).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import load as bench_load
from bench import server, service
from bench.config import BenchConfig, BenchError
from bench.corpus import FaqCorpus, build_corpus
from bench.load import LoadResult, run_load
from cli import bench as bench_cli


def write_groups(path: Path, groups: dict[str, list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{gid}\t{text}\ttrain" for gid, texts in groups.items() for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_corpus_from_group_tsvs_holds_one_phrasing_back_per_full_chunk(tmp_path: Path) -> None:
    write_groups(
        tmp_path / "hwu64_en" / "groups.tsv",
        {"alarm": [f"set alarm number {i}" for i in range(9)], "weather": ["rain today?"]},
    )
    write_groups(tmp_path / "fin_cs_zh" / "groups.tsv", {"f1": ["花呗怎么还款", "花呗 还款"]})
    config = BenchConfig(entries=4, alternates=2, questions=10, data_root=tmp_path)
    corpus = build_corpus(config)
    assert len(corpus.items) == 4
    first = corpus.items[0]
    # Chunk of 4 = question + 2 alternates + 1 held-out phrasing asked by the clients.
    assert first["question"] == "set alarm number 0"
    assert first["alternates"] == ["set alarm number 1", "set alarm number 2"]
    assert "set alarm number 3" in corpus.questions
    assert corpus.items[1]["tags"] == ["fin_cs_zh"]  # round-robin over datasets
    phrasings = [p for item in corpus.items for p in (item["question"], *item["alternates"])]
    assert len(phrasings) == len(set(phrasings))
    assert not set(corpus.questions) & set(phrasings[:3])


def test_corpus_tops_up_with_templates_when_data_is_missing(tmp_path: Path) -> None:
    config = BenchConfig(entries=500, alternates=3, questions=100, data_root=tmp_path / "none")
    corpus = build_corpus(config)
    assert len(corpus.items) == 500 and len(corpus.questions) == 100
    assert corpus.source.endswith("templates")
    questions = [item["question"] for item in corpus.items]
    assert len(set(questions)) == 500
    assert all(len(item["alternates"]) == 3 for item in corpus.items)


class _JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like uvicorn

    def send_json(self, status: int, body: object) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A loopback HTTP server for `handler` in a thread; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


class _AskHandler(_JsonHandler):
    fail_every = 0
    seen = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            type(self).seen += 1
            failing = self.fail_every and type(self).seen % self.fail_every == 0
        self.send_json(500 if failing else 200, {"answered": "answer me" in body["question"]})


@pytest.fixture
def ask_server() -> Iterator[tuple[int, type[_AskHandler]]]:
    handler = type("Handler", (_AskHandler,), {"seen": 0, "fail_every": 0})
    with serving(handler) as port:
        yield port, handler


BODIES = [b'{"question":"answer me please","top_k":5}', b'{"question":"no","top_k":5}']


@pytest.mark.parametrize("tool", ["python", "wrk"])
def test_load_counts_requests_answers_and_latency(
    ask_server: tuple[int, type[_AskHandler]], tool: str, tmp_path: Path
) -> None:
    if tool == "wrk" and not shutil.which("wrk"):
        pytest.skip("wrk not installed")
    port, handler = ask_server
    result = run_load(tool, port, BODIES, 4, 1.0, 10**6, tmp_path)
    assert result.requests > 10 and result.errors == 0
    assert result.requests <= handler.seen
    # Bodies alternate, so about half are answered.
    assert 0.3 < result.answered / result.requests < 0.7
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms
    assert result.rps == pytest.approx(result.requests / result.seconds, rel=0.05)


@pytest.mark.parametrize("tool", ["python", "wrk"])
def test_load_reports_server_errors(
    ask_server: tuple[int, type[_AskHandler]], tool: str, tmp_path: Path
) -> None:
    if tool == "wrk" and not shutil.which("wrk"):
        pytest.skip("wrk not installed")
    port, handler = ask_server
    handler.fail_every = 5
    result = run_load(tool, port, BODIES, 2, 1.0, 10**6, tmp_path)
    assert result.errors == pytest.approx(result.requests / 5, abs=3)
    assert result.rps < result.requests / result.seconds


def test_python_load_stops_at_its_request_budget(
    ask_server: tuple[int, type[_AskHandler]], tmp_path: Path
) -> None:
    port, _ = ask_server
    result = run_load("python", port, BODIES, 3, 30.0, 25, tmp_path)
    assert result.requests == 25 and result.seconds < 10


def test_python_load_against_a_closed_port_is_an_error_not_a_hang(tmp_path: Path) -> None:
    port = server.free_port()
    with pytest.raises(OSError):
        asyncio.run(bench_load._run_python(port, BODIES, 2, 1.0, 10))


class _ReadyHandler(_JsonHandler):
    """/readyz that reports a background rebuild for the first `rebuilding_for` answers."""

    rebuilding_for = 0
    seen = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).seen += 1
        rebuilding = type(self).seen <= self.rebuilding_for
        kind = "flat" if rebuilding else "ivf"
        self.send_json(
            200, {"index_size": 10, "index_kind": kind, "index_rebuilding": rebuilding}
        )


@pytest.fixture
def ready_server() -> Iterator[tuple[server.ServerProcess, type[_ReadyHandler]]]:
    handler = type("Handler", (_ReadyHandler,), {"seen": 0, "rebuilding_for": 3})
    with serving(handler) as port:
        yield server.ServerProcess(None, port, Path("unused.log")), handler


def test_bench_waits_for_the_index_to_settle(ready_server) -> None:
    process, handler = ready_server
    ready = service.wait_index_settled(process, expected=10, in_a_row=4)
    assert ready["index_kind"] == "ivf" and handler.seen == 3 + 4


def test_bench_gives_up_on_an_index_that_never_settles(ready_server) -> None:
    process, handler = ready_server
    with pytest.raises(BenchError, match="did not settle"):
        service.wait_index_settled(process, expected=11, timeout_s=1.0, in_a_row=2)


def test_report_checks_targets_and_ratio() -> None:
    def load(rps: float, p50: float, p99: float, errors: int = 0) -> LoadResult:
        return LoadResult("wrk", 32, 10.0, int(rps * 10), 0, errors, rps, p50,
                                        p50, p99, p99)  # fmt: skip

    gru = service.EncoderRun(
        "gru", 1.0, 100, "ivf", {}, load(400, 2.0, 9.0), load(1500, 5, 30)
    )
    minilm = service.EncoderRun("minilm", 1.0, 100, "ivf", {}, None, load(50, 40, 90))
    corpus = FaqCorpus([], [], "templates")
    report = service.make_report(BenchConfig(), corpus, "wrk", [gru, minilm])
    assert report["targets_met"] == {
        "p50_ms": True,
        "p99_ms": True,
        "throughput_rps": True,
        "errors": True,
    }
    assert report["throughput_ratio_gru_over_minilm"] == pytest.approx(30.0)
    gru.throughput = load(900, 5, 30, errors=1)
    report = service.make_report(BenchConfig(), corpus, "wrk", [gru])
    assert report["targets_met"]["throughput_rps"] is False
    assert report["targets_met"]["errors"] is False
    json.dumps(report)  # what --out writes


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command")
    bench = commands.add_parser("bench").add_subparsers(dest="bench")
    bench_cli.add_commands(commands, bench)
    return parser.parse_args(["bench", "service", *argv])


def test_cli_registers_service_and_validates_bounds() -> None:
    args = _parse(["--entries", "100", "--seconds", "5", "--no-minilm"])
    config = bench_cli._config_from_args(args)
    assert config.entries == 100 and config.load_seconds == 5 and not config.minilm
    assert args.func is bench_cli._main
    for bad in (
        ["--entries", "0"],
        ["--seconds", "0"],
        ["--seconds", "601"],
        ["--alternates", "-1"],
    ):
        with pytest.raises(BenchError):
            bench_cli._config_from_args(_parse(bad))
