"""Serving the simulator with uvicorn on loopback: in the foreground (the CLI) or in a thread (tests).

The socket is bound before uvicorn starts, so port 0 works and the real port is known up front.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

HOST = "127.0.0.1"


def bind(port: int = 0, host: str = HOST) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are
    # TCP, and with Nagle on every response waits ~40 ms for a delayed ACK between headers and body.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening at once: a client that read the printed URL queues until uvicorn accepts.
    sock.listen(2048)
    return sock


def server_for(app: FastAPI, *, log_level: str = "warning") -> uvicorn.Server:
    # Lifespan off: the app has no startup work. A short graceful shutdown: a `slow` fault may still
    # be sleeping on a request whose client gave up long ago.
    config = uvicorn.Config(app, log_level=log_level, lifespan="off", timeout_graceful_shutdown=1)
    return uvicorn.Server(config)


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextmanager
def serving_in_thread(app: FastAPI, *, port: int = 0, startup_timeout: float = 10.0) -> Iterator[str]:
    """Runs `app` on 127.0.0.1 in a daemon thread; yields its base URL (without `/v1`), stops on exit."""
    sock = bind(port)
    server = server_for(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="kombo-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the Kombo simulator did not start")
        time.sleep(0.01)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
