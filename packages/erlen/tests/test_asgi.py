"""The ASGI entry: async views on the loop, sync ones in the pool, bodies, streams, lifespan."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sys
import threading
import typing as t

import itsdangerous
import pytest

import erlen
from erlen.asgi import Message
from erlen.asgi import Scope

#: Bounds every wait in these tests, so a bug fails instead of hanging.
WAIT = 30


def http_scope(
    path: str = "/",
    method: str = "GET",
    headers: t.Sequence[tuple[bytes, bytes]] = (),
    query: bytes = b"",
) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }


class Exchange:
    """One ASGI HTTP call driven by hand: what the app received and sent."""

    def __init__(self, chunks: t.Sequence[bytes] = (b"",), disconnect: bool = False):
        self.to_app: list[Message] = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        if disconnect:
            self.to_app[-1]["more_body"] = True
            self.to_app.append({"type": "http.disconnect"})
        self.received = 0
        #: How many messages the app had received when it started its response.
        self.received_at_start: int | None = None
        self.sent: list[Message] = []
        self.finished = asyncio.Event()

    async def receive(self) -> Message:
        if self.received < len(self.to_app):
            self.received += 1
            return self.to_app[self.received - 1]
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.received_at_start = self.received
        self.sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            self.finished.set()

    @property
    def status(self) -> int:
        return t.cast(int, self.sent[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.sent[0]["headers"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


async def call(
    app: erlen.Erlen, scope: Scope, exchange: Exchange | None = None
) -> Exchange:
    exchange = exchange or Exchange()
    await asyncio.wait_for(app(scope, exchange.receive, exchange.send), WAIT)
    return exchange


def run(app: erlen.Erlen, scope: Scope, exchange: Exchange | None = None) -> Exchange:
    return asyncio.run(call(app, scope, exchange))


def test_servers_detect_an_asgi3_app(app: erlen.Erlen) -> None:
    # uvicorn (asyncio's check) and hypercorn (inspect's, honouring the
    # marker from Python 3.12) choose ASGI 3 by this; it relies on
    # erlen.asgi.mark_coroutine_function, which must keep working.
    if sys.version_info >= (3, 12):
        assert inspect.iscoroutinefunction(app.__call__)
    else:
        assert asyncio.iscoroutinefunction(app.__call__)


def test_same_object_serves_wsgi_and_asgi(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return "hello"

    wsgi = app.test_client().get("/")
    asgi = run(app, http_scope())
    assert wsgi.data == asgi.body == b"hello"
    assert asgi.status == 200


def test_200_async_requests_wait_together_on_one_loop(app: erlen.Erlen) -> None:
    """Each view sleeps a second; all 200 are in flight at once, on the loop's thread."""
    active = 0
    most = 0
    threads: set[int] = set()

    @app.route("/")
    async def index() -> str:
        nonlocal active, most
        threads.add(threading.get_ident())
        active += 1
        most = max(most, active)
        await asyncio.sleep(1)
        active -= 1
        return "slept"

    async def main() -> list[Exchange]:
        return await asyncio.gather(*(call(app, http_scope()) for _ in range(200)))

    threads_before = threading.active_count()
    results = asyncio.run(main())
    assert [r.body for r in results] == [b"slept"] * 200
    assert most == 200
    assert threads == {threading.get_ident()}
    assert threading.active_count() < threads_before + 10


def test_blocking_sync_view_does_not_stall_async_views(app: erlen.Erlen) -> None:
    release = threading.Event()
    sync_thread: list[int] = []

    @app.route("/block")
    def block() -> str:
        sync_thread.append(threading.get_ident())
        assert release.wait(WAIT)
        return "unblocked"

    @app.route("/fast")
    async def fast_view() -> str:
        return "fast"

    async def main() -> tuple[Exchange, Exchange, bool]:
        blocked = asyncio.ensure_future(call(app, http_scope("/block")))
        fast = await call(app, http_scope("/fast"))
        still_blocked = not blocked.done()
        release.set()
        return await blocked, fast, still_blocked

    blocked, fast, still_blocked = asyncio.run(main())
    assert fast.body == b"fast"
    assert still_blocked
    assert blocked.body == b"unblocked"
    assert sync_thread and sync_thread[0] != threading.get_ident()


