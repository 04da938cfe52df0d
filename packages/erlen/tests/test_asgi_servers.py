"""The app under real ASGI servers (uvicorn, hypercorn, granian), started on 127.0.0.1.

granian also serves the same app object through its WSGI interface.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import http.client
import importlib
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
import os
import time
from pathlib import Path

import erlen
from erlen import websocket

app = erlen.Erlen(__name__)
app.config["ASGI_BODY_TIMEOUT"] = 1
state = {"upload_calls": 0, "uploads": 0, "started": False, "closed": [], "sockets_ended": []}


def note(event):
    with Path("lifespan.log").open("a") as log:
        log.write(event + "\\n")


@app.before_serving
async def started():
    if os.environ.get("SRVAPP_FAIL_START"):
        raise RuntimeError("cannot start: no database")
    state["started"] = True
    note("before_serving")


@app.while_serving
async def serving():
    note("while_serving: start")
    yield
    note("while_serving: end")


@app.after_serving
def stopped():
    note("after_serving")


@app.route("/")
async def index():
    await asyncio.sleep(0)
    return f"hello {erlen.request.args.get('n', '')}"


@app.route("/sync")
def sync():
    return {"sync": True}


@app.post("/upload")
def upload():
    state["upload_calls"] += 1
    size = len(erlen.request.get_data())
    state["uploads"] += 1
    return str(size)


@app.post("/json")
async def echo_json():
    return {"got": erlen.request.get_json()}


@app.post("/form")
def form():
    return f"hello {erlen.request.form['name']}"


@app.post("/stream-upload")
@erlen.stream_request_body
async def stream_upload():
    state["uploads"] += 1
    return str(sum([len(chunk) async for chunk in erlen.request.stream_body()]))


@app.route("/state")
def show_state():
    return state


@app.post("/state/clear")
def clear_state():
    state["closed"].clear()
    return ""


@app.route("/stream")
def stream():
    return erlen.Response(f"{i}," for i in range(3))


@app.route("/endless/<kind>")
async def endless(kind):
    def chunks():
        try:
            for _ in range(100_000):
                yield "x" * 1000
                time.sleep(0.001)
        finally:
            state["closed"].append("sync")

    async def async_chunks():
        try:
            for _ in range(100_000):
                yield "x" * 1000
                await asyncio.sleep(0.001)
        finally:
            state["closed"].append("async")

    return erlen.Response(chunks() if kind == "sync" else async_chunks())


@app.websocket("/echo/<name>")
async def echo(name):
    while True:
        await websocket.send(f"{name}: {await websocket.receive()}")


@app.websocket("/close/<int:code>")
async def close(code):
    await websocket.send(f"closing with {code}")
    if code == 1011:
        raise RuntimeError("the handler failed")
    await websocket.close(code, "bye")


@app.websocket("/push-and-echo")
async def push_and_echo():
    # As in examples/websocket: a task sends what the queue holds while the
    # handler receives, so a send and a receive both start the handshake.
    queue = asyncio.Queue()

    async def forward():
        while True:
            await websocket.send(await queue.get())

    pushing = asyncio.create_task(forward())
    queue.put_nowait("hello from the server")
    try:
        while True:
            queue.put_nowait(f"echo: {await websocket.receive()}")
    finally:
        pushing.cancel()


@app.websocket("/ticks")
async def ticks():
    for i in range(200):  # never receives: only send can tell the client left
        await websocket.send(str(i))
        await asyncio.sleep(0.01)


@app.after_websocket
def socket_ended():
    state["sockets_ended"].append(websocket.path)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require(module: str) -> None:
    try:
        importlib.import_module(module)  # granian's Rust core may not load
    except ImportError as error:
        message = f"{module} cannot be imported ({error}; pip install {module})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the real-server tests")
        pytest.skip(message)


def _start(args: list[str], folder: Path, **env: str) -> subprocess.Popen[bytes]:
    """Start ``python -m args`` in ``folder``, its output going to server.log there."""
    with (folder / "server.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )


def _wait_for(port: int, proc: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (folder / "server.log").read_text(errors="replace")
            raise RuntimeError(f"the server exited: {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start within 30 seconds")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server with SIGTERM, as a process manager would."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:  # pragma: no cover
        proc.kill()
        proc.wait(10)


@dataclasses.dataclass
class Served:
    """The app above running under one server, in its own folder."""

    port: int
    asgi: bool  # False: the server calls the app's WSGI entry
    folder: Path
    proc: subprocess.Popen[bytes]

    def stop(self) -> str:
        """Stop the server and return its output (the fixture's stop is then a no-op)."""
        _stop(self.proc)
        return self.log()

    def log(self) -> str:
        """What the server printed so far."""
        return (self.folder / "server.log").read_text(errors="replace")

    def lifespan_log(self) -> list[str]:
        """The lifespan hooks that ran so far, in order."""
        log = self.folder / "lifespan.log"
        return log.read_text().splitlines() if log.exists() else []


def _command(name: str, port: int) -> list[str]:
    if name == "uvicorn":
        return ["srvapp:app", "--host", "127.0.0.1", "--port", str(port)]
    if name == "hypercorn":
        # "asgi:" tells hypercorn the interface, which it cannot detect
        # from the marker on Python < 3.12.
        return ["--bind", f"127.0.0.1:{port}", "asgi:srvapp:app"]
    # granian's default interface is its own (RSGI): name ASGI or WSGI.
    interface = "wsgi" if name == "granian-wsgi" else "asgi"
    return ["--interface", interface, "--host", "127.0.0.1", "--port", str(port)] + [
        "srvapp:app"
    ]


@contextlib.contextmanager
def _serve(name: str, folder: Path) -> cabc.Iterator[Served]:
    """Serve the app above under the server ``name`` (``granian-wsgi``: granian's
    WSGI interface) from ``folder``."""
    module = name.partition("-")[0]
    _require(module)
    (folder / "srvapp.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    proc = _start([module, *_command(name, port)], folder)
    try:
        _wait_for(port, proc, folder)
        yield Served(port, name != "granian-wsgi", folder, proc)
    finally:
        _stop(proc)


ASGI_SERVERS = ["uvicorn", "hypercorn", "granian"]


@pytest.fixture(params=ASGI_SERVERS)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> cabc.Iterator[Served]:
    """The app above under each ASGI server."""
    with _serve(request.param, tmp_path) as served:
        yield served


@pytest.fixture(params=[*ASGI_SERVERS, "granian-wsgi"])
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> cabc.Iterator[Served]:
    """The app above under each ASGI server, and under granian's WSGI interface."""
    with _serve(request.param, tmp_path) as served:
        yield served


def get(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> t.Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def state_once(port: int, key: str) -> t.Any:
    """The app's ``state[key]`` once it is not empty (it is filled after the
    answer the client saw), polling every 0.1 s for at most 30 s."""
    value: t.Any = None
    for _ in range(300):
        value = json.loads(get(port, "/state")[2])[key]
        if value:
            break
        time.sleep(0.1)
    return value


def test_http_requests(any_server: Served) -> None:
    port = any_server.port
    assert get(port, "/?n=1")[2] == b"hello 1"
    status, headers, body = get(port, "/sync")
    assert status == 200
    assert json.loads(body) == {"sync": True}
    assert headers["x-content-type-options"] == "nosniff"
    assert get(port, "/stream")[2] == b"0,1,2,"
    assert get(port, "/upload", "POST", b"x" * 1000)[2] == b"1000"
    sent = json.dumps({"a": [1, "é"]}).encode()
    json_type = {"Content-Type": "application/json"}
    assert json.loads(get(port, "/json", "POST", sent, json_type)[2]) == {
        "got": {"a": [1, "é"]}
    }
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    assert get(port, "/form", "POST", b"name=ada+l%C3%A9", form_type)[2] == (
        "hello ada lé".encode()
    )
    assert get(port, "/nope")[0] == 404
    assert get(port, "/echo/x")[0] == 426
    # Lifespan hooks run under ASGI only; WSGI has no lifespan events.
    assert json.loads(get(port, "/state")[2])["started"] is any_server.asgi


def test_lifespan_hooks_run_when_the_server_starts_and_stops(
    any_server: Served,
) -> None:
    started = ["before_serving", "while_serving: start"]
    assert any_server.lifespan_log() == (started if any_server.asgi else [])
    output = any_server.stop()
    stopped = ["while_serving: end", "after_serving"]
    assert any_server.lifespan_log() == (
        started + stopped if any_server.asgi else []
    ), output


@pytest.mark.parametrize("name", ASGI_SERVERS)
def test_before_serving_that_raises_stops_the_server(tmp_path: Path, name: str) -> None:
    _require(name)
    (tmp_path / "srvapp.py").write_text(textwrap.dedent(APP))
    proc = _start(
        [name, *_command(name, _free_port())], tmp_path, SRVAPP_FAIL_START="1"
    )
    try:
        proc.wait(30)  # the server exits (hypercorn with status 0, the others 1 or 3)
    finally:
        _stop(proc)
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "RuntimeError: cannot start: no database" in log


def test_client_that_disconnects_mid_body(any_server: Served) -> None:
    port = any_server.port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 100000\r\n\r\n" + b"x" * 10
        )
    # The server keeps serving, and no view got the cut body.
    assert get(port, "/upload", "POST", b"abc")[2] == b"3"
    state = json.loads(get(port, "/state")[2])
    assert state["uploads"] == 1
    if any_server.asgi:  # the body is read before the view, which never ran
        assert state["upload_calls"] == 1


def test_streamed_upload(any_server: Served) -> None:
    body = b"x" * 300_000
    assert get(any_server.port, "/stream-upload", "POST", body)[2] == b"300000"


def test_stream_stops_when_the_client_leaves(any_server: Served) -> None:
    kinds = (
        ["sync", "async"] if any_server.asgi else ["sync"]
    )  # WSGI: no async iterables
    for kind in kinds:
        with socket.create_connection(
            ("127.0.0.1", any_server.port), timeout=30
        ) as sock:
            sock.sendall(
                f"GET /endless/{kind} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
            )
            with sock.makefile("rb") as answer:
                assert answer.readline().startswith(b"HTTP/1.1 200 ")
        assert state_once(any_server.port, "closed") == [kind]
        get(any_server.port, "/state/clear", "POST")


def test_client_that_trickles_its_body_gets_408(server: Served) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
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
    assert json.loads(get(server.port, "/state")[2])["upload_calls"] == 0


def test_websocket_client(server: Served) -> None:
    _require("websockets")
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.port}/echo/ada", open_timeout=30) as ws:
        ws.send("hello")
        assert ws.recv(timeout=30) == "ada: hello"
        ws.send(b"\x00\x01")
        assert ws.recv(timeout=30) == "ada: b'\\x00\\x01'"


def test_websocket_sending_from_a_task_while_receiving(server: Served) -> None:
    _require("websockets")
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.port}/push-and-echo", open_timeout=30) as ws:
        assert ws.recv(timeout=30) == "hello from the server"
        ws.send("x")
        assert ws.recv(timeout=30) == "echo: x"


