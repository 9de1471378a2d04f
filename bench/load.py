"""Load generators for `bench service`: wrk when installed, else an asyncio socket client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import HOST, BenchError
from bench.corpus import FaqCorpus
from bench.server import request_json


@dataclass
class LoadResult:
    tool: str
    connections: int
    seconds: float
    requests: int
    answered: int
    errors: int  # non-200 answers, socket errors and timeouts
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    # Server CPU (all its processes) per answered request: unlike req/s, this barely moves
    # when other jobs share the machine, so it shows what 2 idle cores could do.
    server_cpu_ms_per_request: float | None = None
    # What the errors were: HTTP statuses other than 200 (a sample) and client timeouts.
    error_detail: str = ""


def ask_bodies(corpus: FaqCorpus, top_k: int) -> list[bytes]:
    return [
        json.dumps({"question": q, "top_k": top_k}, separators=(",", ":")).encode()
        for q in corpus.questions
    ]


def run_load(
    tool: str,
    port: int,
    bodies: Sequence[bytes],
    connections: int,
    seconds: float,
    max_requests: int,
    work_dir: Path,
) -> LoadResult:
    if tool == "wrk":
        return _run_wrk(port, bodies, connections, seconds, work_dir)
    return asyncio.run(_run_python(port, bodies, connections, seconds, max_requests))


WRK_SCRIPT = r"""
-- POST /ask cycling through a file of JSON bodies; counts answered ones; prints JSON.
local bodies, next_body = {}, 0
answered, responses, bad = 0, 0, 0
statuses = ""
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  next_body = (wrk.thread_index or 0) * 997
end
function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", "/ask", {["Content-Type"] = "application/json"}, bodies[next_body])
end
function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    bad = bad + 1
    if #statuses < 200 then statuses = statuses .. status .. " " end
  elseif body:find('"answered"%s*:%s*true') then answered = answered + 1 end
end
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
function done(summary, latency, requests)
  local a, r, b, st = 0, 0, 0, ""
  for _, t in ipairs(threads) do
    a = a + t:get("answered"); r = r + t:get("responses"); b = b + t:get("bad")
    st = st .. t:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"answered":%d,"responses":%d,"non_200":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"bad_statuses":"%s",' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, a, r, b,
    e.connect + e.read + e.write + e.timeout, e.timeout, st,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def _run_wrk(
    port: int, bodies: Sequence[bytes], connections: int, seconds: float, work_dir: Path
) -> LoadResult:
    script = work_dir / "ask.lua"
    script.write_text(WRK_SCRIPT)
    body_file = work_dir / "ask-bodies.jsonl"
    body_file.write_bytes(b"\n".join(bodies) + b"\n")
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
        "-s", str(script), f"http://{HOST}:{port}/ask", "--", str(body_file),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stdout[-500:]}{done.stderr}")
    raw = json.loads(line.removeprefix("WRK_RESULT "))
    duration = raw["duration_us"] / 1e6
    return LoadResult(
        tool="wrk",
        connections=connections,
        seconds=duration,
        requests=raw["requests"],
        answered=raw["answered"],
        errors=raw["non_200"] + raw["socket_errors"],
        rps=(raw["responses"] - raw["non_200"]) / duration,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        error_detail=_error_detail(
            raw["bad_statuses"].split(), raw["timeouts"], raw["socket_errors"] - raw["timeouts"]
        ),
    )


def _error_detail(statuses: Sequence[str], timeouts: int, socket_errors: int) -> str:
    parts = [f"HTTP {code} x{statuses.count(code)}" for code in sorted(set(statuses))]
    if timeouts:
        parts.append(f"timeouts (>5 s) x{timeouts}")
    if socket_errors:
        parts.append(f"socket errors x{socket_errors}")
    return ", ".join(parts)


async def _run_python(
    port: int, bodies: Sequence[bytes], connections: int, seconds: float, max_requests: int
) -> LoadResult:
    """Keep-alive HTTP/1.1 clients on raw asyncio streams: little CPU per request."""
    latencies: list[float] = []
    counts = {"ok": 0, "answered": 0, "errors": 0, "socket_errors": 0}
    bad_statuses: list[str] = []
    deadline = time.perf_counter() + seconds
    budget = iter(range(max_requests))

    async def client(offset: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        position = offset
        try:
            while time.perf_counter() < deadline and next(budget, None) is not None:
                body = bodies[position % len(bodies)]
                position += 1
                head = (
                    f"POST /ask HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                started = time.perf_counter()
                writer.write(head + body)
                status, payload = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    counts["errors"] += 1
                    bad_statuses.append(str(status))
                    continue
                counts["ok"] += 1
                counts["answered"] += b'"answered":true' in payload
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counts["errors"] += 1
            counts["socket_errors"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(client(i * 997) for i in range(connections))), timeout=seconds + 60
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return LoadResult(
        tool="python",
        connections=connections,
        seconds=elapsed,
        requests=len(latencies),
        answered=counts["answered"],
        errors=counts["errors"],
        rps=counts["ok"] / elapsed,
        p50_ms=_percentile(ordered, 50) * 1000,
        p90_ms=_percentile(ordered, 90) * 1000,
        p99_ms=_percentile(ordered, 99) * 1000,
        max_ms=ordered[-1] * 1000,
        error_detail=_error_detail(bad_statuses, 0, counts["socket_errors"]),
    )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        (
            int(v)
            for k, _, v in (x.partition(":") for x in lines[1:])
            if k.strip().lower() == "content-length"
        ),
        None,
    )
    if length is None:
        raise ValueError("response without Content-Length")
    return status, await reader.readexactly(length)


def _percentile(ordered: Sequence[float], percent: float) -> float:
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


def check_answers(port: int, corpus: FaqCorpus, count: int = 200) -> dict[str, float]:
    """A few asks through the API, to prove the server really answers (not fast errors)."""
    answered = 0
    for question in corpus.questions[:count]:
        status, body = request_json(port, "POST", "/ask", {"question": question, "top_k": 1})
        if status != 200:
            raise BenchError(f"/ask answered {status}: {str(body)[:300]}")
        answered += bool(body.get("answered"))  # type: ignore[union-attr]
    return {"checked": count, "answered_rate": answered / max(1, count)}


