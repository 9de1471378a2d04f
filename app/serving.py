"""How the service runs under uvicorn: its options, and one listening socket per worker
(SO_REUSEPORT) so that the kernel spreads connections evenly. `samesay serve` and the
benchmarks' launcher (bench/serve_encoder.py) both start it here, so only what they serve
differs.

uvicorn's `--workers N` binds one socket in the supervisor and every worker accepts from
its one queue. The worker that wakes first takes every connection waiting (asyncio accepts
up to the backlog per wake-up), so a burst of keep-alive clients (a proxy's pool, a load
test) can land on one worker while the others idle: measured with `bench service`
(`--workers 2`, 32 wrk connections), 1 run in 4 put all 32 on one worker and served 1,570-
1,820 /ask/s at ~1 core instead of 2,500-2,900 at 2. With SO_REUSEPORT each worker listens
on its own socket and Linux picks one per connection by a hash of its addresses.

Linux only: macOS and the BSDs accept the option but do not balance with it, so elsewhere
`serve_workers` keeps uvicorn's shared socket.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess


def serve(app_factory: str, host: str, port: int, workers: int, log_level: str) -> None:
    """Run `app_factory` ("module:function" returning the app): in this process for one
    worker, else under uvicorn's supervisor with a socket per worker (`serve_workers`).
    Raises ListenError when host:port cannot be listened on, before the app starts."""
    config = uvicorn.Config(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # create_app installs JSON logging in every worker
        log_level=log_level.lower(),
        access_log=False,  # the request middleware logs each request with its id
        server_header=False,
    )
    if workers > 1:
        serve_workers(config)
        return
    # Bound here, not by uvicorn: it binds after the app's startup (index load, GC freeze)
    # and then only logs the error and exits 3.
    sock = _bind(_tcp_socket(_family(host)), host, port)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def balances_connections() -> bool:
    """True where SO_REUSEPORT spreads a port's connections over its sockets."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class ListenError(OSError):
    """host:port cannot be listened on: taken (by another program or another samesay
    serve), not an address of this machine, or not allowed."""


def check_port(host: str, port: int) -> int:
    """Raise ListenError unless host:port could be listened on now (a plain bind, which
    fails while anything listens there, a SO_REUSEPORT group included); the port, where
    0 picks a free one. Called before work that would be wasted on a taken port."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        return probe.getsockname()[1]
    except OSError as error:
        raise _cannot_listen(host, port, error) from None
    finally:
        probe.close()


def hold_port(host: str, port: int) -> socket.socket:
    """A bound, not listening SO_REUSEPORT socket that keeps host:port ours while workers
    come and go (a socket that is not listening receives no connection).

    First `check_port`, so that a second `samesay serve` on the same port stops with an
    error instead of silently taking half of the first one's traffic. Port 0 picks a free
    port (read it from the returned socket)."""
    port = check_port(host, port)
    return _bind(_reuse_port_socket(_family(host)), host, port)


class WorkerListener:
    """What the supervisor hands each worker in place of a socket: unpickled in the
    worker (uvicorn starts workers with spawn, which pickles their arguments), it becomes
    that worker's own SO_REUSEPORT socket, bound to the held port; asyncio listens on it.
    A worker restarted after a crash gets a fresh one the same way."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return (_bound_worker_socket, (self.host, self.port))


def _bound_worker_socket(host: str, port: int) -> socket.socket:
    sock = _reuse_port_socket(_family(host))
    sock.bind((host, port))
    return sock


def serve_workers(config: uvicorn.Config) -> None:
    """Run `config.workers` uvicorn workers under uvicorn's supervisor (restarts, signals,
    health checks), each on its own socket where the kernel balances them."""
    if not balances_connections():
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    anchor = hold_port(config.host, config.port)
    try:
        listener = WorkerListener(config.host, anchor.getsockname()[1])
        Multiprocess(config, sockets=[listener]).run()  # type: ignore[list-item]
    finally:
        anchor.close()


def _reuse_port_socket(family: socket.AddressFamily) -> socket.socket:
    sock = _tcp_socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def _tcp_socket(family: socket.AddressFamily) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # says TCP, and without it Nagle holds a response's second write for the client's ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _bind(sock: socket.socket, host: str, port: int) -> socket.socket:
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise _cannot_listen(host, port, error) from None
    return sock


def _cannot_listen(host: str, port: int, error: OSError) -> ListenError:
    return ListenError(error.errno, f"cannot listen on {host}:{port}: {error.strerror or error}")


def _family(host: str) -> socket.AddressFamily:
    # As uvicorn's own bind: "::" is then dual-stack (the kernel's default), IPv4 included.
    return socket.AF_INET6 if ":" in host else socket.AF_INET
