"""`samesay serve`: arguments, the generated local key, and a real server over loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cli.main import build_parser
from cli.serve import KEY_FILE, local_api_key


def test_serve_arguments() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000",
                                      "--workers", "2"])
    assert (args.host, args.port, args.workers, args.no_bootstrap) == ("0.0.0.0", 9000, 2, False)


def test_bench_service_is_registered() -> None:
    args = build_parser().parse_args(["bench", "service", "--entries", "100"])
    assert args.entries == 100 and callable(args.func)


def test_local_key_is_generated_once_and_private(tmp_path) -> None:
    key, created = local_api_key(tmp_path / "data")
    assert created and len(key) >= 40
    mode = stat.S_IMODE((tmp_path / "data" / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert local_api_key(tmp_path / "data") == (key, False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _call(port: int, method: str, path: str, body=None, key: str | None = None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {key}"} if key else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.slow
def test_serve_starts_a_real_server_with_a_generated_key(tmp_path, tiny_encoder_path) -> None:
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMESAY_")}
    env.update(SAMESAY_DATA_DIR=str(data_dir), SAMESAY_MODEL_PATH=str(tiny_encoder_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--no-bootstrap", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                if _call(port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "server not ready in 120 s"
            time.sleep(0.3)
        key = (data_dir / KEY_FILE).read_text().strip()
        assert _call(port, "POST", "/faq", {"question": "q", "answer": "a"})[0] == 401
        status, body = _call(port, "POST", "/faq", {"question": "how do i reset my password",
                                                    "answer": "Use the link."}, key)
        assert status == 201, body
        status, body = _call(port, "POST", "/ask", {"question": "how do i reset my password"})
        assert status == 200 and body["answered"], body  # the exact phrasing: cosine ~1
        assert body["matches"][0]["question"] == "how do i reset my password"
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    assert f"Bearer {key}" in output  # printed once, for local use
    assert "Traceback" not in output
    # Logs are JSON lines (uvicorn's own included).
    log_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert log_lines and all(json.loads(line)["level"] for line in log_lines)
    assert Path(data_dir / "index").is_dir()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_stops_serve_before_the_first_start(tmp_path, workers) -> None:
    # Without --no-bootstrap a fresh data dir would be filled with the demo and trained on
    # first: the port is checked before, and nothing is written.
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMESAY_")}
    env.update(SAMESAY_DATA_DIR=str(data_dir))
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", workers],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 1, result.stderr
    assert f"samesay: cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (data_dir / "model").exists() and not (data_dir / "samesay.db").exists()


def _closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("database", "flags", "message"),
    [
        ("postgres", [], "samesay: database unavailable: "),
        ("postgres", ["--no-bootstrap"], "samesay: database unavailable: "),
        ("postgres", ["--no-bootstrap", "--workers", "2"], "samesay: database unavailable: "),
        ("sqlite-under-a-file", [], "samesay: "),  # the store's own words for it
    ],
)
def test_an_unreachable_store_stops_serve_with_one_line(
    tmp_path: Path, database: str, flags: list[str], message: str
) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    url = (
        f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/samesay"
        if database == "postgres"
        else f"sqlite:///{tmp_path / 'file' / 'samesay.db'}"  # its directory cannot be made
    )
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMESAY_")}
    env.update(SAMESAY_DATA_DIR=str(data_dir), SAMESAY_DATABASE_URL=url)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(_free_port()), *flags],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 30  # refused before the bootstrap and the workers
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert not (data_dir / "model").exists()  # nothing trained for a store it cannot reach
