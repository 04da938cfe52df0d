"""Class-based namespaces: one class, one ``on_<event>`` method per event."""

from __future__ import annotations

import inspect
import typing as t

import socketio
from socketio.exceptions import ConnectionError as SocketIOConnectionError

from ._context import Pending
from .extension import dispatch
from .extension import dispatch_async

if t.TYPE_CHECKING:  # pragma: no cover
    from .extension import SocketIO
    from .extension import SocketIOState


class Namespace:
    """Handlers of one namespace as methods: ``on_connect``, ``on_my_event``...

    Register an instance with :meth:`SocketIO.on_namespace`. An event named
    ``my_event`` calls ``on_my_event``; events without a method are ignored.
    Methods may be ``async def`` (awaited under ASGI). An ``error(self, e)``
    method receives the errors its handlers raise that no
    :meth:`SocketIO.on_error` handler took; its return value is the
    acknowledgement.
    """

    def __init__(self, namespace: str | None = None) -> None:
        self.namespace = namespace or "/"
        #: The extension the namespace is registered on.
        self.socketio: SocketIO | None = None

    def _owner(self) -> SocketIO:
        if self.socketio is None:
            raise RuntimeError(
                "This Namespace is not registered: call"
                " socketio.on_namespace(namespace) first."
            )
        return self.socketio

    def handler_for(self, event: str) -> t.Callable[..., t.Any] | None:
        """The bound ``on_<event>`` method, or ``None``."""
        return getattr(self, f"on_{event}", None)

    def emit(
        self,
        event: str,
        data: t.Any = None,
        room: str | None = None,
        include_self: bool = True,
        namespace: str | None = None,
        callback: t.Callable[..., t.Any] | None = None,
        to: str | None = None,
    ) -> Pending:
        """Emit ``event`` in this namespace (see :meth:`SocketIO.emit`)."""
        args = () if data is None else (data,)
        return self._owner().emit(
            event,
            *args,
            to=to if to is not None else room,
            include_self=include_self,
            namespace=namespace or self.namespace,
            callback=callback,
        )

    def send(
        self,
        data: t.Any,
        room: str | None = None,
        include_self: bool = True,
        namespace: str | None = None,
        callback: t.Callable[..., t.Any] | None = None,
        to: str | None = None,
    ) -> Pending:
        """Send a ``message`` event in this namespace."""
        return self._owner().send(
            data,
            to=to if to is not None else room,
            include_self=include_self,
            namespace=namespace or self.namespace,
            callback=callback,
        )

    def close_room(self, room: str, namespace: str | None = None) -> Pending:
        """Remove every client from ``room`` in this namespace."""
        return self._owner().close_room(room, namespace or self.namespace)


def _positional(func: t.Callable[..., t.Any]) -> int:
    from .extension import _positional_count

    return _positional_count(func)


def _user_args(
    event: str, method: t.Callable[..., t.Any], args: tuple[t.Any, ...]
) -> tuple[str, tuple[t.Any, ...]]:
    """Split python-socketio's ``(sid, *args)`` into the sid and the method's args."""
    sid, rest = args[0], args[1:]
    if event == "connect":
        auth = rest[1] if len(rest) > 1 else None
        return sid, ((auth,) if _positional(method) >= 1 else ())
    if event == "disconnect":
        return sid, (rest[:1] if _positional(method) >= 1 else ())
    return sid, rest


def _error(ns: Namespace, error: Exception) -> t.Any:
    on_error = getattr(ns, "error", None)
    if on_error is None or isinstance(
        error, (ConnectionRefusedError, SocketIOConnectionError)
    ):
        raise error
    return on_error(error)


def bridge(state: SocketIOState, server: t.Any, ns: Namespace) -> t.Any:
    """A python-socketio namespace object that forwards events to ``ns``."""
    from ._context import is_async_server

    if is_async_server(server):

        class _AsyncBridge(socketio.AsyncNamespace):  # type: ignore[misc]
            async def trigger_event(self, event: str, *args: t.Any) -> t.Any:
                method = ns.handler_for(event)
                if method is None:
                    return None
                sid, user_args = _user_args(event, method, args)
                try:
                    return await dispatch_async(
                        state, server, method, event, ns.namespace, sid, user_args
                    )
                except Exception as e:
                    rv = _error(ns, e)
                    return await rv if inspect.isawaitable(rv) else rv

        return _AsyncBridge(ns.namespace)

    class _Bridge(socketio.Namespace):  # type: ignore[misc]
        def trigger_event(self, event: str, *args: t.Any) -> t.Any:
            method = ns.handler_for(event)
            if method is None:
                return None
            sid, user_args = _user_args(event, method, args)
            try:
                return dispatch(
                    state, server, method, event, ns.namespace, sid, user_args
                )
            except Exception as e:
                return _error(ns, e)

    return _Bridge(ns.namespace)
