"""Functions for use inside handlers: they know the client whose event runs.

``emit`` and ``send`` reply to that client unless told otherwise (``to=``,
``broadcast=True``); room functions default to it. Each returns a
:class:`~erlen_socketio.Pending` that ``async def`` handlers may ``await``.
"""

from __future__ import annotations

import typing as t

from ._context import current_handling
from ._context import Pending
from ._context import run_on


def emit(event: str, *args: t.Any, **kwargs: t.Any) -> Pending:
    """Emit ``event`` to the client being served, or as :meth:`SocketIO.emit` says.

    :param broadcast: send to everyone in the namespace (or in ``to``).
    :param to: a sid or room (``room=`` is an alias).
    :param include_self: ``False`` skips the client being served.
    :param namespace: the namespace; the handler's by default.
    :param callback: called with the client's acknowledgement.
    """
    handling = current_handling("emit")
    namespace = kwargs.pop("namespace", None) or handling.namespace
    broadcast = kwargs.pop("broadcast", False)
    to = kwargs.pop("to", None)
    room = kwargs.pop("room", None)
    to = to if to is not None else room
    if to is None and not broadcast:
        to = handling.sid
    return handling.state.socketio.emit(
        event, *args, namespace=namespace, to=to, **kwargs
    )


def send(message: t.Any, **kwargs: t.Any) -> Pending:
    """Send a ``message`` event (``json`` with ``json=True``); see :func:`emit`."""
    json = kwargs.pop("json", False)
    return emit("json" if json else "message", message, **kwargs)


def call(event: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Emit ``event`` to the client being served (or ``to=``) and return its answer."""
    handling = current_handling("call")
    kwargs.setdefault("namespace", handling.namespace)
    to = kwargs.pop("to", None) or handling.sid
    return handling.state.socketio.call(event, *args, to=to, **kwargs)


def join_room(
    room: str, sid: str | None = None, namespace: str | None = None
) -> Pending:
    """Put the client being served (or ``sid``) in ``room``."""
    h = current_handling("join_room")
    rv = run_on(
        h.state, h.server, "enter_room", sid or h.sid, room, namespace or h.namespace
    )
    return rv if isinstance(rv, Pending) else Pending()


def leave_room(
    room: str, sid: str | None = None, namespace: str | None = None
) -> Pending:
    """Take the client being served (or ``sid``) out of ``room``."""
    h = current_handling("leave_room")
    rv = run_on(
        h.state, h.server, "leave_room", sid or h.sid, room, namespace or h.namespace
    )
    return rv if isinstance(rv, Pending) else Pending()


def close_room(room: str, namespace: str | None = None) -> Pending:
    """Take every client out of ``room``."""
    h = current_handling("close_room")
    return h.state.socketio.close_room(room, namespace or h.namespace)


def rooms(sid: str | None = None, namespace: str | None = None) -> list[str]:
    """The rooms the client being served (or ``sid``) is in, its own sid included."""
    h = current_handling("rooms")
    return list(h.server.rooms(sid or h.sid, namespace=namespace or h.namespace))


def disconnect(
    sid: str | None = None, namespace: str | None = None, silent: bool = False
) -> Pending:
    """Disconnect the client being served (or ``sid``) from the namespace."""
    h = current_handling("disconnect")
    rv = run_on(
        h.state,
        h.server,
        "disconnect",
        sid or h.sid,
        namespace=namespace or h.namespace,
    )
    return rv if isinstance(rv, Pending) else Pending()
