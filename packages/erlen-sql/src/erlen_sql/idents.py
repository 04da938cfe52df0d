"""Primary key values that come from URLs, converted and checked before a query."""

from __future__ import annotations

import typing as t
import uuid

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm


class _NoMatch:
    """Marker: the ident cannot match any row of the entity."""


#: Returned by :func:`prepare_ident` for an ident that matches no row.
NO_MATCH: t.Final = _NoMatch()


def _integer_limit(column_type: sa.Integer, dialect_name: str) -> int:
    if isinstance(column_type, sa.SmallInteger):
        return 2**15
    if isinstance(column_type, sa.BigInteger) or dialect_name == "sqlite":
        return 2**63
    return 2**31


def _is_integer_text(value: str) -> bool:
    digits = value[1:] if value.startswith("-") else value
    return digits.isascii() and digits.isdigit()


def prepare_ident(session: sa_orm.Session, entity: t.Any, ident: t.Any) -> t.Any:
    """Convert ``ident`` to the primary key columns' Python types, for ``Session.get``.

    Returns the converted ident (same shape: scalar, tuple or dict), or
    :data:`NO_MATCH` when a part cannot match any row, so ``get_or_404``
    answers 404 without asking the database. An id taken from a URL is a
    string: the database would reject ``'abc'`` for an integer column (and
    PostgreSQL would abort the transaction), and a UUID column needs a
    :class:`uuid.UUID`.

    - Integer columns take ints and strings of ASCII digits (optionally with a
      leading ``-``) whose value fits the column type.
    - :class:`sqlalchemy.Uuid` columns take UUIDs and strings that
      :class:`uuid.UUID` parses.
    - Other values pass through unchanged.
    """
    try:
        mapper = sa.inspect(entity).mapper
        columns = mapper.primary_key
    except (sa_exc.NoInspectionAvailable, AttributeError):
        return ident
    if isinstance(ident, dict):
        keys = [_attribute_key(mapper, c) for c in columns]
        values: t.Sequence[t.Any] = [ident.get(k) for k in keys]
    elif isinstance(ident, (tuple, list)):
        values = ident
    else:
        values = (ident,)
    dialect_name: list[str] = []

    def dialect() -> str:
        if not dialect_name:
            dialect_name.append(session.get_bind(mapper=mapper).dialect.name)
        return dialect_name[0]

    converted: list[t.Any] = []
    # A wrong number of parts is left for SQLAlchemy to report.
    for column, value in zip(columns, values, strict=False):
        value = _convert(column.type, value, dialect)
        if value is NO_MATCH:
            return NO_MATCH
        converted.append(value)
    converted.extend(values[len(converted) :])
    if isinstance(ident, dict):
        result = dict(ident)
        result.update(zip(keys, converted, strict=False))
        return result
    if isinstance(ident, (tuple, list)):
        return type(ident)(converted)
    return converted[0]


def _attribute_key(mapper: sa_orm.Mapper[t.Any], column: sa.Column[t.Any]) -> str:
    try:
        return mapper.get_property_by_column(column).key
    except sa_exc.NoReferenceError:  # pragma: no cover - unusual mappings
        return column.key
    except sa_orm.exc.UnmappedColumnError:  # pragma: no cover - unusual mappings
        return column.key


def _convert(column_type: t.Any, value: t.Any, dialect: t.Callable[[], str]) -> t.Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(column_type, sa.Integer):
        if isinstance(value, str):
            if not _is_integer_text(value):
                return NO_MATCH
            value = int(value)
        if isinstance(value, int):
            limit = _integer_limit(column_type, dialect())
            if not -limit <= value < limit:
                return NO_MATCH
        return value
    if isinstance(column_type, sa.Uuid):
        if isinstance(value, str):
            try:
                parsed = uuid.UUID(value)
            except ValueError:
                return NO_MATCH
            return parsed if column_type.as_uuid else str(parsed)
        if isinstance(value, uuid.UUID) and not column_type.as_uuid:
            return str(value)
    return value
