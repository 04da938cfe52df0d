"""The demo's live updates crossing gunicorn workers through Redis, and the whole stack.

The demo runs under gunicorn with 2 gthread workers and
``ERLEN_NOTES_SOCKETIO_QUEUE`` (with ``ERLEN_LOGIN_THROTTLE_STORE``) pointing
at a throwaway ``redis-server``. python-socketio's client, logged in with the
session cookie, holds one WebSocket on each worker; notes and comments are
written over HTTP. ``gunicorn_probe.py`` logs which worker accepted each
tagged request, so every check names the worker that wrote and a listener on
the *other* worker, which only Redis can have reached: without the queue
python-socketio delivers an emit to the writer's own clients only.
"""

from __future__ import annotations

import collections.abc as cabc
import functools
import importlib.util
import queue
import time
import typing as t
from pathlib import Path

import pytest
from demo_server import login
from demo_server import PROBE_ENV
from demo_server import query
from demo_server import register
from demo_server import served_by
from demo_server import start_demo
from demo_server import worker_pids
from liveserver import Client
from liveserver import LiveServer
from liveserver import StartServer

pytestmark = [pytest.mark.server, pytest.mark.redis]

socketio = pytest.importorskip("socketio", reason="python-socketio is not installed")
if importlib.util.find_spec("erlen_login") is None:  # pragma: no cover
    pytest.skip("erlen-login is not installed", allow_module_level=True)


#: Seconds to wait for one event, one connection, the queue's subscribers.
WAIT = 10.0
#: WebSocket connections tried, at most, to hold one on each worker (the
#: second worker may still be importing the app when the first answers).
CONNECT_TRIES = 60
#: erlen-socketio's default channel on the queue (the demo keeps it).
CHANNEL = "flask-socketio"
#: Failed logins allowed per account within the window (the stack test).
LIMIT = 3


@pytest.fixture
def redis_store(redis_url: str) -> cabc.Iterator[t.Any]:
    """A client of the Redis server, emptied before and after the test."""
    import redis

    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    yield store
    store.flushdb()
    store.close()


class Listener:
    """A logged-in page's Socket.IO connection (WebSocket only) and what it received.

    The handshake carries ``X-Probe: tag``, so :func:`served_by` names the
    worker holding the connection.
    """

    def __init__(self, url: str, cookie: str, tag: str) -> None:
        self.tag = tag
        self.events: queue.Queue[tuple[str, dict[str, t.Any]]] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        for event in ("note_created", "comment_created"):
            self.client.on(event, functools.partial(self._record, event))
        self.client.connect(
            url,
            transports=["websocket"],
            headers={"Cookie": cookie, "X-Probe": tag},
            wait_timeout=WAIT,
        )

    def _record(self, event: str, data: dict[str, t.Any]) -> None:
        self.events.put((event, data))

    def expect(self, event: str, **fields: t.Any) -> dict[str, t.Any]:
        """Wait at most :data:`WAIT` s for ``event`` whose data has ``fields``."""
        deadline = time.monotonic() + WAIT
        seen: list[tuple[str, dict[str, t.Any]]] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                name, data = self.events.get(timeout=left)
            except queue.Empty:
                break
            if name == event and all(data.get(k) == v for k, v in fields.items()):
                return data
            seen.append((name, data))
        pytest.fail(f"{self.tag} got no {event} with {fields}; it got {seen}")

    def watch(self, note_id: int) -> None:
        """Show note ``note_id``: its new comments come to this connection."""
        assert self.client.call("watch", note_id, timeout=WAIT) is True

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def listeners() -> cabc.Iterator[list[Listener]]:
    """Every :class:`Listener` a test appends here is closed after it."""
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.close()


def cookie_header(client: Client) -> str:
    """The ``Cookie`` header a browser logged in as ``client`` would send."""
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies)


def listen_on_both_workers(
    server: LiveServer, client: Client, made: list[Listener], redis_store: t.Any
) -> dict[int, Listener]:
    """Hold a logged-in WebSocket on each of the 2 workers; return them by pid.

    Connects until two distinct workers accepted one (at most
    :data:`CONNECT_TRIES` connections and ``3 * WAIT`` s), then waits until
    both workers subscribed to the queue, so that no event is published before.
    """
    held: dict[int, Listener] = {}
    deadline = time.monotonic() + 3 * WAIT
    for number in range(CONNECT_TRIES):
        if len(held) == 2 or time.monotonic() > deadline:
            break
        listener = Listener(server.url, cookie_header(client), f"listener-{number}")
        made.append(listener)
        pid = served_by(server, listener.tag)
        if pid in held:
            listener.close()
            time.sleep(0.1)  # let the other worker's accept loop win one
        else:
            held[pid] = listener
    assert len(held) == 2, f"every WebSocket went to worker {list(held)}"
    assert set(held) == set(worker_pids(server)), "a listener is not on a worker"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if dict(redis_store.pubsub_numsub(CHANNEL)).get(CHANNEL.encode()) == 2:
            return held
        time.sleep(0.05)
    pytest.fail(f"the 2 workers did not subscribe to {CHANNEL!r} within {WAIT} s")


