"""Close each ``db.async_session`` on the event loop that owns its connection,
and never block a running loop closing ``db.session``.

Async drivers tie a connection to the loop that opened it (asyncpg raises
"attached to a different loop" when another loop closes it). In a WSGI app
every async view runs in its own loop, which has ended by the time the app
context is torn down. So when an async session begins on a connection, a small
guard task is started on that loop: it waits, and closes the session when it
is cancelled, which happens when the loop ends (``asyncio.run`` and asgiref
cancel and await pending tasks) or when the app context is torn down first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing as t

import sqlalchemy.orm as sa_orm

if t.TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["close_off_loop", "close_on_owner_loop", "guard_on_running_loop"]

logger = logging.getLogger("erlen_sql")

_GUARD_KEY = "erlen_sql_loop_guard"

_Guard: t.TypeAlias = "tuple[asyncio.AbstractEventLoop, asyncio.Task[None]]"


async def _close_when_cancelled(session: AsyncSession) -> None:
    """Wait until cancelled, then close ``session`` on this loop."""
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        await session.close()


def guard_on_running_loop(sync_session: sa_orm.Session, *_: t.Any) -> None:
    """``after_begin`` listener: tie the async session to the running loop."""
    from sqlalchemy.ext.asyncio import async_session

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    session = async_session(sync_session)
    guard: _Guard | None = sync_session.info.get(_GUARD_KEY)
    if session is None or (guard is not None and not guard[1].done()):
        return
    task = loop.create_task(_close_when_cancelled(session))
    sync_session.info[_GUARD_KEY] = (loop, task)


def close_on_owner_loop(
    session: AsyncSession, background: set[asyncio.Future[t.Any]]
) -> None:
    """Close ``session`` at teardown, on the loop its connection belongs to.

    ``background`` keeps tasks scheduled on the running loop alive.
    """
    guard: _Guard | None = session.info.pop(_GUARD_KEY, None)
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if guard is not None:
        loop, task = guard
        if task.done():  # closed when its loop ended
            return
        if loop is running:
            task.cancel()
            return
        if loop.is_running():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                loop.call_soon_threadsafe(task.cancel)
                return
        elif not loop.is_closed():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(task)
            return
    # Not tied to a loop (no connection was opened), or its loop was closed
    # without ending its tasks: close it here, as well as that can be done.
    if running is None:
        asyncio.run(session.close())
    else:
        closing = running.create_task(session.close())
        background.add(closing)
        closing.add_done_callback(background.discard)


def close_off_loop(
    session: sa_orm.Session, background: set[asyncio.Future[t.Any]]
) -> None:
    """Close a sync session at teardown, in a thread when a loop runs here.

    Under the ASGI entry the teardown runs on the server's loop (it is marked
    :func:`erlen.ext.nonblocking`). A session in a transaction holds a
    connection whose reset is I/O, so it is closed in the loop's default
    executor; the connection is back in the pool just after the response.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is None or not session.in_transaction():
        session.close()  # no loop to block, or no connection to reset
        return
    closing = loop.run_in_executor(None, session.close)
    background.add(closing)
    closing.add_done_callback(background.discard)
    closing.add_done_callback(_log_failure)


def _log_failure(closing: asyncio.Future[t.Any]) -> None:
    if not closing.cancelled() and closing.exception() is not None:
        logger.error(
            "Closing the request's session failed", exc_info=closing.exception()
        )
