"""Streams tear the request down exactly once, on every path: sent, closed,
replaced, raised, abandoned; and the teardown sees an error the stream raised."""

from __future__ import annotations

import gc
import typing as t

import pytest

import erlen
from erlen.wrappers import Request


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


def test_sent_stream_tears_down_once(app: erlen.Erlen) -> None:
    rec = _Recorder(app)

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(_rows())

    response = app.test_client().get("/")
    assert response.data == b"ab"
    response.close()
    rec.assert_once()


def test_stream_created_but_not_returned(app: erlen.Erlen) -> None:
    rec = _Recorder(app)
    kept: list[t.Any] = []

    @app.route("/")
    def index() -> str:
        kept.append(erlen.stream_with_context(_rows()))  # kept alive by the app
        return "other"

    response = app.test_client().get("/")
    assert response.data == b"other"
    response.close()
    rec.assert_once()
    assert kept


def test_stream_template_created_but_not_returned(app: erlen.Erlen) -> None:
    rec = _Recorder(app)

    @app.route("/")
    def index() -> str:
        erlen.stream_template_string("{{ 1 + 1 }}")
        return "other"

    response = app.test_client().get("/")
    assert response.data == b"other"
    response.close()
    rec.assert_once()


def test_after_request_replaces_streamed_response(app: erlen.Erlen) -> None:
    rec = _Recorder(app)
    replaced: list[erlen.Response] = []

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(_rows())

    @app.after_request
    def replace(response: erlen.Response) -> erlen.Response:
        replaced.append(response)  # the streamed response stays referenced
        return erlen.Response("replaced")

    response = app.test_client().get("/")
    assert response.data == b"replaced"
    response.close()
    rec.assert_once()


def test_after_request_raises_on_streamed_response(app: erlen.Erlen) -> None:
    rec = _Recorder(app)

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(_rows())

    @app.after_request
    def fail(response: erlen.Response) -> erlen.Response:
        raise LookupError("hook failed")

    response = app.test_client().get("/")
    assert response.status_code == 500
    response.close()
    rec.assert_once("LookupError")


def test_unread_unclosed_test_response_tears_down(app: erlen.Erlen) -> None:
    rec = _Recorder(app)

    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context(_rows())

    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 200
    assert rec.events == []  # held while the body may still be read
    del response
    gc.collect()
    rec.assert_once()


def test_error_in_stream_reaches_teardown(app: erlen.Erlen) -> None:
    rec = _Recorder(app)

    @app.route("/")
    def index() -> t.Any:
        def rows() -> t.Iterator[str]:
            yield "a"
            raise KeyError("broken row")

        return erlen.stream_with_context(rows())

    response = app.test_client().get("/")
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
