"""WebSocket routes under ASGI: the ``websocket`` global and the connection's life.

A route registered with ``@app.websocket("/path")`` (or on a blueprint) is an
``async def`` that talks through :data:`websocket`::

    @app.websocket("/echo")
    async def echo():
        while True:
            await websocket.send(await websocket.receive())

The handshake is a request like any other: URL converters, ``request.args``,
cookies and the signed session (read-only) work; ``before_websocket`` hooks
run before the handler and ``after_websocket`` hooks after it, then the
request's teardown. Under a WSGI server the route answers 426.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import sys
import typing as t
from types import MappingProxyType
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.local import LocalProxy

from .asgi import _Edge
from .asgi import build_environ
from .asgi import call_hook
from .asgi import Message
from .globals import _cv_request

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import Headers
    from werkzeug.datastructures import ImmutableMultiDict
    from werkzeug.datastructures import MultiDict

    from .app import Erlen
    from .asgi import Receive
    from .asgi import Scope
    from .asgi import Send
    from .wrappers import Request


class UpgradeRequired(HTTPException):
    """*426 Upgrade Required*: a WebSocket route reached over plain HTTP or WSGI."""

    code = 426
    description = (
        "This URL is a WebSocket endpoint. Connect with a WebSocket client,"
        " to an ASGI server (uvicorn, hypercorn, granian --interface asgi):"
        " a WSGI server cannot serve WebSockets."
    )

    def get_headers(self, *args: t.Any, **kwargs: t.Any) -> list[tuple[str, str]]:
        """The error page's headers plus ``Upgrade: websocket``."""
        return [*super().get_headers(*args, **kwargs), ("Upgrade", "websocket")]


class WebSocketDisconnect(Exception):
    """The connection is closed: the client left, or the app closed it.

    Raised by :meth:`WebSocket.receive` and :meth:`WebSocket.send`; a handler
    that lets it propagate ends normally.
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocket:
    """One WebSocket connection, as :data:`erlen.websocket` in a WebSocket route.

    ``receive()`` returns ``str`` for text and ``bytes`` for binary messages;
    ``send()`` sends either. The first ``receive`` or ``send`` accepts the
    connection if :meth:`accept` was not called. A message larger than
    ``WEBSOCKET_MAX_MESSAGE_SIZE`` closes the connection with 1009; no message
    for ``WEBSOCKET_IDLE_TIMEOUT`` seconds closes it with 1001.
    """

    def __init__(
        self, app: Erlen, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.app = app
        #: The handshake request (URL, headers, cookies, query string).
        self.request = request
        self.scope = scope
        self._receive = receive
        self._send = send
        self._connected = False
        self.accepted = False
        self.closed = False
        #: Held while accepting: a task's first send and the route's first
        #: receive must not both send ``websocket.accept``.
        self._handshake = asyncio.Lock()
        self.max_message_size: int | None = app.config["WEBSOCKET_MAX_MESSAGE_SIZE"]
        self.idle_timeout: float | None = app.config["WEBSOCKET_IDLE_TIMEOUT"]

    @property
    def args(self) -> MultiDict[str, str]:
        """The handshake's query string parameters."""
        return self.request.args

    @property
    def headers(self) -> Headers:
        """The handshake's headers."""
        return self.request.headers

    @property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """The handshake's cookies."""
        return self.request.cookies

    @property
    def path(self) -> str:
        """The handshake's path."""
        return self.request.path

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offers, in its order of preference."""
        return list(self.scope.get("subprotocols", ()))

    @property
    def session(self) -> t.Mapping[str, t.Any]:
        """The signed session of the handshake, read-only: a WebSocket cannot set cookies."""
        return MappingProxyType(dict(_cv_request.get().session))

    async def _connect(self) -> None:
        if not self._connected:
            message = await self._receive()
            if message["type"] != "websocket.connect":
                raise WebSocketDisconnect(message.get("code", 1006))
            self._connected = True

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: t.Iterable[tuple[str, str]] = (),
    ) -> None:
        """Accept the connection, optionally choosing a subprotocol and adding headers."""
        if self.accepted:
            return
        async with self._handshake:
            if self.accepted:  # another task accepted while this one waited
                return
            await self._connect()
            await self._send_or_disconnect(
                {
                    "type": "websocket.accept",
                    "subprotocol": subprotocol,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
                }
            )
            self.accepted = True

    async def _send_or_disconnect(self, message: Message) -> None:
        """Send ``message``; a client that left is :exc:`WebSocketDisconnect` (1006).

        Servers tell of it in their own way when the app sends: uvicorn raises
        its ``ClientDisconnected``, an :exc:`OSError`.
        """
        try:
            await self._send(message)
        except OSError as e:
            self.closed = True
            raise WebSocketDisconnect(1006, "The client left.") from e

    async def receive(self) -> str | bytes:
        """Wait for the next message; :exc:`WebSocketDisconnect` when the connection ends."""
        if self.closed:
            raise WebSocketDisconnect(1006, "The connection is closed.")
        await self.accept()
        try:
            if self.idle_timeout is None:
                message = await self._receive()
            else:
                message = await _receive_within(self._receive, self.idle_timeout)
        except asyncio.TimeoutError:
            await self.close(1001, "idle timeout")
            raise WebSocketDisconnect(1001, "idle timeout") from None
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebSocketDisconnect(
                message.get("code", 1005), message.get("reason") or ""
            )
        text: str | None = message.get("text")
        data: str | bytes = bytes(message.get("bytes") or b"") if text is None else text
        limit = self.max_message_size
        if limit is not None and len(data) > limit:
            await self.close(1009, "message too big")
            raise WebSocketDisconnect(1009, "message too big")
        return data

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if self.closed:
            raise WebSocketDisconnect(1006, "The connection is closed.")
        await self.accept()
        if isinstance(data, str):
            await self._send_or_disconnect({"type": "websocket.send", "text": data})
        else:
            await self._send_or_disconnect(
                {"type": "websocket.send", "bytes": bytes(data)}
            )

    async def receive_json(self) -> t.Any:
        """Receive a message and parse it as JSON with the app's provider."""
        return self.app.json.loads(await self.receive())

    async def send_json(self, obj: t.Any) -> None:
        """Send ``obj`` as a JSON text message, serialized by the app's provider."""
        await self.send(self.app.json.dumps(obj))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before :meth:`accept`, the server answers 403)."""
        if self.closed:
            return
        self.closed = True
        if not self._connected:
            try:
                await self._connect()
            except WebSocketDisconnect:
                return
        with contextlib.suppress(OSError):  # the client left already
            await self._send(
                {"type": "websocket.close", "code": code, "reason": reason}
            )


if sys.version_info >= (3, 11):

    async def _receive_within(receive: Receive, seconds: float) -> Message:
        """``await receive()``, at most ``seconds``: without a task per message."""
        async with asyncio.timeout(seconds):
            return await receive()

else:  # pragma: no cover - Python 3.10

    async def _receive_within(receive: Receive, seconds: float) -> Message:
        """``await receive()``, at most ``seconds``."""
        return await asyncio.wait_for(receive(), seconds)


_cv_websocket: contextvars.ContextVar[WebSocket] = contextvars.ContextVar(
    "erlen.websocket"
)

_no_websocket_msg = """\
Working outside of a WebSocket connection.

