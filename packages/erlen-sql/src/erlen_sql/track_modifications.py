"""Signals sent when a session commits model changes (``SQLALCHEMY_TRACK_MODIFICATIONS``).

Both signals are sent with the app as sender and ``changes``, a list of
``(instance, "insert" | "update" | "delete")`` tuples.
:data:`before_models_committed` fires just before the commit,
:data:`models_committed` after it succeeded. Nothing is sent for apps that leave
the config key off, and the tracking itself is only switched on for sessions of
an extension that was set up on such an app.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
import sqlalchemy.event as sa_event
import sqlalchemy.orm as sa_orm
from blinker import Namespace

from erlen import current_app
from erlen import has_app_context

__all__ = ["before_models_committed", "models_committed"]

_signals = Namespace()

#: Sent after a commit that changed models: ``(app, changes=[(obj, op), ...])``.
models_committed = _signals.signal("erlen-sql-models-committed")
#: Sent just before such a commit: ``(app, changes=[(obj, op), ...])``.
before_models_committed = _signals.signal("erlen-sql-before-models-committed")

_INFO_KEY = "erlen_sql_model_changes"


def _listen(session: sa_orm.scoped_session[t.Any]) -> None:
    sa_event.listen(session, "before_flush", _record_ops, named=True)
    sa_event.listen(session, "before_commit", _before_commit)
    sa_event.listen(session, "after_commit", _after_commit)
    sa_event.listen(session, "after_rollback", _after_rollback)


def _tracking(session: sa_orm.Session) -> t.Any:
    if not has_app_context():
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("SQLALCHEMY_TRACK_MODIFICATIONS"):
        return None
    return app


def _changes(session: sa_orm.Session) -> dict[t.Any, tuple[t.Any, str]]:
    return t.cast(
        "dict[t.Any, tuple[t.Any, str]]", session.info.setdefault(_INFO_KEY, {})
    )


def _record_ops(session: sa_orm.Session, **_: t.Any) -> None:
    """Record the pending operations, as Flask-SQLAlchemy does.

    An object is keyed by its identity once it has one, by ``id()`` before:
    an insert flushed earlier in the transaction stays reported when the same
    object is then updated or deleted (``[(obj, "insert"), (obj, "delete")]``);
    later operations on a persistent object replace earlier ones.
    """
    if _tracking(session) is None:
        return
    changes = _changes(session)
    for objects, operation in (
        (session.new, "insert"),
        (session.dirty, "update"),
        (session.deleted, "delete"),
    ):
        for obj in objects:
            state = sa.inspect(obj)
            key = state.identity_key if state.has_identity else id(obj)
            changes[key] = (obj, operation)


def _before_commit(session: sa_orm.Session) -> None:
    app = _tracking(session)
    if app is None:
        return
    _record_ops(session)
    changes = _changes(session)
    if changes:
        before_models_committed.send(app, changes=list(changes.values()))


def _after_commit(session: sa_orm.Session) -> None:
    app = _tracking(session)
    changes = session.info.pop(_INFO_KEY, None)
    if app is not None and changes:
        models_committed.send(app, changes=list(changes.values()))


def _after_rollback(session: sa_orm.Session) -> None:
    session.info.pop(_INFO_KEY, None)
