"""The ASGI 3 entry point: HTTP requests and lifespan events over the WSGI pipeline.

An ``Erlen`` app called with ``(scope, receive, send)`` comes here. The
request pipeline (hooks, view, errors, sessions, after-request processing) is
the one :meth:`Erlen.wsgi_app` runs; only the edges differ:

* the body is read from ``receive`` before the view runs, up to
  ``MAX_CONTENT_LENGTH``, into the same WSGI environ a WSGI server would build,
  so ``request.form``, ``request.files`` and ``request.get_json()`` stay sync;
* an ``async def`` view runs on the server's event loop, with its async hooks
  awaited there too; sync views and hooks run in a bounded thread pool
  (``ASGI_MAX_THREADS``) inside the request's :mod:`contextvars` context;
* the response is sent from what :meth:`Response.get_wsgi_response` gives, so
  headers, cookies, HEAD, conditional and range responses match WSGI's.

All sync work of one request runs in one :class:`contextvars.Context`, one
step after the other, so contexts pushed in one step are popped in another.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import contextvars
import functools
import inspect
import io
import sys
import typing as t
import weakref
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestTimeout

from .config import check_limit_types
from .ext import _is_always_nonblocking
from .ext import is_nonblocking
from .globals import _cv_app
from .globals import _cv_request
from .helpers import release_streams
from .helpers import ReleasingAppIter
from .signals import appcontext_popped
from .signals import appcontext_tearing_down
from .signals import request_finished
from .signals import request_started
from .signals import request_tearing_down

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Erlen
    from .ctx import RequestContext
    from .wrappers import Response

#: An ASGI connection scope, event message, and the two callables of a call.
Scope = t.MutableMapping[str, t.Any]
Message = t.MutableMapping[str, t.Any]
Receive = t.Callable[[], t.Awaitable[Message]]
Send = t.Callable[[Message], t.Awaitable[None]]
F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: The event loop of the ASGI server, set in the context of every request.
_server_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = (
    contextvars.ContextVar("erlen.asgi.loop", default=None)
)

_pools: weakref.WeakKeyDictionary[Erlen, ThreadPoolExecutor] = (
    weakref.WeakKeyDictionary()
)


def thread_pool(app: Erlen) -> ThreadPoolExecutor:
    """The app's pool for sync views and hooks under ASGI (``ASGI_MAX_THREADS`` threads)."""
    pool = _pools.get(app)
    if pool is None:
        pool = _pools[app] = ThreadPoolExecutor(
            app.config["ASGI_MAX_THREADS"], thread_name_prefix="erlen-asgi"
        )
    return pool


def shutdown_thread_pool(app: Erlen) -> None:
    """Stop the app's pool once its running calls are done (on lifespan shutdown)."""
    pool = _pools.pop(app, None)
    if pool is not None:
        pool.shutdown(wait=False)


# -- calling sync code from the loop and async code from threads ----------------


class _Step(asyncio.Future[t.Any]):
    """A call running in a pool thread; awaiting it cannot be cancelled.

    The thread holds the request's context until the call returns: the
    awaiting task must not resume (and enter that context) before.
    """

    def cancel(self, msg: t.Any | None = None) -> bool:
        return False


def _settle(step: _Step, done: Future[t.Any]) -> None:
    exc = done.exception()
    if exc is not None:
        step.set_exception(exc)
    else:
        step.set_result(done.result())


def run_in_pool(
    loop: asyncio.AbstractEventLoop,
    pool: ThreadPoolExecutor,
    context: contextvars.Context,
    func: t.Callable[..., t.Any],
    *args: t.Any,
) -> asyncio.Future[t.Any]:
    """Run ``func(*args)`` in ``context`` in a pool thread; await the result on ``loop``."""
    step = _Step(loop=loop)

    def done(future: Future[t.Any]) -> None:
        try:
            loop.call_soon_threadsafe(_settle, step, future)
        except RuntimeError:  # pragma: no cover - the loop closed meanwhile
            pass

    pool.submit(context.run, func, *args).add_done_callback(done)
    return step


