"""Smoke tests: every example, served by a real gunicorn, answers as its README says."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import importlib.util
import sys
from pathlib import Path

import pytest
from liveserver import answers
from liveserver import Client
from liveserver import free_port
from liveserver import LiveServer
from liveserver import require_server
from liveserver import run_server
from liveserver import StartServer

EXAMPLES = Path(__file__).parent

pytestmark = pytest.mark.server


def test_hello(serve_example: StartServer) -> None:
    server = serve_example("app:app", cwd=EXAMPLES / "hello")
    reply = server.client().get("/")
    assert reply.status == 200
    assert reply.text == "Hello, World!"
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert server.client().get("/missing").status == 404


@pytest.fixture
def factory(serve_example: StartServer) -> LiveServer:
    """The factory example, configured through ERLEN_* environment variables."""
    return serve_example(
        "factory:create_app()",
        cwd=EXAMPLES / "factory",
        env={"ERLEN_SECRET_KEY": "smoke-test-secret", "ERLEN_SITE_NAME": "Smoke site"},
    )


def test_factory_json_endpoint_reads_config_from_environment(
    factory: LiveServer,
) -> None:
    reply = factory.client().get("/api/status")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"site": "Smoke site", "visits": 0}


def test_factory_session_counter_round_trips_the_cookie(factory: LiveServer) -> None:
    browser = factory.client()
    first = browser.get("/")
    assert first.status == 200
    assert "visited this page 1 time." in first.text
    assert "session" in {cookie.name for cookie in browser.cookies}

    second = browser.get("/")
    assert "visited this page 2 times." in second.text
    assert browser.get("/api/status").json()["visits"] == 2

    stranger = factory.client()
    assert "visited this page 1 time." in stranger.get("/").text


def test_factory_pages_share_the_base_layout(factory: LiveServer) -> None:
    reply = factory.client().get("/greet")
    assert reply.status == 200
    assert "<title>Greet - Smoke site</title>" in reply.text
    assert '<a href="/api/status">' in reply.text
    assert '<form method="post">' in reply.text


def test_factory_flashes_after_post_redirect(factory: LiveServer) -> None:
    browser = factory.client()
    posted = browser.post("/greet", form={"name": "Ada <3"})
    assert posted.status == 302
    assert posted.headers["Location"] == "/"

    landed = browser.get("/")
    assert '<p class="flash success">Hello, Ada &lt;3!</p>' in landed.text
    assert "Hello, Ada" not in browser.get("/").text


def test_factory_rejects_an_empty_name_on_the_same_page(factory: LiveServer) -> None:
    reply = factory.client().post("/greet", form={"name": "  "}, follow_redirects=True)
    assert reply.status == 200
    assert '<p class="flash error">Please enter a name.</p>' in reply.text
    assert '<form method="post">' in reply.text


#: How each ASGI server serves ``app:app`` on 127.0.0.1 and a ``{port}``.
ASGI_COMMANDS = {
    "uvicorn": ["uvicorn", "--host", "127.0.0.1", "--port", "{port}", "app:app"],
    "granian": ["granian", "--interface", "asgi", "--host", "127.0.0.1"]
    + ["--port", "{port}", "app:app"],
}


@contextlib.contextmanager
def _asgi_server(
    folder: Path, tmp_path: Path, server: str = "uvicorn"
) -> cabc.Iterator[int]:
    """Serve ``folder``'s ``app:app`` with ``server`` (uvicorn or granian); yield its port."""
    require_server(
        server,
        importlib.util.find_spec(server) is not None,
        "python -m pip install 'erlen[asgi]'"
        if server == "uvicorn"
        else f"python -m pip install {server}",
    )
    port = free_port()
    command = [arg.format(port=port) for arg in ASGI_COMMANDS[server]]
    with run_server(
        [sys.executable, "-m", *command],
        name=server,
        cwd=folder,
        log_file=tmp_path / f"{server}.log",
        ready=lambda: answers(port),
    ):
        yield port


@pytest.fixture(params=list(ASGI_COMMANDS))
def websocket_example(
    request: pytest.FixtureRequest, tmp_path: Path
) -> cabc.Iterator[int]:
    """The websocket example under uvicorn and under granian; yields its port."""
    with _asgi_server(EXAMPLES / "websocket", tmp_path, request.param) as port:
        yield port


def test_websocket_chat_broadcasts(websocket_example: int) -> None:
    require_server(
        "websockets",
        importlib.util.find_spec("websockets") is not None,
        "python -m pip install websockets",
    )
    from websockets.sync.client import connect

    base = f"127.0.0.1:{websocket_example}"
    page = Client(f"http://{base}").get("/")
    assert page.status == 200
    assert "new WebSocket(" in page.text
    with connect(f"ws://{base}/chat?name=ada", open_timeout=30) as ada:
        assert ada.recv(timeout=30) == "ada joined"
        with connect(f"ws://{base}/chat?name=bob", open_timeout=30) as bob:
            assert ada.recv(timeout=30) == "bob joined"
            assert bob.recv(timeout=30) == "bob joined"
            bob.send("hello")
            assert ada.recv(timeout=30) == "bob: hello"
            assert bob.recv(timeout=30) == "bob: hello"
        assert ada.recv(timeout=30) == "bob left"


@pytest.fixture
def chat_example(tmp_path: Path) -> cabc.Iterator[int]:
    """The Socket.IO chat example under uvicorn; yields its port."""
    with _asgi_server(EXAMPLES / "chat", tmp_path) as port:
        yield port


def test_socketio_chat_rooms_for_signed_in_users(chat_example: int) -> None:
    socketio = pytest.importorskip(
        "socketio", reason="python-socketio is not installed"
    )
    import queue

    url = f"http://127.0.0.1:{chat_example}"
    assert "Sign in" in Client(url).get("/").text
    stranger = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError, match="failed to connect"):
        stranger.connect(url, transports=["websocket"], wait_timeout=30)

    users = []
    for name in ("ada", "bob"):
        browser = Client(url)
        browser.post("/login", form={"name": name})
        assert f"Chat as {name}" in browser.get("/").text
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
        received: queue.Queue[object] = queue.Queue()
        user = socketio.Client(reconnection=False)
        user.on("message", received.put)
        user.connect(
            url, transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=30
        )
        assert user.call("join", "lobby", timeout=30) == "joined"
        users.append((user, received))
    try:
        (ada, ada_got), (bob, bob_got) = users
        assert ada.call("say", ("lobby", "hello"), timeout=30) == "sent"
        expected = {"room": "lobby", "name": "ada", "text": "hello"}
        assert bob_got.get(timeout=30) == expected
        assert ada_got.get(timeout=30) == expected
        assert bob.call("join", "nowhere", timeout=30) == "no such room"
    finally:
        for user, _ in users:
            user.disconnect()
