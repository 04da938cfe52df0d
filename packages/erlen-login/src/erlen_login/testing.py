"""Test helpers: a throwaway ``redis-server`` on 127.0.0.1 for throttling tests.

.. code-block:: python

    with redis_server() as server:
        app.config["LOGIN_THROTTLE_STORE"] = server.url
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisServer", "RedisUnavailable", "redis_server"]


class RedisUnavailable(RuntimeError):
    """``redis-server`` is not installed or did not start; the message says why."""


@dataclasses.dataclass(frozen=True)
class RedisServer:
    """A running server started by :func:`redis_server`."""

    #: ``redis://127.0.0.1:<port>/0``
    url: str
    port: int
    #: The folder holding its log; removed at the end.
    directory: Path

    @property
    def log(self) -> str:
        """The server's log so far, to help explain a failing test."""
        try:
            return (self.directory / "redis.log").read_text(errors="replace")
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(
    executable: str | None = None, *, timeout: float = 15.0
) -> cabc.Iterator[RedisServer]:
    """Start ``redis-server`` on 127.0.0.1 and a free port, without persistence.

    :raises RedisUnavailable: the program is missing or did not answer in time.
    """
    program = executable or shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(program).is_file():
        raise RedisUnavailable(
            "redis-server was not found. Install it, e.g. 'apt-get install"
            " redis-server' on Debian or Ubuntu."
        )
    with tempfile.TemporaryDirectory(prefix="erlen-login-redis-") as folder:
        directory = Path(folder)
        port = _free_port()
        command = [
            program,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(directory),
            "--logfile", str(directory / "redis.log"),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + timeout
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (directory / "redis.log").read_text(errors="replace")
                        if (directory / "redis.log").exists()
                        else ""
                    )
                    raise RedisUnavailable(
                        f"redis-server did not start on port {port}:\n{log}"
                    )
                time.sleep(0.05)
            yield RedisServer(f"redis://127.0.0.1:{port}/0", port, directory)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
