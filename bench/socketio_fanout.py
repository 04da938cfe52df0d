"""Fan-out of erlen-socketio across two processes sharing Redis: messages per second.

Starts a redis-server and two single-worker servers of one app (uvicorn, or
gunicorn's gthread worker with ``--server gunicorn``) on 127.0.0.1, connects N
python-socketio clients over WebSocket split between them, then an external
emitter (``SocketIO(message_queue=...)`` without an app) broadcasts M events.
Prints deliveries per second (N x M over the time from the first emit to the
last delivery). Needs erlen-socketio, redis, python-socketio[client] and the
server installed; not run by CI.

    python bench/socketio_fanout.py --clients 100 --messages 200
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.request
from pathlib import Path

APP = """
from erlen import Erlen
from erlen_socketio import SocketIO
import os
app = Erlen(__name__)
socketio = SocketIO(app, message_queue=os.environ["SIO_QUEUE"], channel="fanout")
@app.get("/")
def index():
    return "ok"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).close()
            return
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--server", choices=["uvicorn", "gunicorn"], default="uvicorn")
    args = parser.parse_args()

    import socketio

    from erlen_socketio import SocketIO

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        Path(tmp, "fanout_app.py").write_text(APP)
        redis_port = free_port()
        redis = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(redis_port),
                "--save",
                "",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
        )
        stack.callback(redis.terminate)
        queue_url = f"redis://127.0.0.1:{redis_port}/0"
        urls = []
        for _ in range(2):
            port = free_port()
            if args.server == "uvicorn":
                command = [sys.executable, "-m", "uvicorn", "--host=127.0.0.1",
                           f"--port={port}", "--log-level=warning", "fanout_app:app"]  # fmt: skip
            else:
                command = [sys.executable, "-m", "gunicorn", f"--bind=127.0.0.1:{port}",
                           "--worker-class=gthread", f"--threads={args.clients + 10}",
                           "fanout_app:app"]  # fmt: skip
            server = subprocess.Popen(
                command, cwd=tmp, env={**os.environ, "SIO_QUEUE": queue_url},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(server.terminate)
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_http(url, time.monotonic() + 30)

        total = args.clients * args.messages
        received = 0
        lock = threading.Lock()
        done = threading.Event()
        last = [0.0]

        def on_tick(*_: t.Any) -> None:
            nonlocal received
            with lock:
                received += 1
                if received == total:
                    last[0] = time.perf_counter()
                    done.set()

        clients = []
        for i in range(args.clients):
            client = socketio.Client(reconnection=False)
            client.on("tick", on_tick)
            client.connect(urls[i % 2], transports=["websocket"], wait_timeout=10)
            clients.append(client)
        time.sleep(1)
        emitter = SocketIO(message_queue=queue_url, channel="fanout")
        start = time.perf_counter()
        for n in range(args.messages):
            emitter.emit("tick", n)
        if not done.wait(120):
            print(f"only {received} of {total} deliveries within 120 s")
        elapsed = (last[0] or time.perf_counter()) - start
        print(
            f"{args.server}: {args.clients} clients on 2 processes, {args.messages}"
            f" emits: {received} deliveries in {elapsed:.2f} s ="
            f" {received / elapsed:,.0f} messages/s"
        )
        for client in clients:
            client.disconnect()


if __name__ == "__main__":
    main()