def other(held: dict[int, Listener], pid: int) -> int:
    """The worker that is not ``pid`` (which must be one of the 2)."""
    assert pid in held, f"worker {pid} holds no listener: {list(held)}"
    (other_pid,) = (p for p in held if p != pid)
    return other_pid


def write_and_hear(
    server: LiveServer, writer: Client, held: dict[int, Listener], title: str
) -> tuple[int, int, int]:
    """Write a note over HTTP; both workers' listeners must get it.

    Return the note's id, the writing worker and the other worker.
    """
    tag = f"write-{title.replace(' ', '-')}"
    reply = writer.post(
        "/notes/new",
        form={"title": title, "body": f"body of {title}"},
        headers={"Origin": writer.base_url, "X-Probe": tag},
    )
    assert reply.status == 302, reply.text
    pid = served_by(server, tag)
    heard_on = other(held, pid)
    note = held[heard_on].expect("note_created", title=title)  # through Redis
    assert held[pid].expect("note_created", title=title) == note  # and locally
    return int(note["id"]), pid, heard_on


def comment_and_hear(
    server: LiveServer, writer: Client, held: dict[int, Listener], note_id: int
) -> tuple[int, int]:
    """Comment on a watched note over HTTP; both listeners must get it.

    Return the commenting worker and the other worker.
    """
    tag = f"comment-on-{note_id}"
    body = f"a comment on note {note_id}"
    reply = writer.post(
        f"/notes/{note_id}/comments",
        form={"body": body},
        headers={"Origin": writer.base_url, "X-Probe": tag},
    )
    assert reply.status == 302, reply.text
    pid = served_by(server, tag)
    heard_on = other(held, pid)
    heard = held[heard_on].expect("comment_created", note_id=note_id, body=body)
    assert held[pid].expect("comment_created", note_id=note_id) == heard
    return pid, heard_on


def test_live_updates_cross_the_workers_through_redis(
    gunicorn_server: StartServer,
    tmp_path: Path,
    redis_url: str,
    redis_store: t.Any,
    listeners: list[Listener],
) -> None:
    server = start_demo(
        gunicorn_server, tmp_path / "instance", redis=redis_url, env=PROBE_ENV
    )
    reader, writer = server.client(), server.client()
    register(reader, "reader")
    register(writer, "writer")
    held = listen_on_both_workers(server, reader, listeners, redis_store)

    note_id, wrote_on, heard_on = write_and_hear(
        server, writer, held, "Across the workers"
    )
    for listener in held.values():
        listener.watch(note_id)
    commented_on, comment_heard_on = comment_and_hear(server, writer, held, note_id)

    # What makes the test able to fail without the queue: each event was heard
    # by a connection held by a gunicorn worker that did not handle the write.
    workers = set(worker_pids(server))
    assert wrote_on != heard_on and {wrote_on, heard_on} == workers
    assert commented_on != comment_heard_on
    assert {commented_on, comment_heard_on} == workers
    assert "Traceback" not in server.log()


def test_the_whole_stack_on_postgresql_and_redis(
    gunicorn_server: StartServer,
    tmp_path: Path,
    postgresql_database_url: str,
    redis_url: str,
    redis_store: t.Any,
    listeners: list[Listener],
) -> None:
    database = postgresql_database_url
    server = start_demo(
        gunicorn_server,
        tmp_path / "instance",
        database=database,
        redis=redis_url,
        env={**PROBE_ENV, "ERLEN_LOGIN_THROTTLE_LIMIT": str(LIMIT)},
    )
    dana = server.client()
    dana_login = register(dana, "dana")
    erin = server.client()  # registers, then logs in again from another browser
    erin_login = register(server.client(), "erin")
    assert login(erin, *erin_login) == 302
    held = listen_on_both_workers(server, erin, listeners, redis_store)

    # dana writes; erin's pages on both workers show each note at once.
    served: list[tuple[int, int]] = []  # (writing worker, the other worker)
    for number in range(3):
        title = f"dana note {number}"
        note_id, wrote_on, heard_on = write_and_hear(server, dana, held, title)
        served.append((wrote_on, heard_on))
    for listener in held.values():
        listener.watch(note_id)
    served.append(comment_and_hear(server, erin, held, note_id))

    # Failed logins on fresh connections, whichever worker takes each: the
    # counters are in the same Redis, so the limit is the site's.
    failed = [login(server.client(), dana_login[0], "wrong") for _ in range(LIMIT)]
    assert failed == [400] * LIMIT
    assert login(server.client(), *dana_login) == 429
    assert redis_store.dbsize() > 0
    # dana, still logged in on her own connection, keeps writing and being heard.
    served.append(write_and_hear(server, dana, held, "dana after the lock-out")[1:])

    rows = query(database, "SELECT title FROM note ORDER BY id")
    assert [row[0] for row in rows] == [
        *(f"dana note {number}" for number in range(3)),
        "dana after the lock-out",
    ]
    comments = query(database, f"SELECT body FROM comment WHERE note_id = {note_id}")
    assert comments == [(f"a comment on note {note_id}",)]
    workers = set(worker_pids(server))
    assert all(a != b and {a, b} == workers for a, b in served), served
    assert "Traceback" not in server.log()
