"""Request bodies under ASGI: streaming uploads, per-request limits, slow clients."""

from __future__ import annotations

import asyncio
import threading

from test_asgi import Exchange
from test_asgi import http_scope
from test_asgi import run

import erlen
import erlen.views
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


def _thread() -> str:
    return threading.current_thread().name


def test_async_class_views_and_hooks_of_sync_views_run_on_the_loop(
    app: erlen.Erlen,
) -> None:
    where: dict[str, str] = {}

    class Items(erlen.views.MethodView):
        async def get(self, id: int) -> str:
            where["get"] = _thread()
            await asyncio.sleep(0)
            return f"get {id}"

        async def post(self, id: int) -> str:
            return f"post {id} {erlen.request.get_data().decode()}"

    class Once(erlen.views.View):
        init_every_request = False

        async def dispatch_request(self) -> str:
            where["once"] = _thread()
            return "once"

    app.add_url_rule("/items/<int:id>", view_func=Items.as_view("items"))
    app.add_url_rule("/once", view_func=Once.as_view("once"))

    @app.before_request
    async def before() -> None:
        where.setdefault("before", _thread())

    @app.route("/sync")
    def sync_view() -> str:
        where["sync"] = _thread()
        return "sync"

    assert run(app, http_scope("/sync")).body == b"sync"
    assert run(app, http_scope("/items/3")).body == b"get 3"
    rv = run(app, http_scope("/items/4", "POST"), Exchange([b"data"]))
    assert rv.body == b"post 4 data"
    assert run(app, http_scope("/once")).body == b"once"
    assert run(app, http_scope("/items/3", "HEAD")).status == 200
    # Async code ran on the loop's thread; only the sync view took a pool thread.
    loop_thread = threading.current_thread().name
    assert where["sync"].startswith("erlen-asgi")
    assert where["before"] == where["get"] == where["once"] == loop_thread


def test_async_class_views_answer_under_both_entries(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    class Items(erlen.views.MethodView):
        async def get(self) -> str:
            return "items"

    class Mixed(erlen.views.MethodView):
        def get(self) -> str:
            return "sync get"

        async def post(self) -> str:
            return "async post"

    class Decorated(erlen.views.View):
        decorators = [lambda f: f]

        async def dispatch_request(self) -> str:
            return "decorated"

    app.add_url_rule("/items", view_func=Items.as_view("items"))
    app.add_url_rule("/mixed", view_func=Mixed.as_view("mixed"))
    app.add_url_rule("/decorated", view_func=Decorated.as_view("decorated"))
    assert client.get("/items").data == b"items"
    assert client.get("/mixed").data == b"sync get"
    assert client.post("/mixed").data == b"async post"
    assert client.get("/decorated").data == b"decorated"
    assert client.delete("/items").status_code == 405


def test_async_view_with_a_declared_body_over_the_limit_reads_none(
    app: erlen.Erlen,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.post("/")
    async def index() -> str:
        return str(len(erlen.request.get_data()))

    exchange = Exchange([b"x" * 500, b"x" * 500])
    rv = run(app, http_scope("/", "POST", [(b"content-length", b"1000")]), exchange)
    assert rv.status == 413
    assert exchange.received_at_start == 0
    exchange = Exchange([b"x" * 60] * 20)
    rv = run(app, http_scope("/", "POST"), exchange)
    assert rv.status == 413
    assert exchange.received_at_start == 2
