"""The Socket.IO connection a handler is serving, and calls into its server.

A handler runs with a :class:`Handling` in a context variable: which server
(sync or async) received the event, and the client's ``sid`` and namespace.
:func:`run_on` calls a server method from wherever the caller is: directly on
the sync server; on the async server's loop, awaited later when the caller is
on that loop, waited for when it is a thread.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import contextvars
import dataclasses
import inspect
import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from .extension import SocketIOState


@dataclasses.dataclass(frozen=True)
class Handling:
    """The event being handled: its app state, server, client and namespace."""

    state: SocketIOState
    server: t.Any
    sid: str
    namespace: str


_handling: contextvars.ContextVar[Handling] = contextvars.ContextVar(
    "erlen_socketio.handling"
)


def current_handling(purpose: str) -> Handling:
    """The event being handled, or a clear error outside Socket.IO handlers."""
    handling = _handling.get(None)
    if handling is None:
        raise RuntimeError(
            f"{purpose}() works only inside a Socket.IO event handler, where it"
            " knows the client. Outside handlers (background tasks, views,"
            f" scripts) call socketio.{purpose}(...) with 'to=' or 'namespace='."
        )
    return handling


def optional_handling() -> Handling | None:
    """The event being handled, or ``None`` outside handlers."""
    return _handling.get(None)


class Pending:
    """The result of a call into a server; ``await`` it in async code.

    On the sync server (and from threads) the call has already completed and
    awaiting returns its value at once; on the async server's loop the call
    runs as a task, which awaiting waits for.
    """

    __slots__ = ("_task", "_value")

    def __init__(self, value: t.Any = None, task: asyncio.Task[t.Any] | None = None):
        self._value = value
        self._task = task

    def __await__(self) -> cabc.Generator[t.Any, None, t.Any]:
        if self._task is None:
            return self._value
        return (yield from self._task.__await__())

    def __repr__(self) -> str:
        return f"<Pending {'task' if self._task else 'done'}>"


def is_async_server(server: t.Any) -> bool:
    """Whether ``server`` is python-socketio's ``AsyncServer``."""
    import socketio

    return isinstance(server, socketio.AsyncServer)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def run_on(
    state: SocketIOState, server: t.Any, method: str, *args: t.Any, **kwargs: t.Any
) -> t.Any:
    """Call ``server.<method>(...)`` from here, sync or async; see the module doc."""
    result = getattr(server, method)(*args, **kwargs)
    if not inspect.isawaitable(result):
        return result
    loop = state.loop
    if loop is None:  # pragma: no cover - an async server always has its loop
        raise RuntimeError("the async Socket.IO server is not running")
    if _on_loop(loop):
        return Pending(task=loop.create_task(_awaited(result)))
    return asyncio.run_coroutine_threadsafe(_awaited(result), loop).result()


async def _awaited(awaitable: t.Awaitable[t.Any]) -> t.Any:
    return await awaitable