'websocket' is only available in a route registered with
@app.websocket(...), served by an ASGI server.\
"""

#: The current WebSocket connection, in a WebSocket route and its hooks.
websocket: WebSocket = LocalProxy(  # type: ignore[assignment]
    _cv_websocket, unbound_message=_no_websocket_msg
)


def websocket_route(handler: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """The view registered for a WebSocket handler: a 426 for HTTP requests."""

    @functools.wraps(handler)
    def view(**kwargs: t.Any) -> t.NoReturn:
        raise UpgradeRequired()

    view.websocket_handler = handler  # type: ignore[attr-defined]
    return view


def origin_allowed(app: Erlen, request: Request) -> bool:
    """Whether the handshake's ``Origin`` may connect: the app's own host by default,
    or ``WEBSOCKET_ALLOWED_ORIGINS`` (a list of origins, or ``"*"``)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: Origin protects browsers' users only
    allowed = app.config["WEBSOCKET_ALLOWED_ORIGINS"]
    if allowed == "*":
        return True
    if allowed is not None:
        return origin.rstrip("/") in {o.rstrip("/") for o in allowed}
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def _serve(app: Erlen, ws: WebSocket) -> None:
    """Run the route: hooks and handler, on the loop in the request's context."""
    req = ws.request
    rule = req.url_rule
    view = None if rule is None else app.view_functions.get(rule.endpoint)
    handler = getattr(view, "websocket_handler", None)
    if req.routing_exception is not None or handler is None:
        await ws.close(1008, "no WebSocket route at this URL")
        return
    if not origin_allowed(app, req):
        app.logger.warning("WebSocket from origin %r refused", req.headers["Origin"])
        await ws.close(1008, "origin not allowed")
        return
    hooks = app._hooks(req.blueprint)
    before, after = hooks.before_websocket, hooks.after_websocket
    try:
        try:
            for func in before:
                if await call_hook(app, func) is not None:
                    await ws.close(1008)
                    return
            await call_hook(app, functools.partial(handler, **(req.view_args or {})))
        finally:
            for func in after:
                await call_hook(app, func)
    except WebSocketDisconnect:
        pass
    except Exception:
        app.log_exception(sys.exc_info())
        if not ws.closed:
            await ws.close(1011, "internal error")
        return
    if not ws.closed:
        await ws.close(1000)


async def handle_websocket(
    app: Erlen, scope: Scope, receive: Receive, send: Send
) -> None:
    """Serve one WebSocket connection through its route."""
    environ = build_environ(scope, b"")
    # Match WebSocket rules even if the server left the handshake headers out.
    environ.setdefault("HTTP_UPGRADE", "websocket")
    environ.setdefault("HTTP_CONNECTION", "Upgrade")
    edge = _Edge(app)
    ctx = edge.context.run(app.request_context, environ)
    edge.context.run(ctx.push)
    error: BaseException | None = None
    try:
        ws = WebSocket(app, ctx.request, scope, receive, send)
        edge.context.run(_cv_websocket.set, ws)
        app._got_first_request = True
        await edge.task(_serve(app, ws))
    except BaseException as e:
        error = e
        raise
    finally:
        await edge.step(ctx.pop, error)
