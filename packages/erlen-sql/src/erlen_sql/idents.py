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


#: Bits of the MySQL / MariaDB integer types without a generic equivalent.
_MYSQL_BITS = {"TINYINT": 8, "MEDIUMINT": 24}


def _integer_range(impl: sa.types.TypeEngine[t.Any], dialect_name: str) -> range | None:
    """Values the database can hold in a column of ``impl`` (the bind's type).

    ``None`` when unsure (another dialect, a custom type): the database answers.
    """
    if not isinstance(impl, sa.Integer):
        return None
    if dialect_name == "sqlite":
        bits = 64
    elif isinstance(impl, sa.BigInteger):
        bits = 64
    elif isinstance(impl, sa.SmallInteger):
        bits = 16
    elif dialect_name in ("mysql", "mariadb"):
        bits = _MYSQL_BITS.get(type(impl).__name__, 32)
    elif dialect_name == "postgresql":
        bits = 32
    else:
        return None
    if dialect_name in ("mysql", "mariadb") and getattr(impl, "unsigned", False):
        return range(2**bits)
    return range(-(2 ** (bits - 1)), 2 ** (bits - 1))


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
      leading ``-``). A value is refused only when the type the bind's
      dialect uses for the column (its ``with_variant()`` for that dialect,
      MySQL's unsigned types) cannot hold it; for other dialects and custom
      types the database answers.
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
    dialects: list[sa.engine.Dialect] = []

    def dialect() -> sa.engine.Dialect:
        if not dialects:
            dialects.append(session.get_bind(mapper=mapper).dialect)
        return dialects[0]

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


def primary_key_criteria(entity: t.Any, ident: t.Any) -> list[t.Any] | None:
    """``column == value`` for each primary key column, to filter a query on ``ident``.

    ``ident`` is a scalar, a tuple/list in primary key order or a dict by
    attribute name, as for ``Session.get``. Returns ``None`` when every part is
    ``None`` (no row can match), and raises ``InvalidRequestError`` for a wrong
    number of parts, as ``Session.get`` does.
    """
    info = sa.inspect(entity)
    mapper = info.mapper
    keys = [_attribute_key(mapper, c) for c in mapper.primary_key]
    if isinstance(ident, dict):
        values: t.Sequence[t.Any] = [ident.get(k) for k in keys]
    elif isinstance(ident, (tuple, list)):
        values = ident
    else:
        values = (ident,)
    if len(values) != len(keys):
        raise sa_exc.InvalidRequestError(
            f"Incorrect number of values in identifier formed from argument"
            f" {ident!r}; primary key for {mapper} has {len(keys)} columns."
        )
    if all(v is None for v in values):
        return None
    return [getattr(entity, k) == v for k, v in zip(keys, values, strict=True)]


def _convert(
    column_type: t.Any, value: t.Any, dialect: t.Callable[[], sa.engine.Dialect]
) -> t.Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(column_type, sa.Integer):
        if isinstance(value, str):
            if not _is_integer_text(value):
                return NO_MATCH
            value = int(value)
        if isinstance(value, int):
            bind = dialect()
            # The type the bind's dialect uses: a with_variant() for it, or
            # the dialect's own class (MySQL's INTEGER(unsigned=True)).
            valid = _integer_range(column_type.dialect_impl(bind), bind.name)
            if valid is not None and value not in valid:
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
