"""Test the app through its ASGI entry: ``app.test_client(asgi=True)``.

:class:`AsgiClient` has the API of the WSGI test client (it is one), but each
request becomes an ASGI ``http`` scope, its body arrives through ``receive``
and the response is read from ``send``, in an event loop run for the call.
``client.websocket(path)`` opens a WebSocket connection to the app::

    async with client.websocket("/echo") as ws:
        await ws.send("hi")
        assert await ws.receive() == "hi"
"""

from __future__ import annotations

import asyncio
import typing as t
from types import TracebackType
from urllib.parse import quote
from urllib.parse import urlsplit

from werkzeug.test import run_wsgi_app
from werkzeug.wsgi import get_current_url

from .testing import ErlenClient

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.datastructures import Headers

    from .app import Erlen
    from .asgi import Message
    from .asgi import Scope

#: Environ keys an ASGI scope carries itself; the others travel to the app as they are.
_IN_SCOPE = {
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
}

#: How much of the body one ``http.request`` message carries.
CHUNK_SIZE = 64 * 1024


def scope_from_environ(environ: WSGIEnvironment, kind: str = "http") -> Scope:
    """The ASGI scope a server would give for the request ``environ`` describes."""

    def text(key: str) -> str:
        return str(environ.get(key, "")).encode("latin-1").decode("utf-8", "replace")

    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
            name = key.replace("_", "-").lower()
        else:
            continue
        if value != "" or name not in {"content-type", "content-length"}:
            headers.append((name.encode("latin-1"), str(value).encode("latin-1")))
    root_path = text("SCRIPT_NAME")
    path = root_path + text("PATH_INFO")
    scheme = environ.get("wsgi.url_scheme", "http")
    if kind == "websocket":
        scheme = "wss" if scheme == "https" else "ws"
    port = environ.get("SERVER_PORT") or ("443" if scheme in {"https", "wss"} else "80")
    scope: Scope = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1"))[5:] or "1.1",
        "method": environ.get("REQUEST_METHOD", "GET"),
        "scheme": scheme,
        "path": path,
        "raw_path": quote(path).encode("ascii"),
        "root_path": root_path,
        "query_string": str(environ.get("QUERY_STRING", "")).encode("latin-1"),
        "headers": headers,
        "server": (environ.get("SERVER_NAME", "localhost"), int(port)),
        "client": (
            environ.get("REMOTE_ADDR", "127.0.0.1"),
            int(environ.get("REMOTE_PORT") or 0),
        ),
        "erlen.environ": {
            k: v
            for k, v in environ.items()
            if k not in _IN_SCOPE
            and (k == "wsgi.errors" or not k.startswith(("HTTP_", "wsgi.")))
        },
    }
    return scope


class AsgiTransport:
    """A WSGI callable that serves each request through the app's ASGI entry.

    The test client calls it like any WSGI app; it runs the ASGI call to the
    end in a fresh event loop and returns the body it sent.
    """

    def __init__(self, app: Erlen) -> None:
        self.app = app

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes]:
        return asyncio.run(self._serve(environ, start_response))

    async def _serve(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes]:
        stream = environ["wsgi.input"]
        # A redirect that keeps the body (307, 308) sends it again, as a
        # client would: read it here without using it up.
        start = stream.tell() if stream.seekable() else None
        done = asyncio.Event()
        sent_request = False
        started: Message | None = None
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent_request
            if not sent_request:
                chunk = stream.read(CHUNK_SIZE)
                more = len(chunk) == CHUNK_SIZE
                sent_request = not more
                return {"type": "http.request", "body": chunk, "more_body": more}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope_from_environ(environ), receive, send)
        finally:
            done.set()
            if start is not None:
                stream.seek(start)
        if started is None:
            raise RuntimeError("The app ended the ASGI call without a response.")
        from http import HTTPStatus

        code = started["status"]
        try:
            reason = HTTPStatus(code).phrase
        except ValueError:
            reason = "UNKNOWN"
        start_response(
            f"{code} {reason.upper()}",
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in started["headers"]],
        )
        return chunks


class AsgiClient(ErlenClient):
    """The test client, sending every request through the app's ASGI entry."""

    def run_wsgi_app(
        self, environ: WSGIEnvironment, buffered: bool = False
    ) -> tuple[t.Iterable[bytes], str, Headers]:
        """Run the request through :class:`AsgiTransport`, keeping cookies as usual."""
        self._add_cookies_to_wsgi(environ)
        rv = run_wsgi_app(AsgiTransport(self.application), environ, buffered=buffered)
        url = urlsplit(get_current_url(environ))
        self._update_cookies_from_response(
            url.hostname or "localhost", url.path, rv[2].getlist("Set-Cookie")
        )
        return rv

    def websocket(self, path: str, **kwargs: t.Any) -> WebSocketSession:
        """Open a WebSocket connection to ``path``: ``async with client.websocket(...) as ws``.

        Keyword arguments build the handshake like a request's (``headers=``,
        ``query_string=``...); the client's cookies are sent.
        """
        kwargs.setdefault("headers", {})
        request = self._request_from_builder_args((path,), kwargs)
        environ = request.environ
        environ.setdefault("HTTP_UPGRADE", "websocket")
        environ.setdefault("HTTP_CONNECTION", "Upgrade")
        self._add_cookies_to_wsgi(environ)
        return WebSocketSession(
            self.application, scope_from_environ(environ, "websocket")
        )


class WebSocketRejected(Exception):
    """The app closed the connection before accepting it (the server answers 403)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocketClosed(Exception):
    """The app closed the connection; ``code`` and ``reason`` say why."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class WebSocketSession:
    """A test WebSocket connection to the app, run as a task on the test's loop."""

    def __init__(self, app: Erlen, scope: Scope) -> None:
        self.app = app
        self.scope = scope
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        #: The subprotocol the app chose on accepting, and its extra headers.
        self.subprotocol: str | None = None
        self.accept_headers: list[tuple[bytes, bytes]] = []
        self.close_code: int | None = None

    async def __aenter__(self) -> WebSocketSession:
        self._task = asyncio.get_running_loop().create_task(
            self.app(self.scope, self._to_app.get, self._from_app.put)
        )
        await self._to_app.put({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] == "websocket.close":
            await self._task
            raise WebSocketRejected(
                message.get("code", 1000), message.get("reason", "")
            )
        self.subprotocol = message.get("subprotocol")
        self.accept_headers = list(message.get("headers", ()))
        return self

    async def _next(self) -> Message:
        assert self._task is not None
        getter = asyncio.ensure_future(self._from_app.get())
        await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        self._task.result()  # raises the app's error
        raise WebSocketClosed(1006, "The app ended the connection without closing it.")

    async def send(self, data: str | bytes) -> None:
        """Send a text or binary message to the app."""
        key = "text" if isinstance(data, str) else "bytes"
        await self._to_app.put({"type": "websocket.receive", key: data})

    async def receive(self) -> str | bytes:
        """The app's next message; :exc:`WebSocketClosed` once it closed the connection."""
        message = await self._next()
        if message["type"] == "websocket.close":
            code: int = message.get("code", 1000)
            self.close_code = code
            raise WebSocketClosed(code, message.get("reason") or "")
        text: str | None = message.get("text")
        if text is not None:
            return text
        return bytes(message.get("bytes", b""))

    async def close(self, code: int = 1000) -> None:
        """Close the connection from the client's side and wait for the app to finish."""
        if self._task is None:
            return
        await self._to_app.put({"type": "websocket.disconnect", "code": code})
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 5)
        finally:
            self._task = None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
