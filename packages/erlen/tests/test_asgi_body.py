"""Request bodies under ASGI: streaming uploads, per-request limits, slow clients."""

from __future__ import annotations

import asyncio

from test_asgi import Exchange
from test_asgi import http_scope
from test_asgi import run

import erlen
from erlen.asgi import Message
from erlen.testing import ErlenClient

BIG = b"x" * (200 * 1024)


def test_streaming_view_reads_the_body_as_it_arrives(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.post("/upload")
    @erlen.stream_request_body
    async def upload() -> dict[str, int]:
        sizes = [len(chunk) async for chunk in erlen.request.stream_body()]
        return {"size": sum(sizes), "chunks": len(sizes)}

    rv = client.post("/upload", data=BIG)
    assert rv.status_code == 200
    assert rv.json is not None and rv.json["size"] == len(BIG)
    # Reading the stream again gives nothing more, as under WSGI.
    assert client.post("/upload", data=b"").json == {"size": 0, "chunks": 0}


def test_streaming_enforces_max_content_length(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024
    seen: list[int] = []

    @app.post("/upload")
    @erlen.stream_request_body
    async def upload() -> str:
        async for chunk in erlen.request.stream_body():
            seen.append(len(chunk))
        return "read"

    assert client.post("/upload", data=BIG).status_code == 413
    assert client.post("/upload", data=b"x" * 1000).data == b"read"


def test_streaming_enforces_the_limit_on_chunked_bodies(app: erlen.Erlen) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.post("/")
    @erlen.stream_request_body
    async def upload() -> str:
        return str(sum([len(c) async for c in erlen.request.stream_body()]))

    exchange = Exchange([b"x" * 60] * 20)
    rv = run(app, http_scope("/", "POST"), exchange)
    assert rv.status == 413
    # The view stopped reading one chunk past the limit.
    assert exchange.received_at_start == 2
    assert run(app, http_scope("/", "POST"), Exchange([b"x" * 40] * 2)).body == b"80"


def test_limit_raised_in_before_request_is_honoured(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000

    @app.before_request
    def raise_limit() -> None:
        if erlen.request.path.startswith("/big"):
            erlen.request.max_content_length = 1024 * 1024

    @app.post("/big/sync")
    @app.post("/small")
    def sync_view() -> str:
        return str(len(erlen.request.get_data()))

    @app.post("/big/async")
    async def async_view() -> str:
        return str(len(erlen.request.get_data()))

    @app.post("/big/stream")
    @erlen.stream_request_body
    async def stream_view() -> str:
        return str(sum([len(c) async for c in erlen.request.stream_body()]))

    for path in ("/big/sync", "/big/async", "/big/stream"):
        rv = client.post(path, data=BIG)
        assert (rv.status_code, rv.data) == (200, str(len(BIG)).encode()), path
    assert client.post("/small", data=BIG).status_code == 413
    assert client.post("/small", data=b"abc").data == b"3"


def test_stream_body_of_a_body_read_before_the_view(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.post("/")
    async def index() -> str:
        return str(sum([len(c) async for c in erlen.request.stream_body(1000)]))

    assert client.post("/", data=BIG).data == str(len(BIG)).encode()


class Trickle(Exchange):
    """A client that sends one piece of its body, then nothing for a long time."""

    async def receive(self) -> Message:
        if self.received == 0:
            self.received += 1
            return {"type": "http.request", "body": b"x", "more_body": True}
        await asyncio.sleep(3600)
        raise AssertionError("the app waited for the body without a time limit")


def test_slow_body_is_answered_408(app: erlen.Erlen) -> None:
    app.config["ASGI_BODY_TIMEOUT"] = 0.05
    called: list[bool] = []

    @app.post("/")
    def index() -> str:
        called.append(True)
        return ""

    headers = [(b"content-length", b"100")]
    rv = run(app, http_scope("/", "POST", headers), Trickle())
    assert rv.status == 408
    assert rv.headers[b"connection"] == b"close"
    assert called == []


def test_slow_streamed_body_is_answered_408_by_the_app(app: erlen.Erlen) -> None:
    app.config["ASGI_BODY_TIMEOUT"] = 0.05

    @app.errorhandler(408)
    def timeout(e: Exception) -> tuple[str, int]:
        return "too slow", 408

    @app.post("/")
    @erlen.stream_request_body
    async def index() -> str:
        return str(sum([len(c) async for c in erlen.request.stream_body()]))

    rv = run(app, http_scope("/", "POST"), Trickle())
    assert (rv.status, rv.body) == (408, b"too slow")


def test_get_without_a_body_is_not_read(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return repr(erlen.request.get_data())

    exchange = Exchange()
    rv = run(app, http_scope("/"), exchange)
    assert (rv.body, exchange.received_at_start) == (b"b''", 0)


def test_sync_reads_of_a_streamed_body_wait_for_the_loop(app: erlen.Erlen) -> None:
    @app.post("/")
    @erlen.stream_request_body
    def index() -> str:
        return str(len(erlen.request.stream.read()))

    exchange = Exchange([b"ab", b"cd", b"e"])
    rv = run(app, http_scope("/", "POST", [(b"content-length", b"5")]), exchange)
    assert rv.body == b"5"
    # The view read the whole body (each piece awaited on the loop) before answering.
    assert exchange.received_at_start == 3
