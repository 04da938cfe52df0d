"""Checks on primary key values that come from URLs, before they reach the database."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm


def _integer_limit(column_type: sa.Integer, dialect_name: str) -> int:
    if isinstance(column_type, sa.SmallInteger):
        return 2**15
    if isinstance(column_type, sa.BigInteger) or dialect_name == "sqlite":
        return 2**63
    return 2**31


def ident_fits(session: sa_orm.Session, entity: t.Any, ident: t.Any) -> bool:
    """Whether each integer part of ``ident`` fits its primary key column's type.

    An id taken from a URL (``/items/99999999999999999999``) that no integer
    column can hold makes SQLite raise ``OverflowError`` and PostgreSQL abort
    the transaction; such an id can match no row, so ``get_or_404`` answers
    404 without asking the database.
    """
    try:
        columns = sa.inspect(entity).primary_key
    except sa_exc.NoInspectionAvailable:
        return True
    if isinstance(ident, dict):
        values: t.Sequence[t.Any] = [ident.get(c.key) for c in columns]
    elif isinstance(ident, (tuple, list)):
        values = ident
    else:
        values = (ident,)
    dialect_name: str | None = None
    # A wrong number of parts is left for SQLAlchemy to report.
    for column, value in zip(columns, values, strict=False):
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if not isinstance(column.type, sa.Integer):
            continue
        if dialect_name is None:
            dialect_name = session.get_bind(mapper=sa.inspect(entity)).dialect.name
        limit = _integer_limit(column.type, dialect_name)
        if not -limit <= value < limit:
            return False
    return True
