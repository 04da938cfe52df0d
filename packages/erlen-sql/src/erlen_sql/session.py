"""The :class:`Session` class behind ``db.session``: routes each table to its bind."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import sqlalchemy as sa
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

    def _bind_targets(self) -> cabc.Mapping[str | None, _Bind]:
        """Return the engines (or test connections) of the current app by bind key."""
        return self._db._bind_targets()

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
