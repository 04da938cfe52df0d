"""Flask-SocketIO's API through the in-process test client."""

from __future__ import annotations

import threading
import typing as t

import pytest

from erlen import Erlen
from erlen import request
from erlen import session
from erlen.ext import ExtensionError
from erlen_socketio import call
from erlen_socketio import close_room
from erlen_socketio import ConnectionRefusedError
from erlen_socketio import disconnect
from erlen_socketio import emit
from erlen_socketio import join_room
from erlen_socketio import leave_room
from erlen_socketio import Namespace
from erlen_socketio import rooms
from erlen_socketio import SocketIO


def test_connect_auth_and_refusal(app: Erlen, socketio: SocketIO) -> None:
    @socketio.on("connect")
    def connect(auth: dict[str, str] | None) -> bool | None:
        if auth is None:
            return False
        if auth.get("token") == "bad":
            raise ConnectionRefusedError("bad token")
        emit("welcome", auth["token"])
        return None

    good = socketio.test_client(app, auth={"token": "ok"})
    assert good.is_connected()
    assert good.get_received() == [
        {"name": "welcome", "args": ["ok"], "namespace": "/"}
    ]
    assert not socketio.test_client(app).is_connected()
    assert not socketio.test_client(app, auth={"token": "bad"}).is_connected()


def test_handler_sees_request_and_event(app: Erlen, socketio: SocketIO) -> None:
    seen: dict[str, t.Any] = {}

    @socketio.on("look", namespace="/chat")
    def look(data: int) -> str:
        seen.update(
            sid=request.sid,  # type: ignore[attr-defined]
            namespace=request.namespace,  # type: ignore[attr-defined]
            event=request.event,  # type: ignore[attr-defined]
            room=request.args["room"],
            header=request.headers["X-Client"],
            rooms=rooms(),
        )
        return "ack"

    client = socketio.test_client(
        app, namespace="/chat", query_string="room=7", headers={"X-Client": "t"}
    )
    assert client.emit("look", 1, namespace="/chat", callback=True) == "ack"
    assert seen["namespace"] == "/chat"
    assert seen["event"] == {"message": "look", "args": (1,)}
    assert seen["room"] == "7" and seen["header"] == "t"
    assert seen["rooms"] == [seen["sid"]]


def test_emit_to_rooms_skip_and_include_self(app: Erlen, socketio: SocketIO) -> None:
    @socketio.event
    def enter(room: str) -> None:
        join_room(room)

    @socketio.event
    def leave(room: str) -> None:
        leave_room(room)

    @socketio.event
    def shout(room: str) -> None:
        emit("heard", room, to=room, include_self=False)

    @socketio.event
    def shut(room: str) -> None:
        close_room(room)

    a, b, c = (socketio.test_client(app) for _ in range(3))
    a.emit("enter", "r")
    b.emit("enter", "r")
    a.emit("shout", "r")
    assert a.get_received() == []
    assert b.get_received() == [{"name": "heard", "args": ["r"], "namespace": "/"}]
    assert c.get_received() == []
    b.emit("leave", "r")
    c.emit("shout", "r")
    assert a.get_received()[0]["name"] == "heard"
    assert b.get_received() == []
    c.emit("shut", "r")
    c.emit("shout", "r")
    assert a.get_received() == []
    with app.app_context():
        socketio.emit("news", "all", skip_sid=None)
    assert [r["args"] for r in (a.get_received() + b.get_received())] == [
        ["all"],
        ["all"],
    ]


def test_emit_outside_handlers_needs_no_context(app: Erlen, socketio: SocketIO) -> None:
    client = socketio.test_client(app)
    socketio.emit("tick", 1, 2)
    socketio.send("hello")
    assert client.get_received() == [
        {"name": "tick", "args": [1, 2], "namespace": "/"},
        {"name": "message", "args": "hello", "namespace": "/"},
    ]


def test_helpers_outside_handlers_say_why(socketio: SocketIO) -> None:
    with pytest.raises(RuntimeError, match=r"inside a Socket.IO event handler"):
        emit("x")
    with pytest.raises(RuntimeError, match=r"socketio.join_room"):
        join_room("r")


def test_ack_callback_from_client(app: Erlen, socketio: SocketIO) -> None:
    answers: list[t.Any] = []

    @socketio.event
    def ask() -> None:
        emit("question", "?", callback=answers.append)

    client = socketio.test_client(app)
    client.emit("ask")
    assert client.get_received()[0]["name"] == "question"
    assert answers == []  # the test client does not answer events