def test_sync_and_async_code_share_the_request(app: erlen.Erlen) -> None:
    seen: list[tuple[str, bool]] = []

    @app.before_request
    def sync_before() -> None:
        erlen.g.sync_hook = erlen.request.args["v"]
        seen.append(("before", threading.get_ident() == loop_thread))

    @app.before_request
    async def async_before() -> None:
        erlen.g.async_hook = erlen.request.path
        seen.append(("async before", threading.get_ident() == loop_thread))

    @app.after_request
    async def after(response: erlen.Response) -> erlen.Response:
        response.headers["X-After"] = erlen.g.sync_hook
        return response

    @app.route("/async")
    async def async_view() -> str:
        erlen.session["n"] = 1
        seen.append(("async view", threading.get_ident() == loop_thread))
        return f"{erlen.g.sync_hook} {erlen.g.async_hook} {erlen.current_app.name}"

    @app.route("/sync")
    def sync_view() -> str:
        seen.append(("sync view", threading.get_ident() == loop_thread))
        return f"{erlen.g.sync_hook} {erlen.g.async_hook}"

    loop_thread = threading.get_ident()
    rv = run(app, http_scope("/async", query=b"v=1"))
    assert rv.body == b"1 /async erlen_test"
    assert rv.headers[b"x-after"] == b"1"
    assert rv.headers[b"set-cookie"].startswith(b"session=")
    assert run(app, http_scope("/sync", query=b"v=2")).body == b"2 /sync"
    assert seen == [
        ("before", False),
        ("async before", True),
        ("async view", True),
        ("before", False),
        # A sync view's hooks run in the pool; async ones are sent to the loop.
        ("async before", True),
        ("sync view", False),
    ]


def test_async_hooks_and_handlers_run_natively(app: erlen.Erlen) -> None:
    class Oops(Exception):
        pass

    @app.url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        if values:
            erlen.g.n = values.pop("n")

    @app.before_request
    async def stop() -> str | None:
        return "stopped" if erlen.request.args.get("stop") else None

    @app.errorhandler(Oops)
    async def handle(e: Oops) -> tuple[str, int]:
        return f"handled {erlen.g.n}", 418

    @app.route("/<int:n>")
    async def index() -> str:
        raise Oops()

    assert run(app, http_scope("/1", query=b"stop=1")).body == b"stopped"
    rv = run(app, http_scope("/7"))
    assert (rv.status, rv.body) == (418, b"handled 7")


def test_headers_and_cookies_match_wsgi_byte_for_byte(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The session cookie is signed with the time: the same second for all three.
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda _: 10**9)

    @app.route("/")
    def index() -> erlen.Response:
        erlen.session["user"] = "ada"
        response = erlen.make_response("body")
        response.set_cookie("extra", "1", samesite="Strict")
        return response

    @app.route("/a")
    async def async_index() -> erlen.Response:
        return index()

    wsgi = app.test_client().get("/")
    wsgi_headers = [(k.lower().encode(), v.encode()) for k, v in wsgi.headers.items()]
    assert run(app, http_scope("/")).sent[0]["headers"] == wsgi_headers
    assert run(app, http_scope("/a")).sent[0]["headers"] == wsgi_headers


def test_form_json_and_files_are_read_from_receive(app: erlen.Erlen) -> None:
    @app.post("/form")
    def form() -> dict[str, t.Any]:
        return {
            "form": erlen.request.form.to_dict(),
            "files": list(erlen.request.files),
        }

    @app.post("/json")
    async def json() -> t.Any:
        return erlen.request.get_json()

    boundary = b"b0und"
    multipart = (
        b'--b0und\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b'--b0und\r\nContent-Disposition: form-data; name="f"; filename="x.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nfile!\r\n--b0und--\r\n"
    )
    headers = [(b"content-type", b"multipart/form-data; boundary=" + boundary)]
    # The body arrives in several messages, without Content-Length (chunked).
    pieces = [multipart[i : i + 10] for i in range(0, len(multipart), 10)]
    rv = run(app, http_scope("/form", "POST", headers), Exchange(pieces))
    assert erlen.json.loads(rv.body) == {"form": {"a": "1"}, "files": ["f"]}
    body = b'{"x": [1, 2]}'
    json_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    rv = run(app, http_scope("/json", "POST", json_headers), Exchange([body]))
    assert erlen.json.loads(rv.body) == {"x": [1, 2]}


