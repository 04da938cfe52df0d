"""The ``SocketIO`` extension: python-socketio servers bound to an erlen app.

One ``SocketIO(app)`` serves Socket.IO both ways the app is served:

* called as a WSGI app (gunicorn's gthread worker, Werkzeug's dev server), a
  python-socketio ``Server`` in threading mode answers under ``app.wsgi_app``,
  with WebSocket through simple-websocket;
* called as an ASGI app (uvicorn, hypercorn), an ``AsyncServer`` answers under
  ``app.asgi_app`` on the server's event loop: ``async def`` handlers are
  awaited there, plain ``def`` handlers run in the app's thread pool.

Handlers run inside a request context built from the connection's handshake
(``request.args``, ``request.headers``, cookies, ``session``), with
``request.sid``, ``request.namespace`` and ``request.event`` set.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import dataclasses
import functools
import inspect
import json
import os
import sys
import threading
import time
import typing as t
import weakref

import socketio
from socketio.exceptions import ConnectionError as SocketIOConnectionError

from erlen.ctx import RequestContext
from erlen.ext import DeployProblem
from erlen.ext import Extension
from erlen.globals import request
from erlen.sessions import SessionMixin

from ._context import _handling
from ._context import Handling
from ._context import is_async_server
from ._context import optional_handling
from ._context import Pending
from ._context import run_on

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

    from .namespace import Namespace
    from .test_client import SocketIOTestClient

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
ErrorHandler = t.Callable[[Exception], t.Any]

#: Options of ours that python-socketio's servers do not take.
#: Long-polling requests one process lets wait at once under WSGI.
DEFAULT_MAX_WAITING_POLLS = 10
_ASYNC_MODES = (None, "threading", "asgi", "eventlet", "gevent", "gevent_uwsgi")
#: Engine.IO's cap on one HTTP body or WebSocket message; 1 MB.
DEFAULT_MAX_HTTP_BUFFER_SIZE = 1_000_000


class ManagedSession(dict[str, t.Any], SessionMixin):
    """A connection's private copy of the session, taken at connect.

    Socket.IO events cannot set cookies: with ``manage_session=True`` changes
    live as long as the connection and never reach the browser's cookie.
    """

    modified = False
    accessed = False


@dataclasses.dataclass(eq=False)
class SocketIOState:
    """One app's Socket.IO servers, kept in ``app.extensions["socketio"]``."""

    socketio: SocketIO
    app: Erlen | None
    #: The threading (or eventlet/gevent) server: WSGI, the test client, emitters.
    server: t.Any
    #: The asyncio server, made when the app is first called as an ASGI app.
    async_server: t.Any = None
    #: The ASGI server's event loop, once it called the app.
    loop: asyncio.AbstractEventLoop | None = None
    asgi_entry: t.Any = None
    #: Whether this process listens for ``disconnect_user`` requests.
    user_listener: bool = False

    @property
    def active_server(self) -> t.Any:
        """The server that holds this process's clients: async once ASGI serves."""
        if self.async_server is not None and self.loop is not None:
            if not self.loop.is_closed():  # a closed loop took its clients along
                return self.async_server
        return self.server