def to_thread(app: Erlen, func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
    """Await ``func(*args)`` in the app's pool, in a copy of the current context."""
    return run_in_pool(
        asyncio.get_running_loop(),
        thread_pool(app),
        contextvars.copy_context(),
        func,
        *args,
    )


async def call_hook(
    app: Erlen, func: t.Callable[..., t.Any], *args: t.Any, may_wait: bool = False
) -> t.Any:
    """Await an async hook on the loop; run a sync one in the pool, unless it is
    marked :func:`~erlen.ext.nonblocking` and nothing it may read is still to
    arrive (``may_wait``: the request body)."""
    if inspect.iscoroutinefunction(func):
        return await func(*args)
    if not may_wait and is_nonblocking(func):
        return func(*args)
    return await to_thread(app, func, *args)


def _session_on_loop(app: Erlen) -> bool:
    """Whether the app's session interface opens and saves sessions without
    blocking: the built-in signed cookie, or both methods marked
    :func:`~erlen.ext.nonblocking`. A server-side store (Redis, a table) is not:
    an async view's response is then finalized, and its session saved, in the
    pool (the session itself stays lazy: a view that reads it opens it)."""
    interface = app.session_interface  # its methods: one replaced on it counts
    return is_nonblocking(interface.open_session) and is_nonblocking(
        interface.save_session
    )


def bridge_to_loop(
    func: t.Callable[..., cabc.Coroutine[t.Any, t.Any, t.Any]],
    fallback: t.Callable[..., t.Any] | None,
) -> t.Callable[..., t.Any]:
    """Wrap a coroutine function for sync callers (``ensure_sync``).

    Called from a pool thread of an ASGI request, the coroutine runs on the
    server's loop, in the caller's context; elsewhere ``fallback`` (asgiref's
    ``async_to_sync``) runs it. Without either, the call says what to install.
    """

    @functools.wraps(func)
    def call(*args: t.Any, **kwargs: t.Any) -> t.Any:
        loop = _server_loop.get()
        if loop is not None and not _on_loop(loop):
            return asyncio.run_coroutine_threadsafe(
                func(*args, **kwargs), loop
            ).result()
        if fallback is None:
            raise RuntimeError(
                "Install erlen with the 'async' extra in order to use async views,"
                " hooks and handlers under a WSGI server: pip install 'erlen[async]'"
            )
        return fallback(*args, **kwargs)

    return call


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


# -- the environ ------------------------------------------------------------------


#: What every environ holds before the request's own keys are set.
_ENVIRON_BASE: dict[str, t.Any] = {
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
}

#: Environ keys of header names seen so far (``b"user-agent"`` ->
#: ``"HTTP_USER_AGENT"``), up to ``_MAX_KNOWN_HEADERS`` of them.
_header_keys: dict[bytes, str] = {}
_MAX_KNOWN_HEADERS = 512


def _header_key(raw_name: bytes) -> str:
    """The environ key of a header name, as a WSGI server spells it."""
    name = raw_name.decode("latin-1").upper().replace("-", "_")
    if name not in {"CONTENT_TYPE", "CONTENT_LENGTH"}:
        name = f"HTTP_{name}"
    if len(_header_keys) < _MAX_KNOWN_HEADERS:
        _header_keys[raw_name] = name
    return name


def build_environ(scope: Scope, body: bytes = b"") -> WSGIEnvironment:
    """The WSGI environ a WSGI server would give for ``scope`` and its ``body``.

    The input ends where the body does (the read part, or an
    :class:`AsgiInput` reading on), so the environ says
    ``wsgi.input_terminated``: a chunked body is read to its end.
    """
    root_path: str = scope.get("root_path", "")
    path: str = scope["path"]
    if root_path:
        if path == root_path or path.startswith(f"{root_path}/"):
            path = path[len(root_path) :]
        if not root_path.isascii():
            root_path = root_path.encode().decode("latin-1")
    if not path.isascii():
        path = path.encode().decode("latin-1")
    server = scope.get("server") or ("localhost", 80)
    scheme = scope.get("scheme", "http")
    if scheme in {"ws", "wss"}:
        scheme = "https" if scheme == "wss" else "http"
    environ: WSGIEnvironment = _ENVIRON_BASE.copy()
    environ["REQUEST_METHOD"] = scope.get("method", "GET")
    environ["SCRIPT_NAME"] = root_path
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = scope.get("query_string", b"").decode("latin-1")
    environ["SERVER_NAME"] = server[0]
    environ["SERVER_PORT"] = str(server[1]) if server[1] is not None else ""
    environ["SERVER_PROTOCOL"] = f"HTTP/{scope.get('http_version', '1.1')}"
    environ["wsgi.url_scheme"] = scheme
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    environ["asgi.scope"] = scope
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    keys = _header_keys
    for raw_name, raw_value in scope.get("headers", ()):
        name = keys.get(raw_name) or _header_key(raw_name)
        value = raw_value.decode("latin-1")
        if name in environ:
            sep = "; " if name == "HTTP_COOKIE" else ","
            value = f"{environ[name]}{sep}{value}"
        environ[name] = value
    extra = scope.get("erlen.environ")
    if extra:
        environ.update(extra)
    return environ


def _declared_length(environ: WSGIEnvironment) -> int | None:
    """The ``Content-Length`` the client sent, unless the body is chunked."""
    if "HTTP_TRANSFER_ENCODING" in environ:
        return None
    length = environ.get("CONTENT_LENGTH")
    if length is None:
        return None
    try:
        return int(length)
    except ValueError:
        return None


_DISCONNECTED = object()
_TIMED_OUT = object()


def _has_body(environ: WSGIEnvironment, declared: int | None) -> bool:
    """Whether to read a body: all but an HTTP/1 ``GET`` or ``HEAD`` whose
    headers announce none (HTTP/2 and 3 may send one without them)."""
    if declared is not None:
        return declared > 0
    return (
        environ["REQUEST_METHOD"] not in {"GET", "HEAD"}
        or environ["SERVER_PROTOCOL"] not in {"HTTP/1.1", "HTTP/1.0"}
        or "HTTP_TRANSFER_ENCODING" in environ
    )


async def _receive_by(
    receive: Receive, loop: asyncio.AbstractEventLoop, deadline: float | None
) -> Message | object:
    """``receive()``, or ``_TIMED_OUT`` when nothing came by ``deadline``."""
    if deadline is None:
        return await receive()
    remaining = deadline - loop.time()
    if remaining <= 0:
        return _TIMED_OUT
    try:
        return await asyncio.wait_for(receive(), remaining)
    except asyncio.TimeoutError:
        return _TIMED_OUT


async def read_body(
    receive: Receive,
    limit: int | None,
    declared: int | None,
    timeout: float | None = None,
) -> tuple[bytes, bool] | object:
    """Read the request body from ``receive``, stopping one byte past ``limit``.

    Returns the body read and whether more is left to read: a body longer
    than the limit is cut there and reads as a 413, as under WSGI, unless the
    limit is raised for the request. Returns ``_DISCONNECTED`` when the
    client went away, ``_TIMED_OUT`` when the body took longer than
    ``timeout`` seconds.
    """
    if declared is not None and limit is not None and declared > limit:
        return b"", True  # the request answers 413 without reading the body
    try:
        if timeout is None:
            return await _read(receive, limit)
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(timeout):
                return await _read(receive, limit)
        return await asyncio.wait_for(_read(receive, limit), timeout)
    except asyncio.TimeoutError:
        return _TIMED_OUT


async def _read(receive: Receive, limit: int | None) -> tuple[bytes, bool] | object:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _DISCONNECTED
        more = message.get("more_body", False)
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
            if limit is not None and size > limit:
                break
    return (chunks[0] if len(chunks) == 1 else b"".join(chunks)), more


class AsgiInput(io.RawIOBase):
    """The ``wsgi.input`` of a request whose body was not read (all) before the view.

    It gives what was read first, then reads on from ``receive``: awaited
    with :meth:`next_chunk` (``request.stream_body()``), or by sync reads
    from a pool thread, which wait for the loop. Each wait for the client is
    at most ``timeout`` seconds (then a 408); a client that leaves is a 400.
    """

    def __init__(
        self,
        receive: Receive,
        loop: asyncio.AbstractEventLoop,
        head: bytes,
        timeout: float | None,
    ) -> None:
        super().__init__()
        self._receive = receive
        self._loop = loop
        self._buffer = head
        self._pos = 0
        self._more = True
        self._timeout = timeout

    def readable(self) -> bool:
        return True

    async def next_chunk(self) -> bytes:
        """The next piece of the body as it arrives; ``b""`` at its end."""
        if self._pos < len(self._buffer):
            chunk = self._buffer[self._pos :]
            self._buffer, self._pos = b"", 0
            return chunk
        while self._more:
            deadline = None
            if self._timeout is not None:
                deadline = self._loop.time() + self._timeout
            received = await _receive_by(self._receive, self._loop, deadline)
            if received is _TIMED_OUT:
                self._more = False
                raise RequestTimeout(
                    f"The client sent nothing of the request body for"
                    f" {self._timeout} seconds."
                )
            message = t.cast(Message, received)
            if message["type"] == "http.disconnect":
                self._more = False
                raise ClientDisconnected(
                    "The client disconnected before the request body was complete."
                )
            self._more = message.get("more_body", False)
            body: bytes = message.get("body", b"")
            if body:
                return body
        return b""

    async def fill(self, limit: int | None) -> None:
        """Read on until the body ends or more than ``limit`` bytes are held."""
        chunks = [self._buffer[self._pos :]]
        size = len(chunks[0])
        while self._more and (limit is None or size <= limit):
            chunk = await self.next_chunk()
            chunks.append(chunk)
            size += len(chunk)
        self._buffer, self._pos = b"".join(chunks), 0

    @property
    def complete(self) -> bool:
        """Whether all of the body has been received."""
        return not self._more

    def readinto(self, b: t.Any) -> int:
        if self._pos >= len(self._buffer):
            if not self._more:
                return 0
            if _on_loop(self._loop):
                raise RuntimeError(
                    "The request body was not read before this async view: read"
                    " it with 'async for chunk in request.stream_body()'."
                )
            self._buffer = asyncio.run_coroutine_threadsafe(
                self.next_chunk(), self._loop
            ).result()
            self._pos = 0
        n = min(len(b), len(self._buffer) - self._pos)
        b[:n] = self._buffer[self._pos : self._pos + n]
        self._pos += n
        return n


def stream_request_body(view: F) -> F:
    """Mark a view whose body is not read before it runs, under ASGI.

    The view reads it as it arrives, with ``async for chunk in
    request.stream_body()`` (or ``request.stream`` in a sync view); the
    request's ``max_content_length`` is enforced while it streams. Under WSGI
    the marker changes nothing.
    """
    view._erlen_stream_body = True  # type: ignore[attr-defined]
    return view


def _streams(view: t.Callable[..., t.Any] | None) -> bool:
    return getattr(view, "_erlen_stream_body", False) is True


def _arriving(body: t.Any, view: t.Callable[..., t.Any]) -> t.TypeGuard[AsgiInput]:
    """Whether the rest of a body the view does not stream is still to be read."""
    return type(body) is AsgiInput and not body.complete and not _streams(view)


_streaming_apps: weakref.WeakKeyDictionary[Erlen, bool] = weakref.WeakKeyDictionary()


def _has_streaming_views(app: Erlen) -> bool:
    known = _streaming_apps.get(app)
    if known is None:
        known = any(_streams(v) for v in app.view_functions.values())
        if app._got_first_request:
            _streaming_apps[app] = known
    return known


async def _send_timeout(environ: WSGIEnvironment, send: Send) -> None:
    """Answer 408 to a client that did not send its body in time, and close."""
    response = RequestTimeout(
        "The client took too long to send the request body."
    ).get_response(environ)
    response.headers["Connection"] = "close"
    app_iter, status, headers = response.get_wsgi_response(environ)
    await send(
        {
            "type": "http.response.start",
            "status": int(status[:3]),
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": b"".join(app_iter)})


# -- one HTTP request ---------------------------------------------------------------


class _Started(t.NamedTuple):
    """A response ready to send: status, ASGI headers and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    #: A list of bytes (sent at once), a sync iterator or an async iterable.
    body: t.Any
    async_body: bool


#: ASGI spellings of response headers seen so far (``("Content-Type",
#: "text/html")`` -> ``(b"content-type", b"text/html")``), up to
#: ``_MAX_KNOWN_HEADERS`` of them; cookies are never kept.
_header_pairs: dict[tuple[str, str], tuple[bytes, bytes]] = {}


def _header_pair(pair: tuple[str, str]) -> tuple[bytes, bytes]:
    name, value = pair
    raw = (name.lower().encode("latin-1"), value.encode("latin-1"))
    if raw[0] != b"set-cookie" and len(_header_pairs) < _MAX_KNOWN_HEADERS:
        _header_pairs[pair] = raw
    return raw


def _start(response: Response, environ: WSGIEnvironment) -> _Started:
    """:func:`_start_response`; a request whose streams hold its teardown gets a
    body that releases them once closed (sent, the client gone, an error), as
    :meth:`Erlen.wsgi_app` does with :class:`~erlen.helpers.ReleasingAppIter`."""
    started = _start_response(response, environ)
    req_ctx = _cv_request.get(None)
    if req_ctx is None or not req_ctx._streams:
        return started
    if started.async_body:
        return started._replace(body=_releasing(started.body, req_ctx))
    return started._replace(body=ReleasingAppIter(started.body, req_ctx))


async def _releasing(
    body: t.AsyncIterable[t.Any], req_ctx: RequestContext
) -> t.AsyncIterator[t.Any]:
    """An async body that releases the request's unsent streams when it ends."""
    try:
        async for chunk in body:
            yield chunk
    finally:
        try:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:
                await aclose()
        finally:
            await to_thread(req_ctx.app, release_streams, req_ctx)


def _start_response(response: Response, environ: WSGIEnvironment) -> _Started:
    """Turn ``response`` into what the ASGI server is sent, as WSGI's
    ``start_response`` would have seen it."""
    source = response.response
    app_iter, status, headers = response.get_wsgi_response(environ)
    known = _header_pairs
    try:
        asgi_headers = [known.get(pair) or _header_pair(pair) for pair in headers]
    except TypeError:  # a header added as a list, not a tuple
        asgi_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers
        ]
    code = int(status[:3])
    if hasattr(source, "__aiter__") and not isinstance(source, (list, tuple)):
        if environ["REQUEST_METHOD"] == "HEAD" or code in {204, 304} or code < 200:
            _close_later(source)
            return _Started(code, asgi_headers, [], False)
        return _Started(code, asgi_headers, source, True)
    if type(app_iter) is list:
        return _Started(code, asgi_headers, app_iter, False)
    if response.is_sequence:
        try:
            chunks = list(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return _Started(code, asgi_headers, chunks, False)
    return _Started(code, asgi_headers, app_iter, False)


def _close_later(source: t.Any) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        loop = _server_loop.get()
        if loop is not None:
            loop.call_soon_threadsafe(lambda: loop.create_task(aclose()))


def _preserve(environ: WSGIEnvironment) -> None:
    preserve = environ.get("werkzeug.debug.preserve_context")
    if preserve is not None:
        preserve(_cv_app.get())
        preserve(_cv_request.get())


def _respond_sync(
    app: Erlen, ctx: RequestContext, environ: WSGIEnvironment
) -> _Started:
    """:meth:`Erlen.wsgi_app` in a pool thread: push, dispatch, pop."""
    error: BaseException | None = None
    started: _Started | None = None
    try:
        try:
            ctx.push()
            response = app.full_dispatch_request()
        except Exception as e:
            error = e
            response = app.handle_exception(e)
        except BaseException as e:
            error = e
            raise
        started = _start(response, environ)
        return started
    finally:
        ctx.pop(_ending(app, ctx, environ, started, error))


def _ending(
    app: Erlen,
    ctx: RequestContext,
    environ: WSGIEnvironment,
    started: _Started | None,
    error: BaseException | None,
) -> BaseException | None:
    """Before a responder pops: release the streams when no body will (an error
    escaped), keep the contexts for the debugger, and return the error to pop
    with (``None`` for one the app ignores)."""
    if started is None:
        release_streams(ctx)
    _preserve(environ)
    if error is not None and app.should_ignore_error(error):
        return None
    return error


def _reraised(func: t.Callable[[Exception], t.Any], e: Exception) -> t.Any:
    """Call ``func(e)`` with ``e`` being handled, as ``except`` blocks expect."""
    try:
        raise e
    except Exception:
        return func(e)


class _Edge:
    """One request's event loop, thread pool and the context its sync steps share."""

    __slots__ = ("app", "loop", "pool", "context")

    def __init__(self, app: Erlen, context: contextvars.Context | None = None) -> None:
        self.app = app
        self.loop = asyncio.get_running_loop()
        self.pool = thread_pool(app)
        self.context = contextvars.copy_context() if context is None else context
        self.context.run(_server_loop.set, self.loop)

    def step(self, func: t.Callable[..., t.Any], *args: t.Any) -> asyncio.Future[t.Any]:
        """Run a sync step in the pool, in the request's context."""
        return run_in_pool(self.loop, self.pool, self.context, func, *args)

    def task(self, coro: cabc.Coroutine[t.Any, t.Any, t.Any]) -> asyncio.Task[t.Any]:
        """Run async code on the loop in a copy of the request's context."""
        return self.context.run(self.loop.create_task, coro)


_PIPELINE_METHODS = ("full_dispatch_request", "preprocess_request", "dispatch_request")
_TEARDOWN_METHODS = ("do_teardown_request", "do_teardown_appcontext")
_overrides: dict[tuple[type, tuple[str, ...]], bool] = {}


def _overridden(app: Erlen, names: tuple[str, ...]) -> bool:
    """Whether the app's class replaced one of these :class:`Erlen` methods."""
    key = (type(app), names)
    try:
        return _overrides[key]
    except KeyError:
        from .app import Erlen

        cls = type(app)
        rv = _overrides[key] = any(
            getattr(cls, n) is not getattr(Erlen, n) for n in names
        )
        return rv


def async_view(app: Erlen, ctx: RequestContext) -> t.Callable[..., t.Any] | None:
    """The matched view if it is an ``async def`` the loop can await, else ``None``."""
    req = ctx.request
    rule = req.url_rule
    if rule is None or req.routing_exception is not None:
        return None
    if req.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
        return None
    view = app.view_functions.get(rule.endpoint)
    if view is None or _overridden(app, _PIPELINE_METHODS):
        return None
    if _is_async(view):
        return view
    if app._request_hooks(ctx).any_async:
        # A sync view with async hooks: the hooks are awaited on the loop,
        # the view runs in the pool.
        return _in_pool(view)
    return None


_pool_views: weakref.WeakKeyDictionary[
    t.Callable[..., t.Any], t.Callable[..., t.Any]
] = weakref.WeakKeyDictionary()


def _in_pool(view: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """An async function that runs the sync ``view`` in the app's pool."""
    known = _pool_views.get(view)
    if known is not None:
        return known

    @functools.wraps(view)
    async def runner(**kwargs: t.Any) -> t.Any:
        app = _cv_app.get().app
        return await to_thread(app, functools.partial(view, **kwargs))

    _pool_views[view] = runner
    return runner


#: Whether a view function is ``async def``, weakly keyed so that functions of
#: apps that are gone are not kept alive.
_async_funcs: weakref.WeakKeyDictionary[t.Callable[..., t.Any], bool] = (
    weakref.WeakKeyDictionary()
)


def _is_async(func: t.Callable[..., t.Any]) -> bool:
    """``inspect.iscoroutinefunction``, remembered for the functions of views."""
    try:
        return _async_funcs[func]
    except KeyError:
        rv = _async_funcs[func] = inspect.iscoroutinefunction(func)
        return rv
    except TypeError:  # pragma: no cover - not hashable, or no weak reference
        return inspect.iscoroutinefunction(func)


async def dispatch_async(app: Erlen, view: t.Callable[..., t.Any]) -> Response:
    """:meth:`Erlen.full_dispatch_request` for an ``async def`` view.

    Runs in a task on the server's loop: async hooks and the view are awaited
    there, sync hooks run in the pool. Errors go to the app's handlers and the
    response is finalized by the pipeline's own methods.
    """
    if not app._got_first_request:
        check_limit_types(app.config)  # as full_dispatch_request does
        app._got_first_request = True
    ctx = _cv_request.get()
    req = ctx.request
    # The pipeline's own chain (it follows registry changes); its hooks unwrapped.
    hooks = app._request_hooks(ctx)
    try:
        if request_started.receivers:
            await to_thread(
                app,
                functools.partial(
                    request_started.send, app, _async_wrapper=app.ensure_sync
                ),
            )
        rv = None
        for func in hooks.url_value_preprocessors:
            await call_hook(app, func, req.endpoint, req.view_args)
        body = req.environ.get("wsgi.input")
        for func in hooks.raw_before:
            # A body still arriving (past the limit, which a hook may raise) is
            # read by a sync hook in the pool, as under WSGI, never on the loop.
            rv = await call_hook(app, func, may_wait=_arriving(body, view))
            if rv is not None:
                break
        if rv is None:
            if _arriving(body, view):
                # The hooks may have raised the request's limit: read on,
                # unless the declared length already says 413.
                limit = req.max_content_length
                declared = req.content_length
                if limit is None or declared is None or declared <= limit:
                    await body.fill(limit)
            rv = await view(**req.view_args)  # type: ignore[arg-type]
    except Exception as e:
        rv = await to_thread(app, _reraised, app.handle_user_exception, e)
    hooks = app._request_hooks(ctx)  # again: the view may have added one
    if (
        (hooks.after and not all(map(is_nonblocking, hooks.after)))
        or not all(map(is_nonblocking, ctx._after_request_functions))
        or request_finished.receivers
        or not _session_on_loop(app)
    ):
        return await to_thread(app, app.finalize_request, rv)  # type: ignore[no-any-return]
    return app.finalize_request(rv)


async def _respond_async(
    edge: _Edge, ctx: RequestContext, environ: WSGIEnvironment
) -> _Started:
    """:meth:`Erlen.wsgi_app` with the context pushed on the loop and an async view."""
    app = edge.app
    error: BaseException | None = None
    started: _Started | None = None
    try:
        try:
            edge.context.run(ctx.push)
            view = async_view(app, ctx)
            if view is None:
                response = await edge.step(app.full_dispatch_request)
            else:
                response = await edge.task(dispatch_async(app, view))
        except Exception as e:
            error = e
            response = await edge.step(_reraised, app.handle_exception, e)
        except BaseException as e:
            error = e
            raise
        started = edge.context.run(_start, response, environ)
        return started
    finally:
        error = edge.context.run(_ending, app, ctx, environ, started, error)
        await edge.step(ctx.pop, error)


def _pops_on_loop(app: Erlen) -> bool:
    """Whether a request's contexts are pushed and popped on the loop.

    They are when popping runs no code of the app's, or only hooks marked
    :func:`~erlen.ext.nonblocking` (without ``unless``) and the app has async
    views. Otherwise popping waits for the pool: a sync-only app then runs its
    whole request in one pool step, a single thread hop.
    """
    if (
        request_tearing_down.receivers
        or appcontext_tearing_down.receivers
        or appcontext_popped.receivers
        or _overridden(app, _TEARDOWN_METHODS)
    ):
        return False
    funcs = [*app.teardown_appcontext_funcs]
    for hooks in app.teardown_request_funcs.values():
        funcs.extend(hooks)
    # Decided before the request's contexts exist: a conditional mark cannot
    # be asked here (it may read current_app), so it counts as none.
    return not funcs or (
        all(map(_is_always_nonblocking, funcs)) and _has_async_views(app)
    )


_async_views: weakref.WeakKeyDictionary[Erlen, bool] = weakref.WeakKeyDictionary()


def _has_async_views(app: Erlen) -> bool:
    """Whether a view, URL value preprocessor or before-request hook is async."""
    known = _async_views.get(app)
    if known is None:
        hooks: list[t.Iterable[t.Callable[..., t.Any]]] = [
            *app.url_value_preprocessors.values(),
            *app.before_request_funcs.values(),
            app.view_functions.values(),
        ]
        known = any(inspect.iscoroutinefunction(f) for fs in hooks for f in fs)
        if app._got_first_request:
            _async_views[app] = known
    return known


_END = object()


def _next_chunk(iterator: t.Iterator[bytes]) -> t.Any:
    return next(iterator, _END)


def _close(iterable: t.Any) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return
        await asyncio.sleep(0)  # a server that repeats its last message


async def _send_body(
    edge: _Edge, started: _Started, receive: Receive, send: Send
) -> None:
    """Send the body: at once when it is in memory, else streamed chunk by chunk,
    each sent before the next is made; a client that leaves stops the stream."""
    body = started.body
    gone = asyncio.Event()
    watcher = edge.loop.create_task(_watch_disconnect(receive, gone))
    try:
        if started.async_body:
            await edge.task(_send_async_body(body, send, gone))
        else:
            iterator = iter(body)
            try:
                while not gone.is_set():
                    chunk = await edge.step(_next_chunk, iterator)
                    if chunk is _END:
                        break
                    if chunk:
                        await send(
                            {
                                "type": "http.response.body",
                                "body": chunk,
                                "more_body": True,
                            }
                        )
            finally:
                await edge.step(_close, body)
        if not gone.is_set():
            await send({"type": "http.response.body", "body": b""})
    finally:
        watcher.cancel()


async def _send_async_body(
    body: t.AsyncIterable[t.Any], send: Send, gone: asyncio.Event
) -> None:
    iterator = body.__aiter__()
    try:
        async for chunk in iterator:
            if gone.is_set():
                break
            if isinstance(chunk, str):
                chunk = chunk.encode()
            if chunk:
                await send(
                    {"type": "http.response.body", "body": chunk, "more_body": True}
                )
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


async def _respond_on_loop(
    app: Erlen, ctx: RequestContext, environ: WSGIEnvironment
) -> _Started:
    """:meth:`Erlen.wsgi_app` with the contexts pushed and popped on the loop, in
    the server's task: for apps whose teardown never blocks (:func:`_pops_on_loop`)."""
    error: BaseException | None = None
    started: _Started | None = None
    try:
        try:
            ctx.push()
            view = async_view(app, ctx)
            if view is None:
                response = await to_thread(app, app.full_dispatch_request)
            else:
                response = await dispatch_async(app, view)
        except Exception as e:
            error = e
            response = await to_thread(app, _reraised, app.handle_exception, e)
        except BaseException as e:
            error = e
            raise
        started = _start(response, environ)
        return started
    finally:
        ctx.pop(_ending(app, ctx, environ, started, error))


def _streaming_context(app: Erlen, environ: WSGIEnvironment) -> RequestContext | None:
    """The request's context, matched, if its view streams the body; else ``None``."""
    ctx = app.request_context(environ)
    if ctx.url_adapter is not None:
        ctx.match_request()
        rule = ctx.request.url_rule
        if rule is not None and _streams(app.view_functions.get(rule.endpoint)):
            return ctx
    return None


async def handle_http(app: Erlen, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one HTTP request: read the body, run the pipeline, send the response.

    The body is read before the view, within ``ASGI_BODY_TIMEOUT`` seconds
    (else 408), unless the view streams it (:func:`stream_request_body`).
    When the app's teardown never blocks (:func:`_pops_on_loop`), the contexts
    are pushed and popped on the loop and an async view is awaited directly;
    otherwise the request's sync steps share one context, so teardown runs in
    the pool.
    """
    loop = asyncio.get_running_loop()
    if _server_loop.get() is not loop:
        _server_loop.set(loop)
    if not app._got_first_request:
        check_limit_types(app.config)  # before a limit is used to read the body
    environ = build_environ(scope)
    config = app.config
    ctx = None
    if _has_streaming_views(app):
        ctx = _streaming_context(app, environ)
    if ctx is not None:
        environ["wsgi.input"] = AsgiInput(
            receive, loop, b"", config["ASGI_BODY_TIMEOUT"]
        )
    else:
        declared = _declared_length(environ)
        if _has_body(environ, declared):
            timeout = config["ASGI_BODY_TIMEOUT"]
            read = await read_body(
                receive, config["MAX_CONTENT_LENGTH"], declared, timeout
            )
            if read is _DISCONNECTED:
                return
            if read is _TIMED_OUT:
                await _send_timeout(environ, send)
                return
            body, more = t.cast(tuple[bytes, bool], read)
            if more:
                environ["wsgi.input"] = AsgiInput(receive, loop, body, timeout)
            else:
                environ["wsgi.input"] = io.BytesIO(body)
    if _pops_on_loop(app):
        if ctx is None:
            ctx = app.request_context(environ)
        started = await _respond_on_loop(app, ctx, environ)
        edge = None
    else:
        edge = _Edge(app)
        if ctx is None:
            ctx = edge.context.run(app.request_context, environ)
        if _has_async_views(app):
            started = await _respond_async(edge, ctx, environ)
        else:
            started = await edge.step(_respond_sync, app, ctx, environ)
    await send(
        {
            "type": "http.response.start",
            "status": started.status,
            "headers": started.headers,
        }
    )
    if type(started.body) is list:
        chunks = started.body
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        await send({"type": "http.response.body", "body": data})
        return
    await _send_body(edge or _Edge(app), started, receive, send)


# -- lifespan -----------------------------------------------------------------------


async def run_serving_hooks(app: Erlen, startup: bool) -> None:
    """Run ``before_serving`` (and enter ``while_serving``) or the reverse, in an app context."""
    context = contextvars.copy_context()
    context.run(_server_loop.set, asyncio.get_running_loop())
    app_ctx = app.app_context()
    context.run(app_ctx.push)
    try:
        if startup:
            for func in app.before_serving_funcs:
                await _call_in(app, context, func)
            for gen_func in app.while_serving_funcs:
                gen = context.run(gen_func)
                app._serving_gens.append(gen)
                await _advance(app, context, gen, first=True)
        else:
            while app._serving_gens:
                await _advance(app, context, app._serving_gens.pop(), first=False)
            for func in app.after_serving_funcs:
                await _call_in(app, context, func)
    finally:
        context.run(app_ctx.pop, None)


async def _call_in(
    app: Erlen, context: contextvars.Context, func: t.Callable[[], t.Any]
) -> None:
    loop = asyncio.get_running_loop()
    if inspect.iscoroutinefunction(func):
        await context.run(loop.create_task, func())
    else:
        await run_in_pool(loop, thread_pool(app), context, func)


async def _advance(
    app: Erlen, context: contextvars.Context, gen: t.Any, first: bool
) -> None:
    """Run a ``while_serving`` generator to its ``yield`` (start) or its end (stop)."""
    loop = asyncio.get_running_loop()
    if hasattr(gen, "__anext__"):
        try:
            await context.run(loop.create_task, gen.__anext__())
        except StopAsyncIteration:
            if first:
                raise RuntimeError(
                    "a 'while_serving' generator must yield once"
                ) from None
            return
    else:
        value = await run_in_pool(loop, thread_pool(app), context, _next_chunk, gen)
        if value is _END:
            if first:
                raise RuntimeError("a 'while_serving' generator must yield once")
            return
    if not first:
        raise RuntimeError("a 'while_serving' generator must yield only once")


async def handle_lifespan(
    app: Erlen, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer the server's lifespan events: startup, then shutdown."""
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "lifespan.startup":
            try:
                check_limit_types(app.config)  # a wrong type fails at startup
                await run_serving_hooks(app, startup=True)
            except BaseException as e:
                app.logger.exception("Error while starting to serve")
                await send({"type": "lifespan.startup.failed", "message": repr(e)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif kind == "lifespan.shutdown":
            try:
                await run_serving_hooks(app, startup=False)
            except BaseException as e:
                app.logger.exception("Error while stopping serving")
                await send({"type": "lifespan.shutdown.failed", "message": repr(e)})
                return
            finally:
                shutdown_thread_pool(app)
            await send({"type": "lifespan.shutdown.complete"})
            return


def asgi_app(
    app: Erlen, scope: Scope, receive: Receive, send: Send
) -> cabc.Awaitable[None]:
    """Serve one ASGI connection: HTTP, WebSocket or lifespan.

    Returns the handler's coroutine instead of awaiting it, one coroutine
    less per request.
    """
    kind = scope["type"]
    if kind == "http":
        return handle_http(app, scope, receive, send)
    if kind == "websocket":
        from .sockets import handle_websocket

        return handle_websocket(app, scope, receive, send)
    if kind == "lifespan":
        return handle_lifespan(app, scope, receive, send)
    raise ValueError(f"erlen cannot serve ASGI connections of type {kind!r}")


def mark_coroutine_function(func: F) -> F:
    """Mark a sync function that returns a coroutine so servers detect ASGI 3.

    uvicorn and hypercorn check ``iscoroutinefunction(app.__call__)``; ``Erlen``
    answers WSGI and ASGI calls from one ``__call__``. Python 3.12 has a public
    marker; before it, :func:`asyncio.iscoroutinefunction` reads a private one.
    """
    if sys.version_info >= (3, 12):
        return inspect.markcoroutinefunction(func)
    func._is_coroutine = asyncio.coroutines._is_coroutine  # type: ignore[attr-defined]
    return func
