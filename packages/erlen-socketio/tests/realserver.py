"""Start gunicorn and uvicorn on 127.0.0.1 for tests; bounded waits."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

READY_TIMEOUT = 20.0
HERE = Path(__file__).parent


def in_ci() -> bool:
    """Whether the tests run in CI (``CI=true``), where a missing server fails."""
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


def require(name: str, available: bool, how: str) -> None:
    """Skip when ``name`` is missing, or fail under ``CI=true``."""
    if available:
        return
    reason = f"{name} is not installed; install it with: {how}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing server fails the test)")
    pytest.skip(reason)


def free_port() -> int:
    """A port on 127.0.0.1 free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(
    process: subprocess.Popen[bytes], log: Path, check: t.Callable[[], bool]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"server not ready in {READY_TIMEOUT} s:\n{log.read_text()}")


def _http_ok(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextlib.contextmanager
def _process(
    command: list[str], log: Path, env: cabc.Mapping[str, str], cwd: Path
) -> cabc.Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextlib.contextmanager
def serve(
    kind: str,
    target: str,
    log: Path,
    *,
    workers: int = 1,
    env: cabc.Mapping[str, str] | None = None,
    cwd: Path = HERE,
) -> cabc.Iterator[str]:
    """Serve ``target`` with ``"gunicorn"`` (gthread) or ``"uvicorn"``; yield its URL."""
    import importlib.util

    require(kind, importlib.util.find_spec(kind) is not None, f"pip install {kind}")
    port = free_port()
    if kind == "gunicorn":
        command = [
            sys.executable, "-m", "gunicorn", f"--bind=127.0.0.1:{port}",
            f"--workers={workers}", "--worker-class=gthread", "--threads=50",
            "--graceful-timeout=3", target,
        ]  # fmt: skip
    else:
        command = [
            sys.executable, "-m", "uvicorn", "--host=127.0.0.1", f"--port={port}",
            f"--workers={workers}", "--timeout-graceful-shutdown=3", target,
        ]  # fmt: skip
    with _process(command, log, env or {}, cwd) as process:
        _wait(process, log, lambda: _http_ok(port))
        yield f"http://127.0.0.1:{port}"