def test_call_needs_a_client(app: Erlen, socketio: SocketIO) -> None:
    with pytest.raises(ValueError, match="to=<sid>"):
        socketio.call("ping")

    @socketio.event
    def ask() -> t.Any:
        return call("ping")

    client = socketio.test_client(app)
    # call() over real sockets is tested in test_servers.py; python-socketio can wait for an answer only in handlers run in the background
    with pytest.raises(RuntimeError, match="async_handlers"):
        client.emit("ask")


def test_disconnect_from_server(app: Erlen, socketio: SocketIO) -> None:
    reasons: list[t.Any] = []

    @socketio.event
    def bye() -> None:
        disconnect()

    @socketio.on("disconnect")
    def gone(reason: str) -> None:
        reasons.append(reason)

    client = socketio.test_client(app)
    client.emit("bye")
    assert not client.is_connected()
    assert reasons == ["server disconnect"]
    with pytest.raises(RuntimeError, match="not connected"):
        client.emit("bye")


def test_error_handlers(app: Erlen, socketio: SocketIO) -> None:
    @socketio.on("boom")
    def boom() -> None:
        raise KeyError("x")

    @socketio.on("boom", namespace="/other")
    def boom_other() -> None:
        raise ValueError("y")

    @socketio.on_error
    def handle(e: Exception) -> str:
        return f"root {type(e).__name__}"

    @socketio.on_error_default
    def default(e: Exception) -> str:
        return f"default {type(e).__name__}"

    assert socketio.test_client(app).emit("boom", callback=True) == "root KeyError"
    other = socketio.test_client(app, namespace="/other")
    assert other.emit("boom", namespace="/other", callback=True) == "default ValueError"


def test_unhandled_error_propagates_to_the_test(app: Erlen, socketio: SocketIO) -> None:
    @socketio.on("boom")
    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        socketio.test_client(app).emit("boom")


def test_catch_all_events_and_namespaces(app: Erlen) -> None:
    socketio = SocketIO(app, namespaces="*")

    @socketio.on("*")
    def anything(event: str, data: t.Any) -> None:
        emit("caught", event, data)

    @socketio.on("ping", namespace="*")
    def ping(data: t.Any) -> None:
        emit("pong", request.namespace)  # type: ignore[attr-defined]

    client = socketio.test_client(app)
    client.emit("whatever", 5)
    assert client.get_received()[0]["args"] == ["whatever", 5]
    other = socketio.test_client(app, namespace="/any")
    other.emit("ping", 1, namespace="/any")
    assert other.get_received("/any")[0]["args"] == ["/any"]


def test_class_based_namespace(app: Erlen, socketio: SocketIO) -> None:
    class Chat(Namespace):
        def on_connect(self, auth: t.Any) -> None:
            self.emit("hello", auth, to=request.sid)  # type: ignore[attr-defined]

        def on_say(self, text: str) -> str:
            self.send(text)
            return text.upper()

        def on_fail(self) -> None:
            raise RuntimeError("no")

        def error(self, e: Exception) -> str:
            return f"handled {e}"

    socketio.on_namespace(Chat("/chat"))
    client = socketio.test_client(app, namespace="/chat", auth={"a": 1})
    assert client.get_received("/chat") == [
        {"name": "hello", "args": [{"a": 1}], "namespace": "/chat"}
    ]
    assert client.emit("say", "hi", namespace="/chat", callback=True) == "HI"
    assert client.get_received("/chat")[0]["args"] == "hi"
    assert client.emit("fail", namespace="/chat", callback=True) == "handled no"
    assert client.emit("unknown", namespace="/chat", callback=True) == []
    with pytest.raises(TypeError, match="erlen_socketio.Namespace"):
        socketio.on_namespace(object())  # type: ignore[arg-type]


def test_managed_session_is_a_private_copy(app: Erlen, socketio: SocketIO) -> None:
    @app.post("/login")
    def login() -> str:
        session["user"] = "ann"
        return ""

    @socketio.event
    def whoami() -> t.Any:
        session["seen"] = session.get("seen", 0) + 1
        return [session["user"], session["seen"]]

    http = app.test_client()
    http.post("/login")
    client = socketio.test_client(app, flask_test_client=http)
    assert client.emit("whoami", callback=True) == ["ann", 1]
    assert client.emit("whoami", callback=True) == ["ann", 2]
    with http.session_transaction() as sess:
        assert "seen" not in sess


def test_unmanaged_session_is_opened_per_event(app: Erlen, socketio: SocketIO) -> None:
    socketio.manage_session = False

    @socketio.event
    def count() -> t.Any:
        session["n"] = session.get("n", 0) + 1
        return session["n"]

    client = socketio.test_client(app)
    assert client.emit("count", callback=True) == 1
    assert client.emit("count", callback=True) == 1  # a cookie session is frozen


