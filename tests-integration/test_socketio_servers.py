"""erlen-socketio across processes: gunicorn and uvicorn workers sharing a real Redis.

python-socketio's client talks to the servers over real sockets. Emits reach
the clients of every process through python-socketio's Redis manager (JSON on
the queue), and an external emitter (``SocketIO(message_queue=...)`` without an
app) reaches them too.

The multi-worker tests use the WebSocket transport only: a long-polling client
sends several HTTP requests per session, and with several workers behind one
port each request may land on a worker that does not know the session (it
answers 400). Polling needs sticky sessions (one client, one worker) from a
load balancer; a WebSocket is one connection, so it stays with its worker.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import http.client
import importlib.util
import json
import queue
import select
import socket
import sys
import time
import typing as t
from pathlib import Path

import pytest
from liveserver import answers
from liveserver import Client
from liveserver import free_port
from liveserver import require_server
from liveserver import run_server

pytestmark = pytest.mark.server

HERE = Path(__file__).parent
WAIT = 10.0

from test_browser import browser  # noqa: E402,F401  (headless Chromium, as for the demo)
from test_browser import chromium  # noqa: E402,F401  (the fixture browser needs)

socketio = pytest.importorskip("socketio", reason="python-socketio is not installed")
pytest.importorskip("erlen_socketio", reason="erlen-socketio is not installed")


Serve = t.Callable[..., str]


@pytest.fixture
def serve(tmp_path: Path) -> cabc.Iterator[Serve]:
    """Start ``serve(kind, workers, queue)``: gunicorn (gthread) or uvicorn; returns its URL."""
    with contextlib.ExitStack() as stack:
        count = 0

        def start(
            kind: str, workers: int = 1, queue_url: str | None = None, **env: str
        ) -> str:
            nonlocal count
            count += 1
            require_server(
                kind, importlib.util.find_spec(kind) is not None, f"pip install {kind}"
            )
            port = free_port()
            target = "apps.socketio_app:app"
            if kind == "gunicorn":
                command = [
                    sys.executable, "-m", "gunicorn", f"--bind=127.0.0.1:{port}",
                    f"--workers={workers}", "--worker-class=gthread",
                    "--threads=20", "--graceful-timeout=3", target,
                ]  # fmt: skip
            else:
                command = [
                    sys.executable, "-m", "uvicorn", "--host=127.0.0.1",
                    f"--port={port}", f"--workers={workers}",
                    "--timeout-graceful-shutdown=3", target,
                ]  # fmt: skip
            log = tmp_path / f"{kind}-{count}.log"
            started = (
                "Application startup complete"
                if kind == "uvicorn"
                else "Booting worker"
            )

            def ready() -> bool:
                booted = log.read_text(errors="replace").count(started)
                return booted >= workers and answers(port)

            stack.enter_context(
                run_server(
                    command,
                    name=kind,
                    cwd=HERE,
                    log_file=log,
                    ready=ready,
                    env={**env, "SIO_QUEUE": queue_url or ""},
                )
            )
            return f"http://127.0.0.1:{port}"

        yield start


class Recorder:
    """A python-socketio client over WebSocket and the events it received."""

    def __init__(self, url: str, **connect: t.Any) -> None:
        self.events: queue.Queue[tuple[str, tuple[t.Any, ...]]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda event, *args: self.events.put((event, args)))
        self.client.connect(url, transports=["websocket"], wait_timeout=WAIT, **connect)
        self.pid: int = self.next("hello")[0]["pid"]

    def next(self, name: str) -> tuple[t.Any, ...]:
        while True:
            event, args = self.events.get(timeout=WAIT)
            if event == name:
                return args

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def connect() -> cabc.Iterator[t.Callable[..., Recorder]]:
    made: list[Recorder] = []

    def make(url: str, **kwargs: t.Any) -> Recorder:
        made.append(Recorder(url, **kwargs))
        return made[-1]

    yield make
    for recorder in made:
        recorder.close()


def clients_on_two_processes(
    url: str, connect: t.Callable[..., Recorder], tries: int = 30
) -> tuple[Recorder, Recorder]:
    """Connect until two clients are served by different worker processes."""
    first = connect(url)
    for _ in range(tries):
        other = connect(url)
        if other.pid != first.pid:
            return first, other
        time.sleep(0.1)  # let the other worker's accept loop win one
    pytest.fail(f"{tries} connections all went to worker {first.pid}")


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_rooms_across_worker_processes(
    kind: str, serve: Serve, redis_url: str, connect: t.Callable[..., Recorder]
) -> None:
    url = serve(kind, workers=2, queue_url=redis_url, SIO_CHANNEL=f"rooms-{kind}")
    a, b = clients_on_two_processes(url, connect)
    assert a.client.call("join", "lobby", timeout=WAIT) == a.pid
    assert b.client.call("join", "lobby", timeout=WAIT) == b.pid
    a.client.emit("shout", ("lobby", "from a"))
    assert b.next("shout") == ({"text": "from a", "pid": a.pid},)
    assert a.next("shout") == ({"text": "from a", "pid": a.pid},)


def test_sync_and_async_servers_share_redis(
    serve: Serve, redis_url: str, connect: t.Callable[..., Recorder]
) -> None:
    wsgi = connect(serve("gunicorn", queue_url=redis_url, SIO_CHANNEL="mixed"))
    asgi = connect(serve("uvicorn", queue_url=redis_url, SIO_CHANNEL="mixed"))
    wsgi.client.call("join", "both", timeout=WAIT)
    asgi.client.call("join", "both", timeout=WAIT)
    asgi.client.emit("shout", ("both", "hi"))
    assert wsgi.next("shout")[0]["text"] == "hi"
    assert asgi.next("shout")[0]["text"] == "hi"


def test_external_emitter_reaches_every_process(
    serve: Serve, redis_url: str, connect: t.Callable[..., Recorder]
) -> None:
    from erlen_socketio import SocketIO

    url = serve("uvicorn", workers=2, queue_url=redis_url, SIO_CHANNEL="external")
    a, b = clients_on_two_processes(url, connect)
    import json

    import redis

    listener = redis.Redis.from_url(redis_url).pubsub()
    listener.subscribe("external")
    emitter = SocketIO(message_queue=redis_url, channel="external")
    emitter.emit("news", "to everyone")
    messages = (listener.get_message(timeout=WAIT) for _ in range(5))
    published = next(m for m in messages if m and m["type"] == "message")
    listener.close()
    assert json.loads(published["data"])["event"] == "news"  # JSON, never pickle
    assert a.next("news") == ("to everyone",)
    assert b.next("news") == ("to everyone",)
    b.client.call("join", "only-b", timeout=WAIT)
    emitter.emit("news", "to b", to="only-b")
    emitter.emit("news", "to all again")
    assert a.next("news") == ("to all again",)
    assert b.next("news") == ("to b",)


def test_login_required_events(
    serve: Serve, redis_url: str, connect: t.Callable[..., Recorder]
) -> None:
    pytest.importorskip("erlen_login", reason="erlen-login is not installed")
    import urllib.request

    url = serve("gunicorn")
    anonymous = connect(url)
    anonymous.client.emit("secret")
    deadline = time.monotonic() + WAIT
    while anonymous.client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not anonymous.client.connected  # disconnected, the handler never ran
    response = urllib.request.urlopen(
        urllib.request.Request(f"{url}/login/ann", method="POST"), timeout=WAIT
    )
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    user = connect(url, headers={"Cookie": cookie})
    assert user.client.call("secret", timeout=WAIT) == "secret"


def test_bogus_polling_requests_park_no_thread(
    serve: Serve, connect: t.Callable[..., Recorder]
) -> None:
    """Hundreds of bad Engine.IO requests are answered at once, waiting polls are
    bounded, and a good client is served afterwards."""
    url = serve("gunicorn")
    port = int(url.rsplit(":", 1)[1])
    bodies = [
        b"GET /socket.io/?EIO=4&transport=polling&sid=unknown HTTP/1.1",
        b"POST /socket.io/?EIO=4&transport=polling&sid=unknown HTTP/1.1",
        b"GET /socket.io/?EIO=3&transport=polling HTTP/1.1",
        b"GET /socket.io/?EIO=4&transport=carrier-pigeon HTTP/1.1",
        b"GET /socket.io/?transport=websocket HTTP/1.1",
    ]
    statuses: set[int] = set()
    for i in range(300):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        method, target = bodies[i % len(bodies)].split(b" ")[:2]
        try:
            connection.request(method.decode(), target.decode(), body=b"4garbage")
            response = connection.getresponse()
            response.read()
            statuses.add(response.status)
        finally:
            connection.close()
    assert statuses <= {400, 403, 404}
    # Half-open sessions: handshakes nobody polls, then a hundred waiting polls,
    # more than the worker has threads (20): the poll guard answers 503 past
    # its limit, so threads stay free for the good client.
    sids = []
    for _ in range(100):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            connection.request("GET", "/socket.io/?EIO=4&transport=polling")
            body = connection.getresponse().read().decode()
        finally:
            connection.close()
        sids.append(json.loads(body[1:])["sid"])
    waiting = []
    try:
        for sid in sids:
            sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
            waiting.append(sock)
            sock.sendall(
                f"GET /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\n\r\n".encode()
            )
        good = connect(url)
        assert good.client.call("join", "after-abuse", timeout=WAIT) == good.pid
        ready, _, _ = select.select(waiting, [], [], WAIT)
        assert ready and ready[0].recv(64).startswith(b"HTTP/1.1 503")
    finally:
        for sock in waiting:
            sock.close()


def test_logout_disconnects_the_users_sockets_in_every_process(
    serve: Serve, redis_url: str
) -> None:
    pytest.importorskip("erlen_login", reason="erlen-login is not installed")
    import urllib.request

    url = serve("uvicorn", workers=2, queue_url=redis_url, SIO_CHANNEL="logout")
    response = urllib.request.urlopen(
        urllib.request.Request(f"{url}/login/ann", method="POST"), timeout=WAIT
    )
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    clients: dict[int, t.Any] = {}
    try:
        for _ in range(30):  # bounded: until both processes hold one of ann's sockets
            pids: queue.Queue[dict[str, int]] = queue.Queue()
            client = socketio.Client(reconnection=False)
            client.on("hello", pids.put, namespace="/private")
            client.connect(
                url,
                namespaces=["/private"],
                transports=["websocket"],
                headers={"Cookie": cookie},
                wait_timeout=WAIT,
            )
            pid = pids.get(timeout=WAIT)["pid"]
            if pid in clients:
                client.disconnect()
                time.sleep(0.1)  # let the other worker's accept loop win one
            else:
                clients[pid] = client
            if len(clients) == 2:
                break
        assert len(clients) == 2, "every connection went to one worker"
        urllib.request.urlopen(
            urllib.request.Request(
                f"{url}/logout", method="POST", headers={"Cookie": cookie}
            ),
            timeout=WAIT,
        ).close()
        for client in clients.values():
            deadline = time.monotonic() + WAIT
            while client.connected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not client.connected
    finally:
        for client in clients.values():
            if client.connected:
                client.disconnect()


def test_chat_example_in_a_browser(
    browser: t.Any,  # noqa: F811  (the fixture imported above)
    tmp_path: Path,
) -> None:
    """examples/chat in headless Chromium, with python-socketio's client as a second user."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    require_server(
        "uvicorn",
        importlib.util.find_spec("uvicorn") is not None,
        "pip install uvicorn",
    )
    port = free_port()
    log = tmp_path / "chat.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--host=127.0.0.1",
        f"--port={port}",
        "app:app",
    ]
    chat = HERE.parent / "examples" / "chat"
    with run_server(
        command, name="uvicorn", cwd=chat, log_file=log, ready=lambda: answers(port)
    ):
        url = f"http://127.0.0.1:{port}"
        browser.get(url)
        browser.find_element(By.NAME, "name").send_keys("ann")
        browser.find_element(By.TAG_NAME, "button").click()

        def shows(text: str) -> None:
            WebDriverWait(browser, WAIT).until(
                lambda d: text in d.find_element(By.ID, "log").text,
                f"the page never showed {text!r}",
            )

        shows("ann joined lobby")
        bob_browser = Client(url)
        assert bob_browser.post("/login", form={"name": "bob"}).status == 302
        cookie = "; ".join(f"{c.name}={c.value}" for c in bob_browser.cookies)
        bob = socketio.Client(reconnection=False)
        heard: queue.Queue[dict[str, str]] = queue.Queue()
        bob.on("message", heard.put)
        bob.connect(
            url, transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=WAIT
        )
        try:
            assert bob.call("join", "lobby", timeout=WAIT) == "joined"
            shows("bob joined lobby")
            bob.call("say", ("lobby", "hi ann"), timeout=WAIT)
            shows("[lobby] bob: hi ann")
            assert heard.get(timeout=WAIT)["text"] == "hi ann"
            browser.find_element(By.ID, "text").send_keys("hello bob\n")
            assert heard.get(timeout=WAIT) == {
                "room": "lobby",
                "name": "ann",
                "text": "hello bob",
            }
        finally:
            bob.disconnect()
