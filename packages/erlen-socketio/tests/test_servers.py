"""python-socketio's client over real sockets against gunicorn (WSGI) and uvicorn (ASGI)."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import http.cookiejar
import queue
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import socketio
from realserver import serve

WAIT = 10.0


class Recorder:
    """A connected client and every event it received, in order."""

    def __init__(self, url: str, transports: list[str], **connect: t.Any) -> None:
        self.events: queue.Queue[tuple[str, tuple[t.Any, ...]]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.on("question", lambda text: f"answer to {text}")
        self.client.connect(url, transports=transports, wait_timeout=WAIT, **connect)

    def _record(self, event: str, *args: t.Any) -> None:
        self.events.put((event, args))

    def next(self, name: str) -> tuple[t.Any, ...]:
        """The arguments of the next ``name`` event (others before it are dropped)."""
        while True:
            event, args = self.events.get(timeout=WAIT)
            if event == name:
                return args

    def call(self, event: str, *args: t.Any) -> t.Any:
        return self.client.call(
            event, args[0] if len(args) == 1 else args, timeout=WAIT
        )


@pytest.fixture(params=["gunicorn", "uvicorn"], scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> cabc.Iterator[str]:
    log = tmp_path_factory.mktemp("server") / f"{request.param}.log"
    with serve(request.param, "sio_app:app", log) as url:
        yield url


@pytest.fixture
def clients() -> cabc.Iterator[list[Recorder]]:
    made: list[Recorder] = []
    yield made
    for recorder in made:
        recorder.client.disconnect()


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_events_rooms_and_acks(
    server: str, clients: list[Recorder], transport: str
) -> None:
    a = Recorder(server, [transport])
    b = Recorder(server, [transport])
    clients += [a, b]
    assert a.next("hello")[0]["user"] is None
    assert a.call("sync_echo", 1)["x"] == 1
    reply = a.call("async_echo", [1, "two"])
    assert reply["x"] == [1, "two"] and reply["sid"] == a.client.get_sid()
    assert a.next("echoed") == ([1, "two"],)
    a.call("join", "room")
    b.call("async_join", "room")
    b.call("shout", "room", "hi all")
    assert a.next("shout") == ("hi all",)
    assert b.next("shout") == ("hi all",)
    assert a.call("ask", "life") == "answer to life"


def test_async_handlers_run_on_the_loop_under_asgi(
    tmp_path: Path, clients: list[Recorder]
) -> None:
    with serve("uvicorn", "sio_app:app", tmp_path / "uvicorn.log") as url:
        client = Recorder(url, ["websocket"])
        clients.append(client)
        assert client.call("async_echo", 1)["thread"] == "MainThread"
        assert client.call("sync_echo", 1)["thread"].startswith("erlen-asgi")
        client.client.disconnect()


def test_emit_from_a_view_and_session(server: str, clients: list[Recorder]) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{server}/login", urllib.parse.urlencode({"user": "ann"}).encode())
    cookie = next(iter(jar))
    client = Recorder(
        server, ["websocket"], headers={"Cookie": f"{cookie.name}={cookie.value}"}
    )
    clients.append(client)
    assert client.next("hello")[0]["user"] == "ann"
    assert client.call("whoami") == "ann"
    data = urllib.parse.urlencode({"text": "from a view"}).encode()
    urllib.request.urlopen(f"{server}/emit", data, timeout=WAIT).close()
    assert client.next("news") == ("from a view",)


def test_login_required_without_erlen_login(
    server: str, clients: list[Recorder]
) -> None:
    client = Recorder(server, ["websocket"])
    clients.append(client)
    # erlen-login is not installed in this package's test session: a guarded
    # event fails on the server (logged) and the client never gets an answer.
    with pytest.raises(socketio.exceptions.TimeoutError):
        client.client.call("secret", timeout=1)


def test_class_based_namespace(server: str) -> None:
    client = socketio.Client(reconnection=False)
    client.connect(
        server, namespaces=["/rooms"], transports=["websocket"], wait_timeout=WAIT
    )
    try:
        assert (
            client.call("sync_hello", "ann", namespace="/rooms", timeout=WAIT)
            == "hello ann"
        )
        assert (
            client.call("async_hello", "bob", namespace="/rooms", timeout=WAIT)
            == "async hello bob"
        )
    finally:
        client.disconnect()


def test_malformed_and_oversized_packets(server: str, clients: list[Recorder]) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    ws_url = server.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    for garbage in ["4zzz", "42[unterminated", "40{", "4", "\x00\x01", "9"]:
        with connect(ws_url, open_timeout=WAIT) as ws:
            assert str(ws.recv(timeout=WAIT)).startswith("0{")  # Engine.IO open
            ws.send(garbage)
            with contextlib.suppress(ConnectionClosed, TimeoutError):
                ws.send("40")
                ws.recv(timeout=1)
    with connect(ws_url, open_timeout=WAIT, max_size=None) as ws:
        ws.recv(timeout=WAIT)
        ws.send("40")
        ws.recv(timeout=WAIT)  # Socket.IO connect
        with pytest.raises(ConnectionClosed):
            ws.send("42" + '["sync_echo","' + "x" * 2_000_000 + '"]')
            for _ in range(10):
                ws.recv(timeout=WAIT)
    good = Recorder(server, ["websocket"])
    clients.append(good)
    assert good.call("sync_echo", "still here")["x"] == "still here"


def test_async_error_handler(server: str) -> None:
    client = socketio.Client(reconnection=False)
    client.connect(
        server, namespaces=["/errors"], transports=["websocket"], wait_timeout=WAIT
    )
    try:
        for event in ("fail", "async_fail"):
            kind = "async failure" if event == "async_fail" else "sync failure"
            answer = client.call(event, namespace="/errors", timeout=WAIT)
            assert answer == f"handled {kind}"
    finally:
        client.disconnect()
