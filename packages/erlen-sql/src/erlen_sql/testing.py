"""Test isolation: run a test against the real database and roll everything back.

.. code-block:: python

    from erlen_sql.testing import isolate

    def test_signup(app, client):
        with isolate(db, app):
            client.post("/signup", data={"name": "ada"})
            assert db.session.scalar(db.select(User.name)) == "ada"
        # nothing was written

While :func:`isolate` is active, every ``db.session`` of that app (the test's
and the ones the test client's requests create) runs on one connection per bind
inside a transaction that is rolled back at the end. Sessions use savepoints, so
``db.session.commit()``, ``db.session.rollback()`` and
``db.session.begin_nested()`` behave as usual inside the test. ``create_all``
and ``drop_all`` called inside also run in that transaction.

Code that opens its own connections with ``db.engine.connect()``, async
sessions and other threads are not isolated.

For pytest, ``erlen_sql.pytest_plugin`` wraps this in an ``isolated_db`` fixture.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import typing as t

import sqlalchemy as sa

from erlen import has_app_context
from erlen.ext import get_app

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

    from .extension import SQLAlchemy

__all__ = ["isolate"]

_MISSING = object()


def _begin(connection: sa.engine.Connection) -> sa.engine.Transaction:
    """Begin a transaction that really started on the server.

    The stdlib ``sqlite3`` driver delays ``BEGIN`` until the first write, and a
    ``SAVEPOINT`` outside a transaction would commit on release, so a ``BEGIN``
    is sent when the driver has not started one.
    """
    transaction = connection.begin()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        if getattr(raw, "in_transaction", True) is False:
            connection.exec_driver_sql("BEGIN")
    return transaction


@contextlib.contextmanager
def isolate(db: SQLAlchemy, app: Erlen | None = None) -> cabc.Iterator[SQLAlchemy]:
    """Route ``app``'s sessions through one rolled-back transaction per bind.

    :param db: the extension.
    :param app: the app; the current app when omitted.
    """
    app = get_app(app, purpose="isolate the database")
    state = db.get_state(app)
    if state.isolation is not None:
        raise RuntimeError(
            "Database isolation is already active for this app; 'isolate' cannot"
            " be nested. Use 'db.session.begin_nested()' for an inner rollback."
        )
    factory = db.session.session_factory
    connections: dict[str | None, sa.engine.Connection] = {}
    transactions: list[sa.engine.Transaction] = []
    previous_mode = factory.kw.get("join_transaction_mode", _MISSING)
    _remove_current_session(db)
    try:
        for key, engine in state.engines.items():
            connection = engine.connect()
            connections[key] = connection
            transactions.append(_begin(connection))
        factory.kw["join_transaction_mode"] = "create_savepoint"
        state.isolation = connections
        yield db
    finally:
        _remove_current_session(db)
        state.isolation = None
        if previous_mode is _MISSING:
            factory.kw.pop("join_transaction_mode", None)
        else:
            factory.kw["join_transaction_mode"] = previous_mode
        for transaction in transactions:
            if transaction.is_active:
                transaction.rollback()
        for connection in connections.values():
            connection.close()


def _remove_current_session(db: SQLAlchemy) -> None:
    """Close the session of the active app context, which may hold a connection."""
    if has_app_context():
        db.session.remove()
