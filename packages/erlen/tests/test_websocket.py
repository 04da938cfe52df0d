"""WebSocket routes under ASGI, through the WebSocket test client."""

from __future__ import annotations

import asyncio
import logging
import typing as t

import pytest

import erlen
from erlen import websocket
from erlen.testing_asgi import AsgiClient
from erlen.testing_asgi import WebSocketClosed
from erlen.testing_asgi import WebSocketRejected


@pytest.fixture
def ws_client(app: erlen.Erlen) -> AsgiClient:
    return t.cast(AsgiClient, app.test_client(asgi=True))


def run(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_echo_with_converters_args_and_url_for(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    @app.websocket("/room/<int:room>")
    async def room(room: int) -> None:
        prefix = websocket.args.get("prefix", "")
        await websocket.send(erlen.url_for("room", room=room + 1))
        while True:
            message = await websocket.receive()
            await websocket.send(f"{prefix}{room}:{message!r}")

    async def talk() -> list[str | bytes]:
        async with ws_client.websocket("/room/7?prefix=>") as ws:
            replies = [await ws.receive()]
            await ws.send("text")
            replies.append(await ws.receive())
            await ws.send(b"bytes")
            replies.append(await ws.receive())
            return replies

    # WebSocket URLs are built external, with the ws scheme.
    assert run(talk()) == ["ws://localhost/room/8", ">7:'text'", ">7:b'bytes'"]


def test_accept_with_subprotocol_then_close(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    @app.websocket("/ws")
    async def ws() -> None:
        assert websocket.subprotocols == ["chat", "json"]
        await websocket.accept(subprotocol="json", headers=[("X-Hello", "1")])
        await websocket.send_json({"hello": websocket.headers["X-Who"]})
        await websocket.close(4000, "bye")

    async def talk() -> tuple[t.Any, ...]:
        conn = ws_client.websocket("/ws", headers={"X-Who": "ada"})
        conn.scope["subprotocols"] = ["chat", "json"]
        async with conn as ws:
            message = await ws.receive()
            with pytest.raises(WebSocketClosed) as closed:
                await ws.receive()
            return ws.subprotocol, ws.accept_headers, message, closed.value.code

    subprotocol, headers, message, code = run(talk())
    assert subprotocol == "json"
    assert headers == [(b"x-hello", b"1")]
    assert erlen.json.loads(message) == {"hello": "ada"}
    assert code == 4000


def test_session_and_cookies_are_readable_not_writable(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    @app.route("/login")
    def login() -> str:
        erlen.session["user"] = "ada"
        return ""

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send(f"{websocket.session['user']} {sorted(websocket.cookies)}")
        try:
            websocket.session["user"] = "eve"  # type: ignore[index]
        except TypeError:
            await websocket.send("read-only")

    ws_client.get("/login")

    async def talk() -> list[str | bytes]:
        async with ws_client.websocket("/ws") as ws:
            return [await ws.receive(), await ws.receive()]

    assert run(talk()) == ["ada ['session']", "read-only"]


def test_hooks_run_around_app_and_blueprint_routes(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    events: list[str] = []
    bp = erlen.Blueprint("chat", __name__, url_prefix="/chat")

    @app.before_websocket
    def app_before() -> None:
        events.append("app before")

    @bp.before_websocket
    async def bp_before() -> None:
        events.append(f"bp before {erlen.request.path}")

    @bp.after_websocket
    async def bp_after() -> None:
        events.append("bp after")

    @app.after_websocket
    def app_after() -> None:
        events.append("app after")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    @bp.websocket("/ws")
    async def chat() -> None:
        events.append("handler")
        await websocket.send("hi")

    app.register_blueprint(bp)

    async def talk() -> str | bytes:
        async with ws_client.websocket("/chat/ws") as ws:
            return await ws.receive()

    assert run(talk()) == "hi"
    assert events == [
        "app before",
        "bp before /chat/ws",
        "handler",
        "bp after",
        "app after",
        "teardown",
    ]


def test_hooks_changed_after_a_connection_apply_to_the_next(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    events: list[str] = []

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send("hi")

    async def talk() -> None:
        async with ws_client.websocket("/ws") as ws:
            assert await ws.receive() == "hi"

    run(talk())
    # The hook chain is cached per blueprint; a registry change refreshes it.
    app.before_websocket_funcs[None].append(lambda: events.append("before"))
    app.after_websocket_funcs.setdefault(None, []).append(
        lambda: events.append("after")
    )
    run(talk())
    assert events == ["before", "after"]
    app.before_websocket_funcs[None].clear()
    run(talk())
    assert events == ["before", "after", "after"]


def test_before_websocket_value_refuses_the_connection(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    @app.before_websocket
    def refuse() -> str | None:
        return None if erlen.request.args.get("token") == "ok" else "no"

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send("in")

    async def talk() -> None:
        with pytest.raises(WebSocketRejected):
            async with ws_client.websocket("/ws"):
                pass
        async with ws_client.websocket("/ws?token=ok") as ws:
            assert await ws.receive() == "in"

    run(talk())


def test_error_closes_with_1011_and_is_logged(
    app: erlen.Erlen, ws_client: AsgiClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.accept()
        raise ZeroDivisionError("secret detail")

    async def talk() -> WebSocketClosed:
        async with ws_client.websocket("/ws") as ws:
            with pytest.raises(WebSocketClosed) as closed:
                await ws.receive()
            return closed.value

    with caplog.at_level(logging.ERROR):
        closed = run(talk())
    assert closed.code == 1011
    assert "secret" not in closed.reason
    assert "Exception on /ws [GET]" in caplog.text
    assert "ZeroDivisionError: secret detail" in caplog.text


def test_message_over_the_size_limit_closes_with_1009(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    app.config["WEBSOCKET_MAX_MESSAGE_SIZE"] = 10
    received: list[str | bytes] = []

    @app.websocket("/ws")
    async def ws() -> None:
        while True:
            received.append(await websocket.receive())

    async def talk() -> int:
        async with ws_client.websocket("/ws") as ws:
            await ws.send("small")
            await ws.send("x" * 11)
            with pytest.raises(WebSocketClosed) as closed:
                await ws.receive()
            return closed.value.code

    assert run(talk()) == 1009
    assert received == ["small"]


def test_idle_connection_is_closed(app: erlen.Erlen, ws_client: AsgiClient) -> None:
    app.config["WEBSOCKET_IDLE_TIMEOUT"] = 0.01

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.receive()

    async def talk() -> int:
        async with ws_client.websocket("/ws") as ws:
            with pytest.raises(WebSocketClosed) as closed:
                await ws.receive()
            return closed.value.code

    assert run(talk()) == 1001


@pytest.mark.parametrize(
    ("allowed", "origin", "accepted"),
    [
        (None, None, True),
        (None, "http://localhost", True),
        (None, "https://evil.example", False),
        (["https://app.example"], "https://app.example", True),
        (["https://app.example"], "http://localhost", False),
        ("*", "https://evil.example", True),
    ],
)
def test_origin_is_checked(
    app: erlen.Erlen,
    ws_client: AsgiClient,
    allowed: t.Any,
    origin: str | None,
    accepted: bool,
) -> None:
    app.config["WEBSOCKET_ALLOWED_ORIGINS"] = allowed

    @app.websocket("/ws")
    async def ws() -> None:
        await websocket.send("welcome")

    headers = {} if origin is None else {"Origin": origin}

    async def talk() -> bool:
        try:
            async with ws_client.websocket("/ws", headers=headers) as ws:
                assert await ws.receive() == "welcome"
        except WebSocketRejected:
            return False
        return True

    assert run(talk()) is accepted


def test_unknown_path_and_http_route_refuse_the_connection(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    @app.route("/page")
    def page() -> str:
        return "page"

    async def talk(path: str) -> int:
        with pytest.raises(WebSocketRejected) as rejected:
            async with ws_client.websocket(path):
                pass
        return rejected.value.code

    assert run(talk("/nope")) == 1008
    assert run(talk("/page")) == 1008


def test_client_disconnect_ends_the_handler(
    app: erlen.Erlen, ws_client: AsgiClient
) -> None:
    ended: list[int] = []

    @app.websocket("/ws")
    async def ws() -> None:
        try:
            while True:
                await websocket.receive()
        except erlen.sockets.WebSocketDisconnect as e:
            ended.append(e.code)
            raise

    async def talk() -> None:
        async with ws_client.websocket("/ws") as ws:
            await ws.send("one")
            await ws.close(1001)

    run(talk())
    assert ended == [1001]


def test_websocket_global_outside_a_connection(app: erlen.Erlen) -> None:
    with pytest.raises(RuntimeError, match="outside of a WebSocket"):
        websocket.path  # noqa: B018