@pytest.mark.parametrize("code", [1000, 4001, 1011])
def test_websocket_closed_by_the_handler(server: Served, code: int) -> None:
    _require("websockets")
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.port}/close/{code}", open_timeout=30) as ws:
        assert ws.recv(timeout=30) == f"closing with {code}"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    if code == 1011:  # an error in the handler: logged, and 1011 to the client
        assert "RuntimeError: the handler failed" in server.log()
    assert state_once(server.port, "sockets_ended") == [f"/close/{code}"]


def test_websocket_client_that_leaves_a_sending_handler(server: Served) -> None:
    _require("websockets")
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{server.port}/ticks", open_timeout=30) as ws:
        assert ws.recv(timeout=30) == "0"
        ws.socket.shutdown(socket.SHUT_RDWR)  # leave without a closing handshake
    # The handler ends when a send fails, or after its 200 sends (2 s).
    assert state_once(server.port, "sockets_ended") == ["/ticks"]
    # The client leaving is not the app's error.
    assert "Traceback" not in server.log()


def test_websocket_from_another_origin_is_refused(server: Served) -> None:
    _require("websockets")
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(
            f"ws://127.0.0.1:{server.port}/echo/x",
            origin="https://evil.example",  # type: ignore[arg-type]
            open_timeout=30,
        )
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("reload", ["--reload", "--no-reload"])
def test_erlen_run_asgi_serves_through_uvicorn(tmp_path: Path, reload: str) -> None:
    _require("uvicorn")
    (tmp_path / "srvapp.py").write_text(textwrap.dedent(APP))
    port = _free_port()
    proc = _start(
        ["erlen", "--app", "srvapp", "run", "--asgi", "--port", str(port), reload],
        tmp_path,
        ERLEN_SKIP_DOTENV="1",
    )
    try:
        _wait_for(port, proc, tmp_path)
        assert get(port, "/?n=run")[2] == b"hello run"
        _require("websockets")
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/echo/cli", open_timeout=30) as ws:
            ws.send("x")
            assert ws.recv(timeout=30) == "cli: x"
    finally:
        _stop(proc)
