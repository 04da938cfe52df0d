"""Deploy checks, the login decorator (erlen-login found at run time), and run()."""

from __future__ import annotations

import sys
import types
import typing as t

import blinker
import pytest

from erlen import Erlen
from erlen import session
from erlen.checks import run_deploy_checks
from erlen_socketio import login_required
from erlen_socketio import Namespace
from erlen_socketio import rooms
from erlen_socketio import SocketIO


def checks(app: Erlen) -> set[str]:
    return {p.check for p in run_deploy_checks(app) if p.check.startswith("socketio")}


def test_safe_setup_reports_nothing(app: Erlen, socketio: SocketIO) -> None:
    assert checks(app) == set()


def test_any_origin_is_reported(app: Erlen) -> None:
    SocketIO(app, cors_allowed_origins="*")
    assert checks(app) == {"socketio_cors"}


def test_workers_without_queue(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    SocketIO(app)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert checks(app) == {"socketio_queue"}


def test_polling_only_under_wsgi(app: Erlen) -> None:
    SocketIO(app, transports=["polling"])
    assert checks(app) == {"socketio_polling"}


class FakeUser:
    def __init__(self, name: str | None) -> None:
        self.name = name

    @property
    def is_authenticated(self) -> bool:
        return self.name is not None

    def get_id(self) -> str | None:
        return self.name


@pytest.fixture
def fake_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """erlen-login's ``current_user``, reduced to what login_required reads."""
    from werkzeug.local import LocalProxy

    module = types.ModuleType("erlen_login")
    module.current_user = LocalProxy(lambda: FakeUser(session.get("user")))  # type: ignore[attr-defined]
    module.user_logged_out = blinker.Namespace().signal("logged-out")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "erlen_login", module)


def login(app: Erlen, name: str) -> t.Any:
    http = app.test_client()
    with http.session_transaction() as sess:
        sess["user"] = name
    return http


def test_login_required_event(app: Erlen, socketio: SocketIO, fake_login: None) -> None:
    @socketio.event
    @login_required
    def secret() -> str:
        return "s"

    @socketio.event
    @login_required
    async def async_secret() -> str:
        return "a"

    anonymous = socketio.test_client(app)
    assert anonymous.emit("secret", callback=True) == []
    assert not anonymous.is_connected()
    user = socketio.test_client(app, flask_test_client=login(app, "ann"))
    assert user.emit("secret", callback=True) == "s"
    pytest.importorskip("asgiref")
    assert user.emit("async_secret", callback=True) == "a"


def test_login_required_connect(
    app: Erlen, socketio: SocketIO, fake_login: None
) -> None:
    @socketio.on("connect")
    @login_required
    def connect() -> None:
        return None

    assert not socketio.test_client(app).is_connected()
    assert socketio.test_client(app, flask_test_client=login(app, "a")).is_connected()


def test_login_required_namespace(
    app: Erlen, socketio: SocketIO, fake_login: None
) -> None:
    @login_required
    class Private(Namespace):
        def on_hello(self) -> str:
            return "hi"

    socketio.on_namespace(Private("/private"))
    assert not socketio.test_client(app, namespace="/private").is_connected("/private")
    member = socketio.test_client(
        app, namespace="/private", flask_test_client=login(app, "a")
    )
    assert member.emit("hello", namespace="/private", callback=True) == "hi"


def test_login_required_without_erlen_login(
    app: Erlen, socketio: SocketIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "erlen_login", None)

    @socketio.event
    @login_required
    def secret() -> str:
        return "s"

    with pytest.raises(RuntimeError, match=r"pip install 'erlen\[login\]'"):
        socketio.test_client(app).emit("secret")
    with pytest.raises(TypeError):
        login_required(3)


def test_run_refuses_werkzeug_in_production(app: Erlen, socketio: SocketIO) -> None:
    with pytest.raises(RuntimeError, match="allow_unsafe_werkzeug"):
        socketio.run(app)


def test_run_and_stop_serve_websockets(app: Erlen, socketio: SocketIO) -> None:
    import threading

    import socketio as sio

    from erlen_socketio import emit

    @socketio.event
    def hello() -> str:
        emit("hi")
        return "hello"

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    thread = threading.Thread(
        target=socketio.run,
        args=(app,),
        kwargs={"port": port, "allow_unsafe_werkzeug": True},
        daemon=True,
    )
    thread.start()
    client = sio.Client(reconnection=False)
    for _ in range(100):  # bounded: until the server listens
        try:
            client.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
            break
        except sio.exceptions.ConnectionError:
            threading.Event().wait(0.1)
    try:
        assert client.call("hello", timeout=10) == "hello"
    finally:
        client.disconnect()
        socketio.stop()
        thread.join(10)
    assert not thread.is_alive()
    with pytest.raises(RuntimeError, match="none runs"):
        socketio.stop()


def test_logout_disconnects_the_users_sockets(app: Erlen, fake_login: None) -> None:
    socketio = SocketIO(app)  # made after erlen-login is importable: hooks logout

    @socketio.on("connect")
    @login_required
    def connect() -> None:
        return None

    @socketio.event
    def my_rooms() -> list[str]:
        return rooms()

    ann = [socketio.test_client(app, flask_test_client=login(app, "ann")) for _ in "ab"]
    bob = socketio.test_client(app, flask_test_client=login(app, "bob"))
    assert "erlen-user:ann" in ann[0].emit("my_rooms", callback=True)
    sys.modules["erlen_login"].user_logged_out.send(app, user=FakeUser("ann"))  # type: ignore[union-attr]
    assert not any(client.is_connected() for client in ann)
    assert bob.is_connected()
    socketio.disconnect_user("bob")
    assert not bob.is_connected()
