"""A private Samesay server for a benchmark: loopback only, a temp data dir, JSON requests."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.config import BENCH_KEY, HOST, BenchConfig, BenchError
from bench.corpus import FaqCorpus


@dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# Run as `python -c _STOP_WITH_PARENT BENCH_PID MODULE_ARGS...`: asks Linux to send the server
# SIGINT (its Ctrl-C shutdown, as ServerProcess.stop) when the bench process dies, however it
# dies, then becomes the server (exec keeps the pid). Without it a bench killed from outside
# left its `samesay serve` supervisor running, respawning workers beside later runs.
_STOP_WITH_PARENT = """\
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("the benchmark process ended before its server started")
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


def stopped_with_parent(module_args: list[str]) -> list[str]:
    """The command that runs `python MODULE_ARGS...` and is stopped (SIGINT) when this process
    dies; on systems without prctl, the plain command."""
    if not sys.platform.startswith("linux"):
        return [sys.executable, *module_args]
    return [sys.executable, "-c", _STOP_WITH_PARENT, str(os.getpid()), *module_args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_kind(config: BenchConfig) -> str:
    """`samesay` (the product's `samesay serve`) unless the bench launcher is asked for."""
    return "launcher" if config.server == "launcher" else "samesay"


def start_server(
    config: BenchConfig, data_dir: Path, encoder: str, log_path: Path
) -> ServerProcess:
    """`samesay serve` on loopback with a private data dir; `minilm` runs it through the
    bench launcher, which hands the app an all-MiniLM-L6-v2 encoder (bench/serve_encoder.py)."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        SAMESAY_DATA_DIR=str(data_dir),
        SAMESAY_API_KEYS=BENCH_KEY,
        SAMESAY_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SAMESAY_DATABASE_URL", None)  # the private SQLite file in data_dir
    if config.model_path is not None:
        env["SAMESAY_MODEL_PATH"] = str(config.model_path.resolve())
    serve_args = ["serve", "--host", HOST, "--port", str(port)]
    if config.workers:
        serve_args += ["--workers", str(config.workers)]
    launcher = encoder == "minilm" or server_kind(config) == "launcher"
    if launcher:
        which = "minilm" if encoder == "minilm" else "checkpoint"
        command = ["-m", "bench.serve_encoder", "--encoder", which, "--"]
    else:
        command = ["-m", "cli.main"]
    log = log_path.open("wb")
    process = subprocess.Popen(
        stopped_with_parent(command + serve_args),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )
    log.close()
    server = ServerProcess(process, port, log_path)
    try:
        wait_ready(server, config.start_timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


def wait_ready(server: ServerProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(
                f"the server exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            status, body = request_json(server.port, "GET", "/readyz", None, timeout=5)
            if status == 200:
                return
            last = f"{status} {body}"
        except OSError as error:
            last = repr(error)
        time.sleep(0.5)
    raise BenchError(f"not ready after {timeout_s:.0f} s (last: {last}):\n{server.log_tail()}")


def request_json(
    port: int, method: str, path: str, body: object | None, timeout: float = 30
) -> tuple[int, object]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {BENCH_KEY}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw[:200].decode(errors="replace")
    finally:
        connection.close()


def load_faqs(server: ServerProcess, corpus: FaqCorpus, batch: int = 1_000) -> float:
    """POST /faq in atomic batches (the API's limit); returns seconds taken."""
    started = time.perf_counter()
    for start in range(0, len(corpus.items), batch):
        items = corpus.items[start : start + batch]
        status, body = request_json(server.port, "POST", "/faq", {"items": items}, timeout=600)
        if status not in (200, 201) or len(body.get("ids", ())) != len(items):  # type: ignore[union-attr]
            raise BenchError(f"POST /faq answered {status}: {str(body)[:300]}")
        print(f"  loaded {start + len(items):>6,} / {len(corpus.items):,} FAQs", flush=True)
    return time.perf_counter() - started


