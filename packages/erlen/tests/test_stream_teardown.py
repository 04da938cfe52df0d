"""Streams tear the request down exactly once, on every path: sent, closed,
replaced, raised, abandoned; and the teardown sees an error the stream raised."""

from __future__ import annotations

import asyncio
import gc
import typing as t

import pytest

import erlen
from erlen.asgi import Message
from erlen.wrappers import Request

#: Through the WSGI and the ASGI entry, the apps made in helpers too.
pytestmark = pytest.mark.usefixtures("any_app_entry")


class _Recorder:
    def __init__(self, app: erlen.Erlen) -> None:
        self.events: list[tuple[str, str | None]] = []
        events = self.events

        class RecordingRequest(Request):
            def close(self) -> None:
                events.append(("request.close", None))
                super().close()

        app.request_class = RecordingRequest

        @app.teardown_request
        def teardown_request(exc: BaseException | None) -> None:
            events.append(("teardown_request", type(exc).__name__ if exc else None))

        @app.teardown_appcontext
        def teardown_appcontext(exc: BaseException | None) -> None:
            events.append(("teardown_appcontext", type(exc).__name__ if exc else None))

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def assert_once(self, exc: str | None = None) -> None:
        assert sorted(self.names()) == [
            "request.close",
            "teardown_appcontext",
            "teardown_request",
        ]
        assert ("teardown_request", exc) in self.events
        assert ("teardown_appcontext", exc) in self.events


def _rows() -> t.Iterator[str]:
    yield "a"
    yield "b"


@pytest.fixture
def app() -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


@pytest.fixture
def rec(app: erlen.Erlen) -> _Recorder:
    """Record the app's request closes and teardowns, from before its first request."""
    return _Recorder(app)


@pytest.fixture
def kept() -> list[t.Any]:
    """Where views keep the streams they make alive past the request."""
    return []


@pytest.fixture
def streaming_app(app: erlen.Erlen) -> erlen.Erlen:
    """The app with ``/`` returning a stream with context."""

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(_rows())

    return app


def _keep_a_stream(app: erlen.Erlen, kept: list[t.Any]) -> None:
    @app.route("/")
    def index() -> str:
        kept.append(erlen.stream_with_context(_rows()))  # kept alive by the app
        return "other"


def _drop_a_template_stream(app: erlen.Erlen, kept: list[t.Any]) -> None:
    @app.route("/")
    def index() -> str:
        erlen.stream_template_string("{{ 1 + 1 }}")
        return "other"


def _keep_a_stream_in_an_async_view(app: erlen.Erlen, kept: list[t.Any]) -> None:
    @app.route("/")
    async def index() -> str:
        kept.append(erlen.stream_with_context(_rows()))  # kept alive by the app
        return "other"


def test_sent_stream_tears_down_once(
    streaming_app: erlen.Erlen, rec: _Recorder
) -> None:
    response = streaming_app.test_client().get("/")
    assert response.data == b"ab"
    response.close()
    rec.assert_once()


@pytest.mark.parametrize(
    ("view", "keeps"),
    [
        (_keep_a_stream, True),
        (_drop_a_template_stream, False),
        (_keep_a_stream_in_an_async_view, True),
    ],
    ids=["stream", "template", "async-view"],
)
def test_stream_created_but_not_returned(
    app: erlen.Erlen,
    rec: _Recorder,
    kept: list[t.Any],
    view: t.Callable[[erlen.Erlen, list[t.Any]], None],
    keeps: bool,
) -> None:
    view(app, kept)
    response = app.test_client().get("/")
    assert response.data == b"other"
    response.close()
    rec.assert_once()
    assert bool(kept) is keeps


def test_after_request_replaces_streamed_response(
    streaming_app: erlen.Erlen, rec: _Recorder
) -> None:
    app = streaming_app
    replaced: list[erlen.Response] = []

    @app.after_request
    def replace(response: erlen.Response) -> erlen.Response:
        replaced.append(response)  # the streamed response stays referenced
        return erlen.Response("replaced")

    response = app.test_client().get("/")
    assert response.data == b"replaced"
    response.close()
    rec.assert_once()


def test_after_request_raises_on_streamed_response(
    streaming_app: erlen.Erlen, rec: _Recorder
) -> None:
    app = streaming_app

    @app.after_request
    def fail(response: erlen.Response) -> erlen.Response:
        raise LookupError("hook failed")

    response = app.test_client().get("/")
    assert response.status_code == 500
    response.close()
    rec.assert_once("LookupError")


def test_unread_unclosed_test_response_tears_down(
    streaming_app: erlen.Erlen, rec: _Recorder, any_app_entry: str
) -> None:
    client = streaming_app.test_client()
    response = client.get("/")
    assert response.status_code == 200
    if any_app_entry == "asgi":  # the ASGI server sent the body before answering
        rec.assert_once()
        return
    assert rec.events == []  # held while the body may still be read
    del response
    gc.collect()
    rec.assert_once()


def test_error_in_stream_reaches_teardown(
    app: erlen.Erlen, rec: _Recorder, any_app_entry: str
) -> None:

    @app.route("/")
    def index() -> t.Any:
        def rows() -> t.Iterator[str]:
            yield "a"
            raise KeyError("broken row")

        return erlen.stream_with_context(rows())

    client = app.test_client()
    if any_app_entry == "asgi":  # the error reaches the server, which drops the line
        with pytest.raises(KeyError):
            client.get("/")
    else:
        response = client.get("/")
        with pytest.raises(KeyError):
            response.get_data()
        response.close()
    rec.assert_once("KeyError")