def test_binary_and_tuple_acks(app: Erlen, socketio: SocketIO) -> None:
    @socketio.event
    def echo(data: bytes) -> tuple[bytes, int]:
        emit("back", data)
        return data, len(data)

    client = socketio.test_client(app)
    assert client.emit("echo", b"\x00\x01", callback=True) == [b"\x00\x01", 2]
    assert client.get_received()[0]["args"] == [b"\x00\x01"]


def test_async_handler_under_wsgi(app: Erlen, socketio: SocketIO) -> None:
    pytest.importorskip("asgiref")

    @socketio.event
    async def slow(x: int) -> int:
        return x * 2

    assert socketio.test_client(app).emit("slow", 4, callback=True) == 8


def test_background_task_and_sleep(app: Erlen, socketio: SocketIO) -> None:
    client = socketio.test_client(app)
    done = threading.Event()

    def job() -> None:
        socketio.sleep(0)
        socketio.emit("job", "done")
        done.set()

    thread = socketio.start_background_task(job)
    assert done.wait(10)
    thread.join(10)
    assert client.get_received() == [
        {"name": "job", "args": ["done"], "namespace": "/"}
    ]


def test_init_app_later_and_factories() -> None:
    socketio = SocketIO(ping_interval=5)

    @socketio.event
    def hello() -> str:
        return "hi"

    first, second = Erlen("one"), Erlen("two")
    socketio.init_app(first)
    socketio.init_app(second, cookie="io")
    assert socketio.server.eio.cookie == "io"
    assert (
        first.extensions["socketio"].server is not second.extensions["socketio"].server
    )
    for app in (first, second):
        assert socketio.test_client(app).emit("hello", callback=True) == "hi"


def test_second_owner_is_refused(app: Erlen, socketio: SocketIO) -> None:
    with pytest.raises(ExtensionError, match="already registered"):
        SocketIO(app)


def test_same_owner_may_reconfigure(app: Erlen, socketio: SocketIO) -> None:
    socketio.init_app(app, allow_upgrades=False)
    assert socketio.server.eio.allow_upgrades is False
    assert app.extensions["socketio"].server is socketio.server


def test_defaults_are_safe(socketio: SocketIO) -> None:
    eio = socketio.server.eio
    assert eio.max_http_buffer_size == 1_000_000
    assert eio.cors_allowed_origins is None  # same origin only
    assert eio.async_mode == "threading"


def test_bad_async_mode() -> None:
    with pytest.raises(ValueError, match="async_mode='tornado'"):
        SocketIO(async_mode="tornado")


def test_emitter_without_app_needs_a_queue() -> None:
    with pytest.raises(ValueError, match="message_queue"):
        SocketIO().init_app(None)
    with pytest.raises(RuntimeError, match="not bound"):
        SocketIO().emit("x")


def test_message_queue_managers() -> None:
    pytest.importorskip("redis")
    emitter = SocketIO(message_queue="redis://127.0.0.1:1", channel="c")
    manager = emitter.server_options["client_manager"]
    assert manager.write_only and manager.channel == "c"
    bound = SocketIO(Erlen(__name__), message_queue="redis://127.0.0.1:1")
    assert not bound.server_options["client_manager"].write_only


def test_wsgi_serves_engineio_under_the_path(app: Erlen, socketio: SocketIO) -> None:
    @app.get("/")
    def index() -> str:
        return "page"

    client = app.test_client()
    assert client.get("/").text == "page"
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200
    assert handshake.text.startswith("0{") and '"sid"' in handshake.text
    assert client.get("/socket.io/?EIO=4&transport=polling&sid=nope").status_code == 400
    assert client.get("/socket.io/?EIO=1").status_code == 400


def test_other_origins_are_refused(app: Erlen, socketio: SocketIO) -> None:
    client = app.test_client()
    evil = client.get(
        "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://evil.example"},
    )
    assert evil.status_code == 400
    same = client.get(
        "/socket.io/?EIO=4&transport=polling", headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 200


def test_emit_from_views_on_each_loop_of_the_asgi_test_client() -> None:
    """The ASGI test client runs each request on a new loop; emits follow it."""
    app = Erlen(__name__)
    socketio = SocketIO(app)

    @app.post("/shout")
    def shout() -> str:
        socketio.emit("news", "hi")
        return "sent"

    client = app.test_client(asgi=True)
    assert [client.post("/shout").text for _ in range(3)] == ["sent"] * 3