def test_body_over_the_limit_is_413_without_reading_the_rest(app: erlen.Erlen) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    called: list[bool] = []

    @app.post("/")
    def index() -> str:
        called.append(True)
        return str(len(erlen.request.get_data()))

    declared = [(b"content-length", b"1000")]
    exchange = Exchange([b"x" * 500, b"x" * 500])
    rv = run(app, http_scope("/", "POST", declared), exchange)
    assert rv.status == 413
    # Not a byte read: the declared length says enough.
    assert exchange.received_at_start == 0
    exchange = Exchange([b"x" * 60] * 20)
    rv = run(app, http_scope("/", "POST"), exchange)
    assert rv.status == 413
    # Chunked: read up to one byte past the limit.
    assert exchange.received_at_start == 2
    assert run(app, http_scope("/", "POST"), Exchange([b"x" * 100])).body == b"100"


def test_client_that_disconnects_mid_body_ends_the_request(app: erlen.Erlen) -> None:
    called: list[bool] = []

    @app.post("/")
    def index() -> str:
        called.append(True)
        return ""

    rv = run(app, http_scope("/", "POST"), Exchange([b"partial"], disconnect=True))
    assert rv.sent == []
    assert called == []


def test_sync_generator_is_streamed_chunk_by_chunk(app: erlen.Erlen) -> None:
    closed: list[bool] = []

    @app.route("/")
    def index() -> erlen.Response:
        @erlen.stream_with_context
        def generate() -> t.Iterator[str]:
            try:
                yield erlen.request.args["a"]
                yield "-"
                yield erlen.g.get("b", "none")
            finally:
                closed.append(True)

        erlen.g.b = "g"
        return erlen.Response(generate())

    rv = run(app, http_scope("/", query=b"a=1"))
    assert [m.get("body") for m in rv.sent[1:]] == [b"1", b"-", b"g", b""]
    assert closed == [True]


def test_stream_stops_when_the_client_leaves(app: erlen.Erlen) -> None:
    made = 0
    closed = threading.Event()

    @app.route("/")
    def index() -> erlen.Response:
        def forever() -> t.Iterator[bytes]:
            nonlocal made
            try:
                while made < 10_000:
                    made += 1
                    yield b"x"
            finally:
                closed.set()

        return erlen.Response(forever())

    class Leaves(Exchange):
        async def send(self, message: Message) -> None:
            await super().send(message)
            if len(self.sent) == 5:
                self.finished.set()  # receive() now reports the disconnect
            await asyncio.sleep(0)

    rv = run(app, http_scope("/"), Leaves())
    assert closed.is_set()
    assert made < 10_000
    assert rv.status == 200


def test_async_generator_response(app: erlen.Erlen) -> None:
    @app.route("/")
    async def index() -> t.Any:
        async def generate() -> t.AsyncIterator[str]:
            for word in ("async", " ", "stream"):
                await asyncio.sleep(0)
                yield word

        return generate(), {"X-Kind": "agen"}

    rv = run(app, http_scope("/"))
    assert rv.body == b"async stream"
    assert rv.headers[b"x-kind"] == b"agen"
    head = run(app, http_scope("/", "HEAD"))
    assert head.status == 200
    assert head.body == b""


def test_head_conditional_and_range_responses(app: erlen.Erlen) -> None:
    @app.route("/file")
    def file() -> erlen.Response:
        return erlen.send_file(__file__, conditional=True)

    wsgi = app.test_client().get("/file")
    data = wsgi.data
    wsgi.close()
    etag = wsgi.headers["ETag"].encode()
    rv = run(app, http_scope("/file", headers=[(b"if-none-match", etag)]))
    assert (rv.status, rv.body) == (304, b"")
    rv = run(app, http_scope("/file", headers=[(b"range", b"bytes=0-9")]))
    assert rv.status == 206
    assert rv.body == data[:10]
    rv = run(app, http_scope("/file", "HEAD"))
    assert rv.body == b""
    assert rv.headers[b"content-length"] == str(len(data)).encode()