class SocketIO(Extension[SocketIOState]):
    """Socket.IO for an erlen app, with Flask-SocketIO's API.

    :param app: the app, or ``None`` to call :meth:`init_app` later. With no app
        but a ``message_queue``, the object is a write-only emitter for jobs and
        scripts: ``socketio.emit(...)`` reaches every client of every process.
    :param manage_session: give each connection a private copy of the session
        taken at connect (``True``); with ``False`` the app's session interface
        is opened for each event and saved when changed (server-side sessions).
    :param message_queue: ``redis://`` or ``rediss://`` URL (or a Kombu, Kafka or
        ZeroMQ URL) shared by every process, so emits reach all clients.
    :param channel: the queue's channel name.
    :param path: where the Socket.IO endpoint is served (``socket.io``).
    :param cors_allowed_origins: origins allowed to connect; same origin by default.
    :param max_waiting_polls: under WSGI, how many long-polling requests may
        wait for data at once in one process (10); more are answered 503 at
        once, so polling clients cannot hold every worker thread.
    :param server_options: passed to python-socketio's server (``async_mode``,
        ``ping_interval``, ``max_http_buffer_size``, ``transports``, ...).
        ``async_mode="asgi"`` or ``"threading"`` serves only that way; by
        default the way the server calls the app decides.
    """

    name = "socketio"

    def __init__(self, app: Erlen | None = None, **kwargs: t.Any) -> None:
        self.server_options: dict[str, t.Any] = {}
        self.manage_session = True
        self.message_queue: str | None = None
        self.channel = "flask-socketio"
        self.path = "socket.io"
        self.max_waiting_polls = DEFAULT_MAX_WAITING_POLLS
        self._handlers: list[tuple[str, t.Callable[..., t.Any], str]] = []
        self._namespaces: list[Namespace] = []
        #: Error handlers by namespace, set by :meth:`on_error`.
        self.exception_handlers: dict[str, ErrorHandler] = {}
        #: The error handler of namespaces without their own.
        self.default_exception_handler: ErrorHandler | None = None
        self._states: weakref.WeakSet[SocketIOState] = weakref.WeakSet()
        self._last: SocketIOState | None = None
        self.server: t.Any = None
        self._made_manager: t.Any = None
        self._dev_server: t.Any = None
        #: Disconnect reasons handlers receive (``reason.CLIENT_DISCONNECT``...).
        self.reason = socketio.Server.reason
        self._configure(kwargs)
        if app is not None or self.message_queue is not None:
            self.init_app(app)

    # -- setup --------------------------------------------------------------------

    def _configure(self, options: dict[str, t.Any]) -> None:
        options = dict(options)
        self.manage_session = options.pop("manage_session", self.manage_session)
        if "message_queue" in options:
            self.message_queue = options.pop("message_queue")
        self.channel = options.pop("channel", self.channel)
        resource = options.pop("resource", None)
        self.path = str(options.pop("path", resource or self.path)).strip("/")
        self.max_waiting_polls = int(
            options.pop("max_waiting_polls", self.max_waiting_polls)
        )
        mode = options.get("async_mode", self.server_options.get("async_mode"))
        if mode not in _ASYNC_MODES:
            raise ValueError(
                f"async_mode={mode!r} is not supported: use 'threading' (WSGI),"
                " 'asgi' (uvicorn, hypercorn), or leave it out to serve both ways."
            )
        self.server_options.update(options)

    def init_app(self, app: Erlen | None, **kwargs: t.Any) -> None:
        """Bind to ``app``; with ``None``, make a write-only emitter (needs ``message_queue``).

        Calling it again for the same app with new options rebuilds its servers
        (as Flask-SocketIO allows); another ``SocketIO`` object on the same app
        is an error.
        """
        self._configure(kwargs)
        if app is None:
            if self.message_queue is None:
                raise ValueError(
                    "SocketIO without an app is an external emitter and needs"
                    " message_queue='redis://...' to reach the app's processes."
                )
            state = SocketIOState(self, None, self._make_server(write_only=True))
            self._adopt(state)
            return
        existing = app.extensions.get(self.name)
        if isinstance(existing, SocketIOState) and existing.socketio is self:
            state = self.create_state(app)
            app.extensions[self.name] = state
            self.setup_app(app, state)
            return
        super().init_app(app)

    def create_state(self, app: Erlen) -> SocketIOState:
        """Make the app's threading server with every handler registered so far."""
        state = SocketIOState(self, app, self._make_server(write_only=False))
        self._adopt(state)
        for event, handler, namespace in self._handlers:
            self._install(state, state.server, event, handler, namespace)
        for ns in self._namespaces:
            self._install_namespace(state, state.server, ns)
        return state

    def setup_app(self, app: Erlen, state: SocketIOState) -> None:
        """Serve the Socket.IO path under ``app.wsgi_app`` and ``app.asgi_app``.

        With erlen-login installed, a user who logs out is disconnected too.
        """
        from .login import on_logout

        on_logout(app, self.disconnect_user)
        mode = self.server_options.get("async_mode")
        if mode != "asgi":
            original = getattr(app.wsgi_app, "_erlen_socketio_wrapped", app.wsgi_app)
            wsgi = socketio.WSGIApp(state.server, original, socketio_path=self.path)
            guard = PollGuard(wsgi, self.path, self.max_waiting_polls)
            guard._erlen_socketio_wrapped = original
            app.wsgi_app = guard  # type: ignore[method-assign]
        if mode in (None, "asgi"):
            original_asgi = getattr(
                app.asgi_app, "_erlen_socketio_wrapped", app.asgi_app
            )
            entry = functools.partial(_asgi_entry, state, original_asgi)
            entry._erlen_socketio_wrapped = original_asgi  # type: ignore[attr-defined]
            app.asgi_app = entry  # type: ignore[method-assign]

    def _adopt(self, state: SocketIOState) -> None:
        self._states.add(state)
        self._last = state
        self.server = state.server

    def _options(self, *, asynchronous: bool, write_only: bool) -> dict[str, t.Any]:
        options = dict(self.server_options)
        options.setdefault("cors_allowed_origins", None)
        options.setdefault("max_http_buffer_size", DEFAULT_MAX_HTTP_BUFFER_SIZE)
        if asynchronous:
            options["async_mode"] = "asgi"
        elif options.get("async_mode") in (None, "asgi"):
            options["async_mode"] = "threading"
        made = options.get("client_manager") is self._made_manager
        if self.message_queue is not None and (made or "client_manager" not in options):
            options["client_manager"] = _make_manager(
                self.message_queue, self.channel, write_only, asynchronous
            )
        elif asynchronous and "client_manager" in options:
            options.pop("client_manager")  # a sync manager cannot serve the loop
        return options

    def _make_server(self, *, write_only: bool) -> t.Any:
        options = self._options(asynchronous=False, write_only=write_only)
        if self.message_queue is not None:
            # Kept where Flask-SocketIO keeps it: code reads it from there.
            self._made_manager = options["client_manager"]
            self.server_options["client_manager"] = self._made_manager
        return socketio.Server(**options)

    def _make_async_server(self, state: SocketIOState) -> t.Any:
        server = socketio.AsyncServer(
            **self._options(asynchronous=True, write_only=False)
        )
        for event, handler, namespace in self._handlers:
            self._install(state, server, event, handler, namespace)
        for ns in self._namespaces:
            self._install_namespace(state, server, ns)
        return server

    # -- handlers -----------------------------------------------------------------

    def on(self, message: str, namespace: str | None = None) -> t.Callable[[F], F]:
        """Register the decorated function as the handler of ``message``.

        ``"connect"`` handlers may take the client's ``auth`` data and refuse
        the connection by raising :class:`ConnectionRefusedError` or returning
        ``False``; ``"disconnect"`` handlers may take the reason. ``"*"`` catches
        every event without a handler (the function gets the event name first),
        ``namespace="*"`` every namespace.
        """

        def decorator(handler: F) -> F:
            self.on_event(message, handler, namespace)
            return handler

        return decorator

    @t.overload
    def event(self, handler: F, /) -> F: ...
    @t.overload
    def event(self, *, namespace: str | None = None) -> t.Callable[[F], F]: ...
    def event(  # type: ignore[misc]  # mypy misreads the keyword-only overload
        self,
        handler: t.Callable[..., t.Any] | None = None,
        /,
        *,
        namespace: str | None = None,
    ) -> t.Any:
        """Register the decorated function for the event named like it."""
        if handler is not None:
            return self.on(handler.__name__)(handler)
        return lambda f: self.on(f.__name__, namespace)(f)

    def on_event(
        self,
        message: str,
        handler: t.Callable[..., t.Any],
        namespace: str | None = None,
    ) -> None:
        """Register ``handler`` for ``message`` without a decorator."""
        namespace = namespace or "/"
        self._handlers.append((message, handler, namespace))
        for state in list(self._states):
            for server in (state.server, state.async_server):
                if server is not None:
                    self._install(state, server, message, handler, namespace)

    def on_namespace(self, namespace_handler: Namespace) -> None:
        """Register a class-based :class:`~erlen_socketio.Namespace`."""
        from .namespace import Namespace

        if not isinstance(namespace_handler, Namespace):
            raise TypeError(
                "on_namespace() takes an instance of erlen_socketio.Namespace,"
                f" not {type(namespace_handler).__name__}."
            )
        namespace_handler.socketio = self
        self._namespaces.append(namespace_handler)
        for state in list(self._states):
            for server in (state.server, state.async_server):
                if server is not None:
                    self._install_namespace(state, server, namespace_handler)

    @t.overload
    def on_error(self, namespace: F, /) -> F: ...
    @t.overload
    def on_error(self, namespace: str | None = None) -> t.Callable[[F], F]: ...
    def on_error(self, namespace: t.Any = None) -> t.Any:
        """Register the decorated function for errors raised by handlers of ``namespace``.

        Its return value is the event's acknowledgement; re-raise to let the
        error propagate.
        """
        if callable(namespace):
            self.exception_handlers["/"] = namespace
            return namespace

        def decorator(handler: F) -> F:
            self.exception_handlers[namespace or "/"] = handler
            return handler

        return decorator

    def on_error_default(self, handler: F) -> F:
        """Register the decorated function for errors of namespaces without a handler."""
        self.default_exception_handler = handler
        return handler

    def _install(
        self,
        state: SocketIOState,
        server: t.Any,
        message: str,
        handler: t.Callable[..., t.Any],
        namespace: str,
    ) -> None:
        call = _Call(state, server, handler, message, namespace)
        if is_async_server(server):
            server.on(message, call.run_async, namespace=namespace)
        else:
            server.on(message, call.run, namespace=namespace)

    def _install_namespace(
        self, state: SocketIOState, server: t.Any, ns: Namespace
    ) -> None:
        from .namespace import bridge

        server.register_namespace(bridge(state, server, ns))

    def error_handler_for(self, namespace: str) -> ErrorHandler | None:
        """The error handler of ``namespace``: its own, else the default, else ``None``."""
        return self.exception_handlers.get(namespace, self.default_exception_handler)

    # -- finding the app's server ----------------------------------------------------

    def _state(self) -> SocketIOState:
        handling = optional_handling()
        if handling is not None and handling.state.socketio is self:
            return handling.state
        from erlen import current_app
        from erlen import has_app_context

        if has_app_context():
            state = current_app.extensions.get(self.name)
            if isinstance(state, SocketIOState) and state.socketio is self:
                return state
        if self._last is None:
            raise RuntimeError(
                "This SocketIO object is not bound to an app yet: call"
                " socketio.init_app(app), or pass message_queue= for an emitter."
            )
        return self._last

    def _server(self, state: SocketIOState) -> t.Any:
        handling = optional_handling()
        if handling is not None and handling.state is state:
            return handling.server
        return state.active_server

    # -- emitting -----------------------------------------------------------------

    def emit(self, event: str, *args: t.Any, **kwargs: t.Any) -> Pending:
        """Emit ``event`` with ``args`` to a client (``to=sid``), a room or everyone.

        :param namespace: the namespace (``"/"``).
        :param to: a sid or room (``room=`` is an alias); everyone if left out.
        :param include_self: ``False`` skips the client whose event is being handled.
        :param skip_sid: a sid or list of sids to skip.
        :param callback: called with the client's acknowledgement.
        :param ignore_queue: send only to this process's clients.

        Returns a :class:`Pending`, which ``async`` handlers may ``await``.
        """
        namespace = kwargs.pop("namespace", None) or "/"
        to = kwargs.pop("to", None)
        room = kwargs.pop("room", None)
        to = to if to is not None else room
        include_self = kwargs.pop("include_self", True)
        skip_sid = kwargs.pop("skip_sid", None)
        handling = optional_handling()
        if not include_self and skip_sid is None and handling is not None:
            skip_sid = handling.sid
        callback = kwargs.pop("callback", None)
        ignore_queue = kwargs.pop("ignore_queue", False)
        if kwargs:
            raise TypeError(f"emit() got unexpected arguments: {', '.join(kwargs)}")
        state = self._state()
        if callback is not None:
            callback = _in_app_context(state, callback)
        rv = run_on(
            state,
            self._server(state),
            "emit",
            event,
            _data(args),
            namespace=namespace,
            to=to,
            skip_sid=skip_sid,
            callback=callback,
            ignore_queue=ignore_queue,
        )
        return rv if isinstance(rv, Pending) else Pending()

    def send(
        self,
        data: t.Any,
        json: bool = False,
        namespace: str | None = None,
        to: str | None = None,
        callback: t.Callable[..., t.Any] | None = None,
        include_self: bool = True,
        skip_sid: str | list[str] | None = None,
        **kwargs: t.Any,
    ) -> Pending:
        """Send a ``message`` event (``json`` event when ``json=True``) with ``data``."""
        to = to if to is not None else kwargs.pop("room", None)
        return self.emit(
            "json" if json else "message",
            data,
            namespace=namespace or "/",
            to=to,
            include_self=include_self,
            skip_sid=skip_sid,
            callback=callback,
            **kwargs,
        )

    def call(self, event: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Emit ``event`` to one client (``to=sid``) and return its acknowledgement.

        Raises :class:`socketio.exceptions.TimeoutError` after ``timeout``
        seconds (60). On the async server's loop, ``await`` the result.
        """
        namespace = kwargs.pop("namespace", None) or "/"
        to = kwargs.pop("to", None) or kwargs.pop("sid", None)
        if to is None:
            raise ValueError(
                "call() needs 'to=<sid>': it waits for one client's answer"
            )
        timeout = kwargs.pop("timeout", 60)
        ignore_queue = kwargs.pop("ignore_queue", False)
        state = self._state()
        return run_on(
            state,
            self._server(state),
            "call",
            event,
            _data(args),
            to=to,
            namespace=namespace,
            timeout=timeout,
            ignore_queue=ignore_queue,
        )

    def close_room(self, room: str, namespace: str | None = None) -> Pending:
        """Remove every client from ``room``."""
        state = self._state()
        rv = run_on(state, self._server(state), "close_room", room, namespace or "/")
        return rv if isinstance(rv, Pending) else Pending()

    def disconnect_user(self, user_id: t.Any, namespace: str | None = None) -> None:
        """Disconnect every connection of a logged-in user, in every process.

        Connections are known by user once a :func:`login_required` connect
        handler (or namespace) accepted them, or after
        ``join_room(user_room(user_id))``. With a Redis ``message_queue`` the
        request reaches every process; without one, this process only.
        erlen-login's ``logout_user()`` calls it for the user who logs out.
        """
        state = self._state()
        room = user_room(user_id)
        if self.message_queue is not None and self.message_queue.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            import redis

            client = redis.Redis.from_url(self.message_queue)
            try:
                message = {"room": room, "namespace": namespace}
                client.publish(_user_channel(self.channel), json.dumps(message))
            finally:
                client.close()
            return
        _disconnect_room(state, room, namespace)

    # -- running ------------------------------------------------------------------

    def start_background_task(
        self, target: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        """Run ``target`` in the background: a thread, or a task on the ASGI loop.

        A coroutine function runs as a task when the app is served by ASGI;
        a plain function runs in a thread. Returns the thread or task.
        """
        state = self._state()
        loop = state.loop
        if inspect.iscoroutinefunction(target):
            if loop is not None:
                coro = target(*args, **kwargs)
                return asyncio.run_coroutine_threadsafe(coro, loop)
            return state.server.start_background_task(
                asyncio.run, target(*args, **kwargs)
            )
        return state.server.start_background_task(target, *args, **kwargs)

    def sleep(self, seconds: float = 0) -> None:
        """Sleep in a background task or sync handler (``await asyncio.sleep`` in async code)."""
        self._state().server.sleep(seconds)

    def run(
        self,
        app: Erlen,
        host: str | None = None,
        port: int | None = None,
        *,
        debug: bool | None = None,
        use_reloader: bool | None = None,
        log_output: bool | None = None,
        allow_unsafe_werkzeug: bool = False,
        **kwargs: t.Any,
    ) -> None:
        """Serve ``app`` with Werkzeug's development server (threads, WebSocket included).

        ``log_output`` is accepted for Flask-SocketIO's signature; Werkzeug logs
        requests through the ``werkzeug`` logger.

        For production use gunicorn (``--worker-class gthread``) or an ASGI
        server; see the Socket.IO guide. ``port`` defaults to ``SERVER_NAME``'s
        port, else 5000.
        """
        from werkzeug.serving import run_simple

        if host is None:
            host = "127.0.0.1"
        if port is None:
            server_name = app.config.get("SERVER_NAME")
            if server_name and ":" in server_name:
                port = int(server_name.rsplit(":", 1)[1])
            else:
                port = 5000
        if debug is not None:
            app.debug = debug
        if use_reloader is None:
            use_reloader = app.debug
        if not allow_unsafe_werkzeug and not app.debug and not sys.stdin.isatty():
            if os.environ.get("ERLEN_SOCKETIO_ALLOW_WERKZEUG") != "1":
                raise RuntimeError(
                    "socketio.run() serves with Werkzeug's development server,"
                    " which is not for production. Serve with gunicorn"
                    " (--worker-class gthread) or uvicorn, or pass"
                    " allow_unsafe_werkzeug=True to run it anyway."
                )
        if use_reloader:
            run_simple(host, port, app, use_reloader=True, threaded=True, **kwargs)
            return
        from werkzeug.serving import make_server

        self._dev_server = make_server(host, port, app, threaded=True, **kwargs)
        try:
            self._dev_server.serve_forever()
        finally:
            self._dev_server.server_close()
            self._dev_server = None

    def stop(self) -> None:
        """Stop the server :meth:`run` started (call it from a handler or a thread)."""
        server = self._dev_server
        if server is None:
            raise RuntimeError(
                "stop() stops the server socketio.run() started; none runs"
            )
        threading.Thread(target=server.shutdown, daemon=True).start()

    def test_client(
        self,
        app: Erlen,
        namespace: str | None = None,
        query_string: str | None = None,
        headers: dict[str, str] | None = None,
        auth: dict[str, t.Any] | None = None,
        flask_test_client: t.Any = None,
    ) -> SocketIOTestClient:
        """A client that talks to ``app``'s server in process, without sockets.

        ``flask_test_client`` (an ``app.test_client()``) lends its cookies, so
        the connection sees the session that HTTP requests set.
        """
        from .test_client import SocketIOTestClient

        return SocketIOTestClient(
            app,
            self,
            namespace=namespace,
            query_string=query_string,
            headers=headers,
            auth=auth,
            flask_test_client=flask_test_client,
        )

    # -- deployment ---------------------------------------------------------------

    def deploy_problems(
        self, app: Erlen, state: SocketIOState
    ) -> cabc.Iterable[DeployProblem]:
        """Report any-origin CORS, several workers without a queue, polling-only."""
        origins = self.server_options.get("cors_allowed_origins")
        if origins == "*" or (isinstance(origins, (list, tuple)) and "*" in origins):
            yield DeployProblem(
                "socketio_cors",
                "SocketIO(cors_allowed_origins='*') lets any web site open"
                " Socket.IO connections with your users' cookies.",
                "List the origins that may connect, e.g."
                " cors_allowed_origins=['https://app.example'], or leave it out"
                " for same-origin only.",
            )
        workers = _configured_workers()
        if workers > 1 and self.message_queue is None:
            yield DeployProblem(
                "socketio_queue",
                f"{workers} worker processes serve Socket.IO without a message"
                " queue: an emit reaches only the clients of its own process.",
                "Pass message_queue='redis://...' to SocketIO so every process"
                " relays emits through Redis.",
            )
        transports = self.server_options.get("transports")
        mode = self.server_options.get("async_mode")
        if (
            transports is not None
            and list(transports) == ["polling"]
            and mode != "asgi"
        ):
            yield DeployProblem(
                "socketio_polling",
                "Socket.IO is limited to long-polling under a sync server: every"
                " waiting client holds a worker thread.",
                "Allow the 'websocket' transport (the default), or serve the app"
                " with an ASGI server.",
            )


class PollGuard:
    """WSGI middleware: at most ``limit`` long-polls wait at once; others get 503.

    Under a threaded server a waiting poll holds a thread for up to
    ``ping_interval`` seconds; without a bound, a few hundred polls (or one
    client opening many sessions) take every thread and the app stops
    answering. Clients treat 503 as a failed poll and reconnect with backoff.
    """

    def __init__(self, app: t.Any, path: str, limit: int) -> None:
        self.app = app
        self.prefix = f"/{path}/"
        self.waiting = threading.BoundedSemaphore(max(limit, 1))
        #: The app's own ``wsgi_app``, restored when ``init_app`` runs again.
        self._erlen_socketio_wrapped: t.Any = None

    def __call__(
        self, environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> t.Any:
        query = environ.get("QUERY_STRING", "")
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and "sid=" in query
            and "transport=polling" in query
            and f"{environ.get('PATH_INFO', '')}/".startswith(self.prefix)
        ):
            if not self.waiting.acquire(blocking=False):
                start_response(
                    "503 Service Unavailable",
                    [("Content-Type", "text/plain"), ("Retry-After", "1")],
                )
                return [b"Too many long-polling requests are waiting; retry later."]
            try:
                return list(self.app(environ, start_response))
            finally:
                self.waiting.release()
        return self.app(environ, start_response)


def user_room(user_id: t.Any) -> str:
    """The room that holds a logged-in user's connections (see ``disconnect_user``)."""
    return f"erlen-user:{user_id}"


def _user_channel(channel: str) -> str:
    return f"{channel}:erlen-disconnect-user"


def _disconnect_room(state: SocketIOState, room: str, namespace: str | None) -> None:
    """Disconnect this process's clients in ``room`` (every namespace by default)."""
    server = state.active_server
    if is_async_server(server) and state.loop is not None:
        asyncio.run_coroutine_threadsafe(
            _disconnect_room_async(server, room, namespace), state.loop
        ).result()
        return
    for ns, sid in _participants(server, room, namespace):
        server.disconnect(sid, namespace=ns, ignore_queue=True)


async def _disconnect_room_async(
    server: t.Any, room: str, namespace: str | None
) -> None:
    for ns, sid in _participants(server, room, namespace):
        await server.disconnect(sid, namespace=ns, ignore_queue=True)


def _participants(
    server: t.Any, room: str, namespace: str | None
) -> list[tuple[str, str]]:
    manager = server.manager
    namespaces = [namespace] if namespace else list(manager.get_namespaces())
    return [
        (ns, sid)
        for ns in namespaces
        for sid, _ in list(manager.get_participants(ns, room))
    ]


def _listen_for_user_disconnects(state: SocketIOState) -> None:
    """In a daemon thread: disconnect this process's clients that another asked for."""
    import redis

    socketio_ = state.socketio
    url = socketio_.message_queue
    if url is None:  # pragma: no cover - only started with a queue
        return
    while True:
        try:
            pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(_user_channel(socketio_.channel))
            for message in pubsub.listen():  # type: ignore[no-untyped-call]
                try:
                    data = json.loads(message["data"])
                    _disconnect_room(state, str(data["room"]), data.get("namespace"))
                except Exception:
                    state.server.logger.exception("could not disconnect a user")
        except Exception:  # the connection to Redis dropped: retry
            state.server.logger.exception("lost Redis; listening again in 1 s")
            time.sleep(1)


def _start_user_listener(state: SocketIOState) -> None:
    """Start :func:`_listen_for_user_disconnects` once per process and app."""
    with _listener_lock:
        if state.user_listener or state.socketio.message_queue is None:
            return
        if not state.socketio.message_queue.startswith(
            ("redis://", "rediss://", "unix://")
        ):
            return
        state.user_listener = True
    threading.Thread(
        target=_listen_for_user_disconnects,
        args=(state,),
        daemon=True,
        name="erlen-socketio-users",
    ).start()


_listener_lock = threading.Lock()


def _configured_workers() -> int:
    """How many worker processes the environment asks for (``WEB_CONCURRENCY``)."""
    try:
        return int(os.environ.get("WEB_CONCURRENCY", "1"))
    except ValueError:
        return 1


def _make_manager(
    url: str, channel: str, write_only: bool, asynchronous: bool
) -> t.Any:
    """python-socketio's client manager for a queue URL (JSON on the wire)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        cls = socketio.AsyncRedisManager if asynchronous else socketio.RedisManager
        return cls(url, channel=channel, write_only=write_only)
    if asynchronous:
        raise ValueError(
            f"message_queue={url!r}: under ASGI erlen-socketio supports Redis"
            " queues (redis://, rediss://)."
        )
    if url.startswith("kafka"):
        return socketio.KafkaManager(url, channel=channel, write_only=write_only)
    if url.startswith("zmq"):
        return socketio.ZmqManager(url, channel=channel, write_only=write_only)
    return socketio.KombuManager(url, channel=channel, write_only=write_only)


def _data(args: tuple[t.Any, ...]) -> t.Any:
    """python-socketio's ``data``: nothing, one value, or a tuple of several."""
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return args


def _in_app_context(
    state: SocketIOState, callback: t.Callable[..., t.Any]
) -> t.Callable[..., t.Any]:
    app = state.app
    if app is None:
        return callback

    @functools.wraps(callback)
    def call(*args: t.Any) -> t.Any:
        with app.app_context():
            return callback(*args)

    return call


async def _asgi_entry(
    state: SocketIOState,
    original: t.Callable[..., t.Awaitable[None]],
    scope: t.MutableMapping[str, t.Any],
    receive: t.Callable[..., t.Any],
    send: t.Callable[..., t.Any],
) -> None:
    """The app's ASGI entry: Socket.IO's path to the async server, the rest to erlen."""
    entry = state.asgi_entry
    if entry is None or state.loop is None or state.loop.is_closed():
        # The first call, or a new loop after the last one closed (an ASGI
        # test client runs each request on its own loop): serve on this one.
        socketio_ = state.socketio
        state.loop = asyncio.get_running_loop()
        state.async_server = socketio_._make_async_server(state)
        entry = state.asgi_entry = socketio.ASGIApp(
            state.async_server, original, socketio_path=socketio_.path
        )
    await entry(scope, receive, send)


# -- one handler call -------------------------------------------------------------


def _positional_count(func: t.Callable[..., t.Any]) -> int:
    """How many positional arguments ``func`` takes (a large number for ``*args``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return 99
    count = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return 99
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class _Call:
    """A user handler as python-socketio calls it: ``(event?, namespace?, sid, *args)``."""

    def __init__(
        self,
        state: SocketIOState,
        server: t.Any,
        handler: t.Callable[..., t.Any],
        message: str,
        namespace: str,
    ) -> None:
        self.state = state
        self.server = server
        self.handler = handler
        self.message = message
        self.namespace = namespace
        self.takes = _positional_count(handler)
        self.is_async = inspect.iscoroutinefunction(handler)

    def _split(
        self, args: tuple[t.Any, ...]
    ) -> tuple[str, str, str, tuple[t.Any, ...]]:
        """Turn python-socketio's arguments into (event, namespace, sid, user args)."""
        event = self.message
        namespace = self.namespace
        prefix: tuple[t.Any, ...] = ()
        if self.message == "*":
            event, args = args[0], args[1:]
            prefix = (event,)
        if self.namespace == "*":
            namespace, args = args[0], args[1:]
        sid, args = args[0], args[1:]
        if event == "connect":
            auth = args[1] if len(args) > 1 else None
            args = (auth,) if self.takes >= 1 else ()
        elif event == "disconnect":
            args = args[:1] if self.takes >= 1 else ()
        return event, namespace, sid, prefix + args

    def run(self, *args: t.Any) -> t.Any:
        event, namespace, sid, user_args = self._split(args)
        return dispatch(
            self.state, self.server, self.handler, event, namespace, sid, user_args
        )

    async def run_async(self, *args: t.Any) -> t.Any:
        event, namespace, sid, user_args = self._split(args)
        return await dispatch_async(
            self.state, self.server, self.handler, event, namespace, sid, user_args
        )


def _session_for(
    state: SocketIOState, environ: dict[str, t.Any], ctx: RequestContext
) -> None:
    """Give ``ctx`` the connection's managed session, copied at first use."""
    saved = environ.get("saved_session")
    if saved is None:
        saved = environ["saved_session"] = ManagedSession(ctx.session)
    ctx.session = saved


def _prepare(
    state: SocketIOState,
    server: t.Any,
    event: str,
    namespace: str,
    sid: str,
    args: tuple[t.Any, ...],
) -> tuple[RequestContext, Handling] | None:
    app = state.app
    environ = server.get_environ(sid, namespace)
    if environ is None or app is None:
        return None
    if event == "connect" and not state.user_listener:
        _start_user_listener(state)
    ctx = RequestContext(app, environ)
    if state.socketio.manage_session:
        _session_for(state, environ, ctx)
    return ctx, Handling(state, server, sid, namespace)


def _enter(ctx: RequestContext, handling: Handling, event: str, args: t.Any) -> t.Any:
    ctx.push()
    req = request._get_current_object()  # type: ignore[attr-defined]
    req.sid = handling.sid
    req.namespace = handling.namespace
    req.event = {"message": event, "args": args}
    return _handling.set(handling)


def _leave(ctx: RequestContext, token: t.Any, state: SocketIOState) -> None:
    _handling.reset(token)
    try:
        if not state.socketio.manage_session and ctx.session_opened:
            app = ctx.app
            session = ctx.session
            if session.modified and not app.session_interface.is_null_session(session):
                app.session_interface.save_session(app, session, app.response_class())
    finally:
        ctx.pop(None)


def _handle_error(
    state: SocketIOState, namespace: str, error: Exception, on_loop: bool = False
) -> t.Any:
    """The namespace's error handler's answer to ``error``, or ``error`` re-raised.

    An ``async def`` error handler is awaited on the loop (``on_loop``: the
    caller awaits what this returns), else run to completion here.
    """
    if isinstance(error, (ConnectionRefusedError, SocketIOConnectionError)):
        raise error
    handler = state.socketio.error_handler_for(namespace)
    if handler is None:
        raise error
    if inspect.iscoroutinefunction(handler) and not on_loop and state.app is not None:
        return state.app.ensure_sync(handler)(error)
    return handler(error)


def dispatch(
    state: SocketIOState,
    server: t.Any,
    handler: t.Callable[..., t.Any],
    event: str,
    namespace: str,
    sid: str,
    args: tuple[t.Any, ...],
) -> t.Any:
    """Call a sync ``handler`` in the connection's request context."""
    prepared = _prepare(state, server, event, namespace, sid, args)
    if prepared is None:
        return None
    ctx, handling = prepared
    token = _enter(ctx, handling, event, args)
    try:
        try:
            if inspect.iscoroutinefunction(handler):
                return ctx.app.ensure_sync(handler)(*args)
            return handler(*args)
        except Exception as e:
            return _handle_error(state, namespace, e)
    finally:
        _leave(ctx, token, state)


async def dispatch_async(
    state: SocketIOState,
    server: t.Any,
    handler: t.Callable[..., t.Any],
    event: str,
    namespace: str,
    sid: str,
    args: tuple[t.Any, ...],
) -> t.Any:
    """Await an async ``handler`` on the loop, or run a sync one in the app's pool."""
    if not inspect.iscoroutinefunction(handler):
        from erlen.asgi import to_thread

        app = state.app
        if app is None:  # pragma: no cover - emitters have no handlers
            return None
        return await to_thread(
            app, dispatch, state, server, handler, event, namespace, sid, args
        )
    prepared = _prepare(state, server, event, namespace, sid, args)
    if prepared is None:
        return None
    ctx, handling = prepared
    token = _enter(ctx, handling, event, args)
    try:
        try:
            return await handler(*args)
        except Exception as e:
            rv = _handle_error(state, namespace, e, on_loop=True)
            return await rv if inspect.isawaitable(rv) else rv
    finally:
        _leave(ctx, token, state)
