"""`samesay bench service`: start the real server, load N FAQs, drive /ask over loopback.

Phases, all against 127.0.0.1 only, every loop bounded in count and in time:
  (a) one client, sequential /ask: latency p50/p99 (targets 3 ms / 10 ms);
  (b) 32 concurrent clients for a fixed duration: answered /ask per second, errors
      (targets >= 1,000/s on 2 cores, 0 errors);
  (c) (b) again with the server's encoder swapped for all-MiniLM-L6-v2 (same FAQs, same
      questions) and the throughput ratio GRU / MiniLM.
The load comes from `wrk` (C, one thread) when installed, so the client does not take the
server's CPU; otherwise from an asyncio client on raw sockets (stdlib only).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import http.client
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # never anything else: this tool must not load a remote service
BENCH_KEY = "bench-service-key"  # the server is private to this run (temp data dir, loopback)
# Group TSVs mixed round-robin so the FAQ set has English and Chinese, intent-style and
# pair-style questions; any missing one is skipped.
GROUP_SETS = (
    "hwu64_en",
    "fin_cs_zh",
    "acid_en",
    "lcqmc_zh",
    "cmedqq_zh",
    "oppo_xiaobu_zh",
    "chinese_sts_zh",
)
TARGETS = {"p50_ms": 3.0, "p99_ms": 10.0, "throughput_rps": 1000.0, "errors": 0}


@dataclass(frozen=True)
class BenchConfig:
    # 10k entries is the size the targets are stated for.
    entries: int = 10_000
    # Alternates per FAQ: real help centres list a few ways to ask; each is one index vector.
    alternates: int = 2
    # Enough distinct questions that caching anything per question would not help.
    questions: int = 5_000
    latency_requests: int = 3_000
    latency_seconds: float = 20.0
    concurrency: int = 32
    load_seconds: float = 20.0
    # A little load first so lazy allocations and branch caches do not count.
    warmup_seconds: float = 3.0
    top_k: int = 5
    # Time to start (first start trains the default model; MiniLM re-embeds every entry).
    start_timeout_s: float = 900.0
    workers: int | None = None
    minilm: bool = True
    load_tool: str = "auto"  # auto | wrk | python
    # samesay = `samesay serve`; launcher = bench/serve_encoder.py (same app factory).
    server: str = "auto"  # auto | samesay | launcher
    data_root: Path = field(default_factory=lambda: REPO_ROOT.parent / "shared" / "data")
    model_path: Path | None = None
    seed: int = 0


# ---------------------------------------------------------------------------- FAQ corpus


@dataclass(frozen=True)
class FaqCorpus:
    items: list[dict]  # POST /faq items: question, answer, alternates, tags
    questions: list[str]  # what clients ask: held-out paraphrases, else stored questions
    source: str


def build_corpus(config: BenchConfig) -> FaqCorpus:
    """FAQ entries from the shared group TSVs when present, else from templates."""
    chunks = list(_dataset_chunks(config))
    source = "shared group TSVs: " + ", ".join(
        name for name in GROUP_SETS if (config.data_root / name / "groups.tsv").is_file()
    )
    if len(chunks) < config.entries:
        chunks += list(_template_chunks(config, exclude={c[0] for c in chunks}))
        source += " + templates" if chunks else "templates"
    rng = random.Random(config.seed)
    items: list[dict] = []
    questions: list[str] = []
    for number, (tag, phrasings, held_out) in enumerate(chunks[: config.entries], start=1):
        items.append(
            {
                "question": phrasings[0],
                "answer": f"Help article {number}: the steps for this question, with links "
                f"to the forms and the support team's opening hours.",
                "alternates": list(phrasings[1:]),
                "tags": [tag],
            }
        )
        questions.append(held_out or rng.choice(phrasings))
    rng.shuffle(questions)
    return FaqCorpus(items, questions[: config.questions], source)


def _dataset_chunks(config: BenchConfig) -> Iterator[tuple[str, list[str], str | None]]:
    """Round-robin over datasets; each group cut into entries of 1 + alternates phrasings
    plus one held-out phrasing to ask with."""
    per_entry = 1 + config.alternates + 1
    seen: set[str] = set()
    streams = []
    for name in GROUP_SETS:
        path = config.data_root / name / "groups.tsv"
        if path.is_file():
            streams.append(_group_chunks(name, path, per_entry, seen))
    while streams:
        for stream in list(streams):
            chunk = next(stream, None)
            if chunk is None:
                streams.remove(stream)
            else:
                yield chunk


def _group_chunks(
    name: str, path: Path, per_entry: int, seen: set[str]
) -> Iterator[tuple[str, list[str], str | None]]:
    groups: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) < 2:
                continue
            text = " ".join(row[1].split())
            # Short real questions only; the same text twice would make two FAQs ambiguous.
            if 2 <= len(text) <= 200 and text.casefold() not in seen:
                seen.add(text.casefold())
                groups.setdefault(row[0], []).append(text)
    for sentences in groups.values():
        for start in range(0, len(sentences), per_entry):
            chunk = sentences[start : start + per_entry]
            if len(chunk) == per_entry:
                yield name, chunk[:-1], chunk[-1]
            else:
                yield name, chunk, None


_ACTIONS = (
    "cancel",
    "change",
    "track",
    "return",
    "pay for",
    "update",
    "reset",
    "renew",
    "find",
    "delete",
    "share",
    "download",
    "upgrade",
    "transfer",
    "verify",
    "refund",
    "report",
    "recover",
    "activate",
    "pause",
)
_OBJECTS = (
    "order",
    "subscription",
    "password",
    "invoice",
    "delivery address",
    "account",
    "gift card",
    "payment method",
    "parcel",
    "membership",
    "wishlist",
    "email address",
    "phone number",
    "loyalty points",
    "warranty",
    "receipt",
    "booking",
    "voucher",
    "profile photo",
    "two-factor code",
    "shipping label",
    "basket",
    "review",
    "coupon",
    "store credit",
    "pre-order",
    "bank card",
    "return label",
    "newsletter",
    "device",
)
_PLACES = ("", " in the app", " on the website", " from abroad", " after 30 days", " today")
_FORMS = (
    "how do i {a} my {o}{p}?",
    "{a} {o}{p}",
    "can you help me {a} the {o}{p}",
    "is it possible to {a} a {o}{p}?",
    "where can i {a} my {o}{p}",
)


def _template_chunks(
    config: BenchConfig, exclude: set[str]
) -> Iterator[tuple[str, list[str], str | None]]:
    """Help-centre questions from templates: action x object x place, five phrasings each."""
    for place in _PLACES:
        for obj in _OBJECTS:
            for action in _ACTIONS:
                forms = [f.format(a=action, o=obj, p=place) for f in _FORMS]
                if forms[0] not in exclude:
                    keep = forms[: 1 + config.alternates]
                    yield "templates", keep, forms[len(keep)] if len(keep) < len(forms) else None


# ------------------------------------------------------------------------------- server


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_kind(config: BenchConfig) -> str:
    """`samesay` (the product's `samesay serve`) unless asked otherwise or not there yet."""
    if config.server != "auto":
        return config.server
    return "samesay" if importlib.util.find_spec("app.serve_cli") else "launcher"


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
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        which = "minilm" if encoder == "minilm" else "checkpoint"
        command = [sys.executable, "-m", "bench.serve_encoder", "--encoder", which, "--"]
    else:
        command = [sys.executable, "-m", "app.cli"]
    log = log_path.open("wb")
    process = subprocess.Popen(
        command + serve_args,
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


class BenchError(RuntimeError):
    """The benchmark could not run (server failed, bad configuration); message says why."""


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


# ------------------------------------------------------------------------------- load


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


# ------------------------------------------------------------------------------- phases


@dataclass
class EncoderRun:
    encoder: str
    start_s: float
    index_size: int | None
    index_kind: str | None
    sanity: dict[str, float]
    latency: LoadResult | None
    throughput: LoadResult | None


def measure(
    config: BenchConfig,
    server: ServerProcess,
    corpus: FaqCorpus,
    tool: str,
    work_dir: Path,
    latency: bool,
) -> tuple[LoadResult | None, LoadResult]:
    bodies = ask_bodies(corpus, config.top_k)
    pid = server.process.pid

    def load(connections: int, seconds: float, max_requests: int) -> LoadResult:
        cpu_before = process_tree_cpu_s(pid)
        result = run_load(tool, server.port, bodies, connections, seconds, max_requests, work_dir)
        cpu_after = process_tree_cpu_s(pid)
        ok = result.requests - result.errors
        if cpu_before is not None and cpu_after is not None and ok > 0:
            result.server_cpu_ms_per_request = (cpu_after - cpu_before) * 1000 / ok
        return result

    load(config.concurrency, config.warmup_seconds, 10**6)
    single = None
    if latency:
        print(f"  (a) 1 client, {config.latency_seconds:.0f} s ...", flush=True)
        single = load(1, config.latency_seconds, config.latency_requests)
    print(f"  (b) {config.concurrency} clients, {config.load_seconds:.0f} s ...", flush=True)
    many = load(config.concurrency, config.load_seconds, 10**7)
    return single, many


def process_tree_cpu_s(root_pid: int) -> float | None:
    """User + system CPU seconds of a process and its descendants (Linux /proc; else None)."""
    proc = Path("/proc")
    if not (proc / str(root_pid) / "stat").exists():
        return None
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces: fields are read after its closing ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    tree = {root_pid}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return sum(cpu.get(pid, 0.0) for pid in tree)


def run_encoder(
    config: BenchConfig,
    encoder: str,
    data_dir: Path,
    corpus: FaqCorpus,
    tool: str,
    work_dir: Path,
    load: bool,
) -> EncoderRun:
    print(f"== {encoder}: starting the server (data dir {data_dir})", flush=True)
    started = time.perf_counter()
    server = start_server(config, data_dir, encoder, work_dir / f"server-{encoder}.log")
    start_s = time.perf_counter() - started
    try:
        if load:
            seconds = load_faqs(server, corpus)
            print(f"  {len(corpus.items):,} FAQs loaded in {seconds:.1f} s", flush=True)
        ready = wait_index_settled(server, expected=len(corpus.items) if load else None)
        index_size = ready.get("index_size")
        print(f"  index: {index_size} entries, {ready.get('index_kind')}", flush=True)
        sanity = check_answers(server.port, corpus)
        single, many = measure(config, server, corpus, tool, work_dir, latency=True)
    finally:
        server.stop()
    return EncoderRun(
        encoder, start_s, index_size, ready.get("index_kind"), sanity, single, many
    )


def wait_index_settled(
    server: ServerProcess, expected: int | None, timeout_s: float = 600.0, in_a_row: int = 20
) -> dict:
    """Wait until /readyz answers `in_a_row` times running with no background rebuild (a flat
    index growing into IVF) and, when `expected` is given, at least that many entries: each
    request is a new connection, so with several workers the answers come from all of them."""
    deadline = time.monotonic() + timeout_s
    settled = 0
    ready: dict = {}
    while settled < in_a_row:
        if time.monotonic() > deadline:
            raise BenchError(f"the index did not settle within {timeout_s:.0f} s: {ready}")
        _, answer = request_json(server.port, "GET", "/readyz", None)
        ready = answer if isinstance(answer, dict) else {}
        done = not ready.get("index_rebuilding") and (
            expected is None or (ready.get("index_size") or 0) >= expected
        )
        settled = settled + 1 if done else 0
        if not done:
            time.sleep(0.5)
    return ready


def choose_tool(requested: str) -> str:
    if requested == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if requested == "wrk":
        raise BenchError(
            "wrk is not installed (Debian: apt-get install wrk); try --load-tool python"
        )
    return "python"


def run(config: BenchConfig, out: Path | None) -> dict:
    tool = choose_tool(config.load_tool)
    corpus = build_corpus(config)
    print(
        f"FAQ set: {len(corpus.items):,} entries from {corpus.source}; "
        f"{len(corpus.questions):,} distinct questions; load tool: {tool}",
        flush=True,
    )
    runs: list[EncoderRun] = []
    minilm_error = None
    with tempfile.TemporaryDirectory(prefix="samesay-bench-") as temp:
        work_dir = Path(temp)
        data_dir = work_dir / "data"
        data_dir.mkdir()
        runs.append(run_encoder(config, "gru", data_dir, corpus, tool, work_dir, load=True))
        if config.minilm:
            # Same store (same FAQs): the searcher sees another encoder hash and re-embeds.
            try:
                runs.append(
                    run_encoder(config, "minilm", data_dir, corpus, tool, work_dir, load=False)
                )
            except BenchError as error:  # keep the GRU numbers; say why MiniLM is missing
                print(f"MiniLM run failed: {error}", file=sys.stderr)
                minilm_error = str(error)[:2000]
    report = make_report(config, corpus, tool, runs)
    if minilm_error:
        report["minilm_error"] = minilm_error
    print_table(report)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"JSON written to {out}")
    return report


def make_report(
    config: BenchConfig, corpus: FaqCorpus, tool: str, runs: Sequence[EncoderRun]
) -> dict:
    gru = runs[0]
    report: dict = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "machine": {"cpus": os.cpu_count(), "loadavg_1m_at_end": os.getloadavg()[0]},
        "server": server_kind(config),
        "faq_source": corpus.source,
        "load_tool": tool,
        "targets": TARGETS,
        "runs": [asdict(r) for r in runs],
    }
    checks = {}
    if gru.latency is not None:
        checks["p50_ms"] = gru.latency.p50_ms <= TARGETS["p50_ms"]
        checks["p99_ms"] = gru.latency.p99_ms <= TARGETS["p99_ms"]
    if gru.throughput is not None:
        checks["throughput_rps"] = gru.throughput.rps >= TARGETS["throughput_rps"]
        checks["errors"] = gru.throughput.errors == 0
    report["targets_met"] = checks
    if len(runs) > 1 and runs[1].throughput and gru.throughput and runs[1].throughput.rps:
        report["throughput_ratio_gru_over_minilm"] = gru.throughput.rps / runs[1].throughput.rps
    return report


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def print_table(report: dict) -> None:
    header = (
        f"{'encoder':<8} {'phase':<14} {'requests':>9} {'req/s':>8} {'answered':>9} "
        f"{'errors':>6} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cpu ms/req':>10}"
    )
    print()
    print(header)
    print("-" * len(header))
    for run_ in report["runs"]:
        for phase in ("latency", "throughput"):
            r = run_[phase]
            if r is None:
                continue
            label = f"{r['connections']} client" + ("s" if r["connections"] > 1 else "")
            print(
                f"{run_['encoder']:<8} {label:<14} {r['requests']:>9,} {r['rps']:>8.0f} "
                f"{r['answered'] / max(1, r['requests']):>8.0%} {r['errors']:>6} "
                f"{r['p50_ms']:>7.2f} {r['p90_ms']:>7.2f} {r['p99_ms']:>7.2f} "
                f"{r['max_ms']:>7.1f} {_fmt(r['server_cpu_ms_per_request']):>10}"
            )
    print()
    for run_ in report["runs"]:
        for phase in ("latency", "throughput"):
            if run_[phase] and run_[phase]["error_detail"]:
                print(f"{run_['encoder']} {phase} errors: {run_[phase]['error_detail']}")
        print(
            f"{run_['encoder']}: ready after {run_['start_s']:.1f} s, index size "
            f"{run_['index_size']} ({run_['index_kind']}), sanity answered rate "
            f"{run_['sanity']['answered_rate']:.0%} of {run_['sanity']['checked']}"
        )
    if "throughput_ratio_gru_over_minilm" in report:
        print(f"throughput ratio GRU / MiniLM: {report['throughput_ratio_gru_over_minilm']:.1f}x")
    for name, ok in report["targets_met"].items():
        print(f"target {name} ({TARGETS[name]}): {'met' if ok else 'NOT met'}")
    print(
        f"machine: {report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['loadavg_1m_at_end']:.2f} at the end (shared machines: noisy)"
    )