def test_unhandled_error_is_the_500_page_and_logged(
    app: erlen.Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False

    @app.route("/sync")
    def sync_view() -> str:
        raise ZeroDivisionError("sync boom")

    @app.route("/async")
    async def async_view() -> str:
        raise ZeroDivisionError("async boom")

    wsgi = app.test_client().get("/sync")
    with caplog.at_level(logging.ERROR):
        for path in ("/sync", "/async"):
            rv = run(app, http_scope(path))
            assert (rv.status, rv.body) == (500, wsgi.data)
    messages = [r.getMessage() for r in caplog.records]
    assert "Exception on /sync [GET]" in messages
    assert "Exception on /async [GET]" in messages


def test_error_propagates_when_testing(app: erlen.Erlen) -> None:
    @app.route("/")
    async def index() -> str:
        raise ZeroDivisionError("raised")

    with pytest.raises(ZeroDivisionError):
        run(app, http_scope("/"))


def test_teardown_runs_after_async_and_sync_requests(app: erlen.Erlen) -> None:
    torn: list[str] = []

    @app.teardown_request
    def sync_teardown(exc: BaseException | None) -> None:
        torn.append(f"request {erlen.request.path}")

    @app.teardown_appcontext
    async def async_teardown(exc: BaseException | None) -> None:
        torn.append("appcontext")

    @app.route("/a")
    async def a() -> str:
        return ""

    @app.route("/s")
    def s() -> str:
        return ""

    run(app, http_scope("/a"))
    run(app, http_scope("/s"))
    assert torn == ["request /a", "appcontext", "request /s", "appcontext"]


def test_unknown_scope_type_is_an_error(app: erlen.Erlen) -> None:
    with pytest.raises(ValueError, match="'telepathy'"):
        run(app, {"type": "telepathy"})


# -- lifespan -------------------------------------------------------------------------


async def lifespan(app: erlen.Erlen) -> list[Message]:
    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []
    started = asyncio.Event()

    async def receive() -> Message:
        if len(sent) == 1:
            started.set()
        return events.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    await asyncio.wait_for(app({"type": "lifespan"}, receive, send), WAIT)
    return sent


def test_lifespan_runs_serving_hooks_in_order(app: erlen.Erlen) -> None:
    events: list[str] = []

    @app.before_serving
    async def open_pool() -> None:
        events.append(f"async before {erlen.current_app.name}")

    @app.before_serving
    def open_sync() -> None:
        events.append("sync before")

    @app.while_serving
    async def around() -> t.AsyncIterator[None]:
        events.append("while start")
        yield
        events.append("while end")

    @app.while_serving
    def sync_around() -> t.Iterator[None]:
        events.append("sync while start")
        yield
        events.append("sync while end")

    @app.after_serving
    async def close_pool() -> None:
        events.append("after")

    sent = asyncio.run(lifespan(app))
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert events == [
        "async before erlen_test",
        "sync before",
        "while start",
        "sync while start",
        "sync while end",
        "while end",
        "after",
    ]


def test_failed_startup_is_reported(
    app: erlen.Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    @app.before_serving
    def broken() -> None:
        raise RuntimeError("no database")

    sent = asyncio.run(lifespan(app))
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "no database" in sent[0]["message"]
    assert "Error while starting to serve" in caplog.text


# -- WebSocket routes outside ASGI ----------------------------------------------------


def test_websocket_route_under_wsgi_answers_426(app: erlen.Erlen) -> None:
    @app.websocket("/ws")
    async def ws() -> None:
        await erlen.websocket.send("never")

    client = app.test_client()
    handshake = {"Upgrade": "websocket", "Connection": "Upgrade"}
    for rv in (client.get("/ws", headers=handshake), client.get("/ws")):
        assert rv.status_code == 426
        assert rv.headers["Upgrade"] == "websocket"
        assert "WebSocket endpoint" in rv.get_data(as_text=True)
    assert run(app, http_scope("/ws")).status == 426
