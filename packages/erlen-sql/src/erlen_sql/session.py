"""The :class:`Session` class behind ``db.session``: routes each table to its bind."""

from __future__ import annotations

import collections.abc as cabc
import threading
import typing as t

import sqlalchemy as sa
import sqlalchemy.event as sa_event
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm
from sqlalchemy.sql.util import find_tables

if t.TYPE_CHECKING:  # pragma: no cover
    from .extension import SQLAlchemy

__all__ = ["Session"]

_Bind: t.TypeAlias = "sa.engine.Engine | sa.engine.Connection"


class Session(sa_orm.Session):
    """A session that picks the engine from the table's metadata bind key.

    Tables of a model with ``__bind_key__ = "auth"`` (or a ``db.Table`` created with
    ``bind_key="auth"``) live in a metadata whose ``info["bind_key"]`` is
    ``"auth"``; queries on them run on the ``"auth"`` engine of the current app.
    Anything else runs on the default engine. A custom ``class_`` in
    ``session_options`` must subclass this and accept the ``db`` argument.

    :param db: the extension that owns this session.
    """

    def __init__(self, db: SQLAlchemy, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self._db = db
        self._isolation_gate: IsolationGate | None = None

    def _bind_targets(self) -> cabc.Mapping[str | None, _Bind]:
        """Return the engines (or test connections) of the current app by bind key.

        While :func:`erlen_sql.testing.isolate` is active this waits until no
        other thread's session is using the shared test connections.
        """
        state = self._db.state
        gate = state.isolation_gate
        if gate is not None:
            gate.enter(self)
            if self._isolation_gate is None:
                # Only isolated sessions pay for this hook, not every request's.
                sa_event.listen(self, "after_transaction_end", _transaction_ended)
            self._isolation_gate = gate
        isolation = state.isolation
        return state.engines if isolation is None else isolation

    def close(self) -> None:
        """Close the session and let other threads use the test connections again."""
        super().close()
        if self._isolation_gate is not None:
            self._leave_isolation()

    def _leave_isolation(self) -> None:
        gate, self._isolation_gate = self._isolation_gate, None
        if gate is not None:
            gate.leave(self)

    def get_bind(
        self,
        mapper: t.Any | None = None,
        clause: t.Any | None = None,
        bind: _Bind | None = None,
        **kwargs: t.Any,
    ) -> _Bind:
        """Return the engine for a mapper or statement, routed by bind key."""
        if bind is not None:
            return bind
        targets = self._bind_targets()
        if len(targets) == 1 and None in targets and len(self._db.metadatas) == 1:
            # The hot path: one engine and no bind key in any of this extension's
            # metadata, so every table goes to the default engine; finding the
            # statement's tables (a walk of the whole clause) would change nothing.
            if mapper is not None and isinstance(mapper, type):
                _check_mapped(mapper)
            return targets[None]
        if mapper is not None:
            try:
                info = sa.inspect(mapper)
            except sa_exc.NoInspectionAvailable as e:
                if isinstance(mapper, type):
                    raise sa_orm.exc.UnmappedClassError(mapper) from e
                raise
            table = getattr(info, "local_table", None)
            found = _target_for_clause(table, targets)
            if found is not None:
                return found
        if clause is not None:
            found = _target_for_clause(clause, targets)
            if found is not None:
                return found
        if None in targets:
            return targets[None]
        return super().get_bind(mapper=mapper, clause=clause, **kwargs)


def _check_mapped(cls: type[t.Any]) -> None:
    """Raise :exc:`~sqlalchemy.orm.exc.UnmappedClassError` for a class that is not mapped."""
    if sa.inspect(cls, raiseerr=False) is None:
        raise sa_orm.exc.UnmappedClassError(cls)


def _target_for_clause(
    clause: t.Any, targets: cabc.Mapping[str | None, _Bind]
) -> _Bind | None:
    """Find the bind of the first table in ``clause`` whose metadata names one."""
    if clause is None:
        return None
    if isinstance(clause, sa.Table):
        tables: cabc.Iterable[t.Any] = [clause]
    else:
        try:
            tables = find_tables(clause, include_crud=True, include_joins=False)
        except Exception:  # pragma: no cover - unusual clause types
            return None
    for table in tables:
        metadata = getattr(table, "metadata", None)
        if metadata is None or "bind_key" not in metadata.info:
            continue
        key = metadata.info["bind_key"]
        if key not in targets:
            raise sa_exc.UnboundExecutionError(
                f"Bind key {key!r} is not in 'SQLALCHEMY_BINDS' config of the"
                " current app. Add it there, or remove '__bind_key__' from the"
                " model."
            )
        return targets[key]
    return None


def _transaction_ended(session: sa_orm.Session, transaction: t.Any) -> None:
    if transaction.parent is None and isinstance(session, Session):
        session._leave_isolation()


class IsolationGate:
    """Makes other threads' sessions take turns on :func:`isolate`'s connections.

    All sessions share one connection per bind, each inside its own savepoint.
    Savepoints of sessions in different threads would interleave (one thread's
    ``RELEASE`` would end another's savepoint), so a session of a thread other
    than the one that called :func:`isolate` waits until the sessions of any
    other such thread have ended their transactions or closed. The isolating
    thread's sessions (the test and the requests its test client makes) never
    wait, and nest as usual.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._isolating_thread = threading.get_ident()
        self._condition = threading.Condition()
        self._thread: int | None = None
        self._holders: set[int] = set()

    def enter(self, session: Session) -> None:
        """Wait (at most ``timeout`` seconds) until ``session`` may use the connections."""
        me = threading.get_ident()
        key = id(session)
        if me == self._isolating_thread:
            return
        with self._condition:
            if key in self._holders:
                return
            if not self._condition.wait_for(
                lambda: self._thread in (None, me), timeout=self.timeout
            ):
                raise RuntimeError(
                    "A session in another thread has held the isolated test"
                    f" connection for {self.timeout:g} seconds. Inside"
                    " 'erlen_sql.testing.isolate', threads take turns: each must"
                    " end its transaction ('db.session.commit()', 'rollback()' or"
                    " 'close()') before another thread's session can start one."
                )
            self._thread = me
            self._holders.add(key)

    def leave(self, session: Session) -> None:
        """``session`` is done with the connections for now."""
        with self._condition:
            if id(session) not in self._holders:
                return
            self._holders.discard(id(session))
            if not self._holders:
                self._thread = None
                self._condition.notify_all()