# ------------------------------------------------------------------------------- CLI


def add_bench_command(bench: argparse._SubParsersAction) -> None:
    """Registers `samesay bench service` on the `bench` subparsers."""
    parser = bench.add_parser(
        "service",
        help="start the server and measure /ask latency and throughput over loopback",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = BenchConfig()
    parser.add_argument("--entries", type=int, default=defaults.entries)
    parser.add_argument("--alternates", type=int, default=defaults.alternates)
    parser.add_argument("--questions", type=int, default=defaults.questions)
    parser.add_argument("--latency-seconds", type=float, default=defaults.latency_seconds)
    parser.add_argument("--latency-requests", type=int, default=defaults.latency_requests)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument(
        "--seconds",
        type=float,
        default=defaults.load_seconds,
        help="duration of the concurrent phase",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="passed to `samesay serve --workers` (default: its own)",
    )
    parser.add_argument(
        "--no-minilm", action="store_true", help="skip the all-MiniLM-L6-v2 comparison run"
    )
    parser.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--server",
        choices=("auto", "samesay", "launcher"),
        default="auto",
        help="how the GRU server starts: `samesay serve` or the bench launcher",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=defaults.data_root,
        help="folder with the shared group TSVs (templates when absent)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="checkpoint to serve (default: the server trains one on first start)",
    )
    parser.add_argument("--start-timeout", type=float, default=defaults.start_timeout_s)
    parser.add_argument("--out", type=Path, default=Path("bench-out/service.json"))
    parser.set_defaults(func=_main)


def _config_from_args(args: argparse.Namespace) -> BenchConfig:
    for name in ("entries", "questions", "concurrency", "latency_requests"):
        if getattr(args, name) < 1:
            raise BenchError(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.alternates <= 20:
        raise BenchError("--alternates must be between 0 and 20")
    if not (0 < args.seconds <= 600 and 0 < args.latency_seconds <= 600):
        raise BenchError("durations must be between 0 and 600 seconds")
    return BenchConfig(
        entries=args.entries,
        alternates=args.alternates,
        questions=args.questions,
        latency_requests=args.latency_requests,
        latency_seconds=args.latency_seconds,
        concurrency=args.concurrency,
        load_seconds=args.seconds,
        start_timeout_s=args.start_timeout,
        workers=args.workers,
        minilm=not args.no_minilm,
        load_tool=args.load_tool,
        server=args.server,
        data_root=args.data_root,
        model_path=args.model,
    )


def _main(args: argparse.Namespace) -> int:
    try:
        run(_config_from_args(args), args.out)
    except BenchError as error:
        print(f"bench service: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench_service")
    add_bench_command(parser.add_subparsers(dest="bench", required=True))
    args = parser.parse_args(["service", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