def test_many_abandoned_streams_release_everything(app: erlen.Erlen) -> None:
    """Like a pool of 2 connections: each request takes one, teardown returns it."""
    pool = ["conn1", "conn2"]

    @app.before_request
    def take() -> None:
        erlen.g.conn = pool.pop()

    @app.teardown_appcontext
    def give_back(exc: BaseException | None) -> None:
        pool.append(erlen.g.conn)

    @app.route("/dropped")
    def dropped() -> str:
        erlen.stream_with_context(_rows())
        return "x"

    @app.route("/replaced")
    def replaced() -> t.Any:
        return erlen.stream_with_context(_rows())

    @app.after_request
    def maybe_replace(response: erlen.Response) -> erlen.Response:
        if erlen.request.path == "/replaced":
            return erlen.Response("y")
        return response

    client = app.test_client()
    for _ in range(3):
        client.get("/dropped")
        client.get("/replaced")
        client.get("/replaced").close()
        gc.collect()
    assert sorted(pool) == ["conn1", "conn2"]


# -- through the ASGI entry, as a server calls it: the peer leaves, send fails --


def _serve(
    app: erlen.Erlen, method: str = "GET", leave_after: int | None = None
) -> list[Message]:
    """Serve one request through the ASGI entry; what the app sent.

    The peer disconnects once ``leave_after`` messages were sent (``None``:
    once the body ended). Bounded: a hang fails the test.
    """
    sent: list[Message] = []

    async def main() -> None:
        gone = asyncio.Event()
        requested = False

        async def receive() -> Message:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)
            if leave_after is not None and len(sent) >= leave_after:
                gone.set()
            elif message["type"] == "http.response.body" and not message.get(
                "more_body"
            ):
                gone.set()
            await asyncio.sleep(0)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"localhost")],
            "server": ("localhost", 80),
            "client": ("127.0.0.1", 50000),
        }
        await asyncio.wait_for(app(scope, receive, send), 30)

    asyncio.run(main())
    return sent


def _many_rows() -> t.Iterator[str]:
    for _ in range(10_000):
        yield "row"


def test_asgi_peer_leaves_mid_stream(app: erlen.Erlen, rec: _Recorder) -> None:

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(_many_rows())

    sent = _serve(app, leave_after=3)
    assert sent[0]["status"] == 200
    assert len(sent) < 10_000  # the stream stopped when the peer left
    rec.assert_once()


def test_asgi_peer_leaves_before_an_unsent_stream_is_released(
    app: erlen.Erlen, rec: _Recorder, kept: list[t.Any]
) -> None:

    @app.route("/")
    def index() -> t.Any:
        kept.append(erlen.stream_with_context(_rows()))  # kept alive by the app
        return erlen.Response(_many_rows())

    sent = _serve(app, leave_after=1)  # gone once the status line is sent
    assert sent[0]["status"] == 200
    rec.assert_once()


def test_asgi_failing_send_releases_the_unsent_stream(
    app: erlen.Erlen, rec: _Recorder, kept: list[t.Any]
) -> None:
    _keep_a_stream(app, kept)

    async def failing_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            raise OSError("connection reset")

    async def main() -> None:
        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
        await asyncio.wait_for(app(scope, receive, failing_send), 30)

    with pytest.raises(OSError, match="connection reset"):
        asyncio.run(main())
    rec.assert_once()


def test_asgi_async_body_releases_the_unsent_stream(
    app: erlen.Erlen, rec: _Recorder, kept: list[t.Any]
) -> None:

    @app.route("/")
    def index() -> t.Any:
        kept.append(erlen.stream_with_context(_rows()))  # kept alive by the app

        async def body() -> t.AsyncIterator[bytes]:
            yield b"async"

        return erlen.Response(body())

    sent = _serve(app)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"async"
    rec.assert_once()


def test_asgi_head_of_a_streamed_response(
    streaming_app: erlen.Erlen, rec: _Recorder
) -> None:
    sent = _serve(streaming_app, method="HEAD")
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b""
    rec.assert_once()


def test_asgi_request_without_teardown_functions_is_still_closed(
    app: erlen.Erlen, kept: list[t.Any]
) -> None:
    """No teardown function: the request runs on the loop; closing still happens."""
    closed: list[str] = []

    class ClosingRequest(Request):
        def close(self) -> None:
            closed.append(self.path)
            super().close()

    app.request_class = ClosingRequest
    _keep_a_stream(app, kept)
    sent = _serve(app)
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"other"
    assert closed == ["/"]


def test_propagated_error_releases_a_kept_stream(
    app: erlen.Erlen, rec: _Recorder, kept: list[t.Any]
) -> None:
    """With errors propagated (testing), the view's error still reaches teardown."""
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/")
    def index() -> str:
        kept.append(erlen.stream_with_context(_rows()))  # kept alive by the app
        raise ValueError("view failed")

    with pytest.raises(ValueError, match="view failed"):
        app.test_client().get("/")
    rec.assert_once("ValueError")
