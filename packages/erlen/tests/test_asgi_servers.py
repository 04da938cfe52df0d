"""The app under real ASGI servers (uvicorn, hypercorn), started on 127.0.0.1."""

from __future__ import annotations

import collections.abc as cabc
import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import typing as t
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

APP = """
import asyncio

import erlen
from erlen import websocket

app = erlen.Erlen(__name__)
app.config["ASGI_BODY_TIMEOUT"] = 1
state = {"uploads": 0, "started": False}


@app.before_serving
async def started():
    state["started"] = True


@app.route("/")
async def index():
    await asyncio.sleep(0)
    return f"hello {erlen.request.args.get('n', '')}"


@app.route("/sync")
def sync():
    return {"sync": True}


@app.post("/upload")
def upload():
    state["uploads"] += 1
    return str(len(erlen.request.get_data()))


@app.post("/stream-upload")
@erlen.stream_request_body
async def stream_upload():
    state["uploads"] += 1
    return str(sum([len(chunk) async for chunk in erlen.request.stream_body()]))


@app.route("/state")
def show_state():
    return state


@app.route("/stream")
def stream():
    return erlen.Response(f"{i}," for i in range(3))


@app.websocket("/echo/<name>")
async def echo(name):
    while True:
        await websocket.send(f"{name}: {await websocket.receive()}")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed (pip install {module})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the real-server tests")
        pytest.skip(message)


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {proc.stdout.read()!r}")  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start within 30 seconds")


@pytest.fixture(params=["uvicorn", "hypercorn"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> cabc.Iterator[int]:
    """Serve the app above under each server; yields its port."""
    name = request.param
    _require(name)
    (tmp_path / "srvapp.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    if name == "uvicorn":
        args = ["srvapp:app", "--host", "127.0.0.1", "--port", str(port)]
    else:
        # "asgi:" tells hypercorn the interface, which it cannot detect
        # from the marker on Python < 3.12.
        args = ["--bind", f"127.0.0.1:{port}", "asgi:srvapp:app"]
    proc = subprocess.Popen(
        [sys.executable, "-m", name, *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def get(port: int, path: str, method: str = "GET", body: bytes | None = None) -> t.Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_http_requests(server: int) -> None:
    assert get(server, "/?n=1")[2] == b"hello 1"
    status, headers, body = get(server, "/sync")
    assert status == 200
    assert json.loads(body) == {"sync": True}
    assert headers["x-content-type-options"] == "nosniff"
    assert get(server, "/stream")[2] == b"0,1,2,"
    assert get(server, "/upload", "POST", b"x" * 1000)[2] == b"1000"
    assert get(server, "/nope")[0] == 404
    assert get(server, "/echo/x")[0] == 426
    assert json.loads(get(server, "/state")[2])["started"] is True


def test_client_that_disconnects_mid_body(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"x" * 10
        )
    # The server keeps serving, and the view never ran for the cut request.
    assert get(server, "/upload", "POST", b"abc")[2] == b"3"
    assert json.loads(get(server, "/state")[2])["uploads"] == 1


def test_streamed_upload(server: int) -> None:
    body = b"x" * 300_000
    assert get(server, "/stream-upload", "POST", body)[2] == b"300000"


def test_client_that_trickles_its_body_gets_408(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nx"
        )
        answer = b""
        sock.settimeout(0.2)
        for _ in range(100):  # one byte every 0.2 s: at most 20 s
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                sock.sendall(b"x")
                continue
            break
        sock.settimeout(30)
        while answer and not answer.endswith(b"</p>\n"):
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()
    # The view never ran for the slow request.
    assert json.loads(get(server, "/state")[2])["uploads"] == 0


def test_websocket_client(server: int) -> None:
    _require("websockets")
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server}/echo/ada", open_timeout=30) as ws:
        ws.send("hello")
        assert ws.recv(timeout=30) == "ada: hello"
        ws.send(b"\x00\x01")
        assert ws.recv(timeout=30) == "ada: b'\\x00\\x01'"


def test_websocket_from_another_origin_is_refused(server: int) -> None:
    _require("websockets")
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(
            f"ws://127.0.0.1:{server}/echo/x",
            origin="https://evil.example",  # type: ignore[arg-type]
            open_timeout=30,
        )
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("reload", ["--reload", "--no-reload"])
def test_erlen_run_asgi_serves_through_uvicorn(tmp_path: Path, reload: str) -> None:
    _require("uvicorn")
    (tmp_path / "srvapp.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "erlen", "--app", "srvapp"]
        + ["run", "--asgi", "--port", str(port), reload],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ERLEN_SKIP_DOTENV": "1"},
    )
    try:
        _wait_for(port, proc)
        assert get(port, "/?n=run")[2] == b"hello run"
        _require("websockets")
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/echo/cli", open_timeout=30) as ws:
            ws.send("x")
            assert ws.recv(timeout=30) == "cli: x"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
