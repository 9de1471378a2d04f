"""One listening socket per worker: the port is held, taken ports are refused, connections
spread over the workers, and a restarted worker listens again (Linux: SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.serving import ListenError, WorkerListener, balances_connections, hold_port

pytestmark = pytest.mark.skipif(not balances_connections(), reason="SO_REUSEPORT balancing: Linux")


def test_a_held_port_is_refused_to_a_second_server_and_to_plain_sockets() -> None:
    anchor = hold_port("127.0.0.1", 0)
    port = anchor.getsockname()[1]
    try:
        worker = pickle.loads(pickle.dumps(WorkerListener("127.0.0.1", port)))
        worker.listen()
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            hold_port("127.0.0.1", port)  # another `samesay serve --workers N`
        with socket.socket() as plain, pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))
        worker.close()
    finally:
        anchor.close()


def test_a_port_something_else_listens_on_is_not_joined() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(ListenError):
            hold_port("127.0.0.1", other.getsockname()[1])


def test_each_worker_listener_is_its_own_socket_and_connections_spread() -> None:
    anchor = hold_port("127.0.0.1", 0)
    port = anchor.getsockname()[1]
    recipe = pickle.dumps(WorkerListener("127.0.0.1", port))
    listeners = [pickle.loads(recipe) for _ in range(2)]  # as two spawned workers get it
    clients = []
    try:
        for listener in listeners:
            assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
            listener.listen()
            listener.setblocking(False)
        assert listeners[0].fileno() != listeners[1].fileno()
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.2)
        accepted = [_accept_all(listener) for listener in listeners]
        # A shared queue lets one process take all 64; a hash over 64 source ports gives
        # each socket some (all on one: p = 2^-63).
        assert sum(accepted) == 64 and min(accepted) > 0, accepted
    finally:
        for sock in [*clients, *listeners, anchor]:
            sock.close()


def test_connections_accepted_on_a_worker_listener_skip_nagle() -> None:
    """asyncio sets TCP_NODELAY only where the listener says IPPROTO_TCP: without it a
    keep-alive response's second write waits for the client's delayed ACK."""
    anchor = hold_port("127.0.0.1", 0)
    port = anchor.getsockname()[1]
    listener = pickle.loads(pickle.dumps(WorkerListener("127.0.0.1", port)))

    async def accepted_nodelay() -> int:
        loop = asyncio.get_running_loop()
        seen: asyncio.Future[int] = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, 5)
        finally:
            writer.close()
            server.close()

    try:
        assert asyncio.run(accepted_nodelay())
    finally:
        anchor.close()


def _accept_all(listener: socket.socket) -> int:
    count = 0
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return count
        connection.close()
        count += 1


@pytest.mark.slow
def test_serve_workers_listen_apart_and_a_restarted_worker_listens_again(
    tmp_path, tiny_encoder_path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("SAMESAY_")}
    env.update(SAMESAY_DATA_DIR=str(tmp_path / "data"), SAMESAY_MODEL_PATH=str(tiny_encoder_path))
    command = [sys.executable, "-m", "cli.main", "serve", "--no-bootstrap", "--port", str(port),
               "--workers", "2"]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        workers = _wait_for_listening_workers(process, port, 2)
        # The supervisor holds the port but does not listen: no connection waits on it.
        assert not _listening_inodes(port) & _socket_inodes(process.pid)
        second = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}" in second.stderr

        connections = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(32)]
        time.sleep(0.5)
        held = [len(_socket_inodes(pid) & _established_inodes(port)) for pid in workers]
        for connection in connections:
            connection.close()
        assert sum(held) == 32 and min(held) > 0, held

        os.kill(workers[0], signal.SIGKILL)
        restarted = _wait_for_listening_workers(process, port, 2, gone=workers[0])
        assert workers[1] in restarted
        for _ in range(8):  # whichever socket each lands on, it is answered
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
                assert answer.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output


def _wait_for_listening_workers(
    process: subprocess.Popen, port: int, count: int, gone: int | None = None
) -> list[int]:
    """The supervisor's children once `count` of them listen on `port`, each on its own."""
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, process.stdout.read().decode()
        children = _children(process.pid)
        listening = _listening_inodes(port)
        per_worker = [_socket_inodes(pid) & listening for pid in children if pid != gone]
        if sum(1 for inodes in per_worker if inodes) == count:
            assert all(len(inodes) == 1 for inodes in per_worker if inodes)
            assert len(set().union(*per_worker)) == count  # no socket shared
            return [pid for pid in children if pid != gone and _socket_inodes(pid) & listening]
        assert time.monotonic() < deadline, "workers not listening in 120 s"
        time.sleep(0.3)


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _tcp_inodes(port: int, state: str) -> set[int]:
    """Inodes of IPv4 TCP sockets on local `port` in `state` (0A listen, 01 established)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _listening_inodes(port: int) -> set[int]:
    return _tcp_inodes(port, "0A")


def _established_inodes(port: int) -> set[int]:
    return _tcp_inodes(port, "01")
