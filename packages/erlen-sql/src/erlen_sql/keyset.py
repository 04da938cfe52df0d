"""Keyset (cursor) pagination with opaque, signed cursors.

Offset pagination gets slower the deeper a client pages, needs a ``COUNT`` and
skips or repeats rows when others insert meanwhile. Keyset pagination asks for
"the rows after this one" instead:

.. code-block:: python

    @app.get("/posts")
    def posts():
        page = db.keyset_paginate(
            db.select(Post), order_by=[Post.created.desc(), Post.id.desc()]
        )
        return {
            "items": [p.to_dict() for p in page],
            "next": page.next_cursor,
            "prev": page.prev_cursor,
        }

The client sends ``?cursor=...`` back. A cursor holds the sort values of the
row it points at, signed with the app's ``SECRET_KEY`` so clients cannot forge
or edit it; a tampered or foreign cursor aborts with 400 Bad Request. Cursors
signed with a key of ``SECRET_KEY_FALLBACKS`` are still accepted, so rotating the
key does not break the pages clients are on.

The last sort column must be unique (usually the primary key), so every row
has one place in the order. Columns that may hold NULL sort their NULLs last
unless wrapped in ``.nulls_first()`` (``.nulls_last()`` is accepted too), the
same on every database; this needs ``NULLS FIRST``/``NULLS LAST`` support
(PostgreSQL, SQLite 3.30 or newer).
"""

from __future__ import annotations

import collections.abc as cabc
import datetime
import decimal
import hashlib
import typing as t
import uuid

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from erlen import abort
from erlen import current_app
from erlen import has_request_context
from erlen import request

from .pagination import _int_arg
from .pagination import DEFAULT_MAX_PER_PAGE
from .pagination import DEFAULT_PER_PAGE

__all__ = ["KeysetPagination"]

_SALT = "erlen-sql.keyset-cursor"
_MAX_CURSOR_LENGTH = 4096


def _encode_value(value: t.Any) -> t.Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"d": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"t": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"dec": str(value)}
    if isinstance(value, uuid.UUID):
        return {"uuid": str(value)}
    raise TypeError(
        f"Cannot put a {type(value).__name__!r} sort value in a keyset cursor."
        " Sort by columns holding numbers, strings, dates, decimals or UUIDs."
    )


_DECODERS: dict[str, cabc.Callable[[str], t.Any]] = {
    "dt": datetime.datetime.fromisoformat,
    "d": datetime.date.fromisoformat,
    "t": datetime.time.fromisoformat,
    "dec": decimal.Decimal,
    "uuid": uuid.UUID,
}


def _decode_value(value: t.Any) -> t.Any:
    if isinstance(value, dict):
        ((tag, raw),) = value.items()
        return _DECODERS[tag](raw)
    return value


class _SortKey(t.NamedTuple):
    """One ``order_by`` entry: the expression, its direction and NULL placement."""

    column: t.Any
    desc: bool
    #: Whether NULLs come first; ``None`` when the column cannot hold NULL.
    nulls_first: bool | None

    def order(self, backwards: bool) -> t.Any:
        """The ``ORDER BY`` entry, reversed (NULL placement too) when walking back."""
        expr = self.column.desc() if self.desc != backwards else self.column.asc()
        if self.nulls_first is None:
            return expr
        return (
            expr.nulls_first() if self.nulls_first != backwards else expr.nulls_last()
        )

    def equal(self, value: t.Any) -> t.Any:
        return self.column.is_(None) if value is None else self.column == value

    def beyond(self, value: t.Any, backwards: bool) -> t.Any:
        """Rows strictly after ``value`` in this column's (possibly reversed) order."""
        nulls_first = (
            None if self.nulls_first is None else self.nulls_first != backwards
        )
        if value is None:
            return self.column.is_not(None) if nulls_first else sa.false()
        beyond = self.column < value if self.desc != backwards else self.column > value
        if nulls_first is False:
            return sa.or_(beyond, self.column.is_(None))
        return beyond


def _fingerprint(select: sa.Select[t.Any], keys: cabc.Sequence[_SortKey]) -> str:
    """Identify a listing: what it selects, from where, filtered how, in which order.

    The SQL is compiled without its parameter values, so a filter computed per
    request (``created > now - 7 days``) keeps its cursors valid.
    """
    listing = str(select.order_by(None).limit(None).offset(None))
    order = "|".join(f"{k.column}:{k.desc}:{k.nulls_first}" for k in keys)
    return hashlib.sha256(f"{listing}\n{order}".encode()).hexdigest()[:16]


def _can_be_null(expr: t.Any) -> bool:
    column = getattr(expr, "__clause_element__", lambda: expr)()
    if isinstance(column, sa.Column):
        return bool(column.nullable)
    return True


_MODIFIERS = (
    operators.desc_op,
    operators.asc_op,
    operators.nulls_first_op,
    operators.nulls_last_op,
)


def _split_order(expr: t.Any) -> _SortKey:
    """Unwrap ``.desc()``, ``.asc()``, ``.nulls_first()`` and ``.nulls_last()``."""
    desc = False
    nulls_first = False
    while isinstance(expr, UnaryExpression) and expr.modifier in _MODIFIERS:
        if expr.modifier is operators.desc_op:
            desc = True
        elif expr.modifier is operators.nulls_first_op:
            nulls_first = True
        expr = expr.element
    return _SortKey(expr, desc, nulls_first if _can_be_null(expr) else None)


class KeysetPagination:
    """One page of a keyset-paginated select; iterate over it for the items.

    Create it with :meth:`erlen_sql.SQLAlchemy.keyset_paginate`. ``next_cursor``
    and ``prev_cursor`` are ``None`` when there is no such page.
    """

    def __init__(
        self,
        select: sa.Select[t.Any],
        *,
        session: sa_orm.Session,
        order_by: cabc.Sequence[t.Any],
        cursor: str | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
    ) -> None:
        if not order_by:
            raise ValueError(
                "Keyset pagination needs 'order_by' columns, the last one unique."
            )
        self.max_per_page = (
            DEFAULT_MAX_PER_PAGE if max_per_page is None else max_per_page
        )
        if has_request_context():
            if per_page is None:
                per_page = _int_arg("per_page", True, status=400)
            if cursor is None:
                cursor = request.args.get("cursor") or None
        if per_page is None:
            per_page = DEFAULT_PER_PAGE
        if per_page < 1:
            abort(400, description="The 'per_page' value must be 1 or more.")
        if self.max_per_page > 0:
            per_page = min(per_page, self.max_per_page)
        self.per_page: int = per_page
        self.cursor = cursor
        self._columns = [_split_order(expr) for expr in order_by]
        self._fingerprint = _fingerprint(select, self._columns)
        direction, values = ("next", None) if cursor is None else self._load(cursor)
        backwards = direction == "prev"
        statement = select.order_by(None).order_by(
            *(key.order(backwards) for key in self._columns)
        )
        if values is not None:
            statement = statement.where(self._after(values, backwards))
        statement = statement.add_columns(*(key.column for key in self._columns))
        rows = list(session.execute(statement.limit(per_page + 1)).unique())
        more = len(rows) > per_page
        rows = rows[:per_page]
        if backwards:
            rows.reverse()
        #: The objects (or values) on this page.
        self.items: list[t.Any] = [row[0] for row in rows]
        keys = [tuple(row[1:]) for row in rows]
        #: Whether a page follows this one.
        self.has_next: bool = more if not backwards else True
        #: Whether a page comes before this one.
        self.has_prev: bool = more if backwards else cursor is not None
        #: Cursor of the following page, ``None`` when this is the last one.
        self.next_cursor: str | None = (
            self._dump("next", keys[-1]) if self.has_next and keys else None
        )
        #: Cursor of the previous page, ``None`` when this is the first one.
        self.prev_cursor: str | None = (
            self._dump("prev", keys[0]) if self.has_prev and keys else None
        )

    def _after(self, values: list[t.Any], backwards: bool) -> t.Any:
        """Rows strictly after ``values`` in the (possibly reversed) sort order."""
        alternatives = []
        for i, key in enumerate(self._columns):
            equal = [
                k.equal(v) for k, v in zip(self._columns[:i], values, strict=False)
            ]
            alternatives.append(sa.and_(*equal, key.beyond(values[i], backwards)))
        return sa.or_(*alternatives)

    @staticmethod
    def _serializer() -> URLSafeSerializer:
        key = current_app.secret_key
        if not key:
            raise RuntimeError(
                "Keyset pagination signs its cursors with the app's SECRET_KEY."
                " Set 'app.config[\"SECRET_KEY\"]'."
            )
        fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
        keys: list[t.Any] = [*fallbacks, key]
        return URLSafeSerializer(keys, salt=_SALT)

    def _dump(self, direction: str, key: tuple[t.Any, ...]) -> str:
        payload = {
            "d": "n" if direction == "next" else "p",
            "k": self._fingerprint,
            "v": [_encode_value(v) for v in key],
        }
        return self._serializer().dumps(payload)

    def _load(self, cursor: str) -> tuple[str, list[t.Any]]:
        try:
            if len(cursor) > _MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            payload = self._serializer().loads(cursor)
            direction = {"n": "next", "p": "prev"}[payload["d"]]
            if payload["k"] != self._fingerprint:
                raise ValueError("cursor of another listing")
            values = [_decode_value(v) for v in payload["v"]]
            if len(values) != len(self._columns):
                raise ValueError("wrong number of values")
        except (BadData, ValueError, KeyError, TypeError, AttributeError):
            abort(400, description="The pagination cursor is invalid or expired.")
        return direction, values

    def __iter__(self) -> cabc.Iterator[t.Any]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} per_page={self.per_page} items={len(self.items)}"
            f" has_next={self.has_next} has_prev={self.has_prev}>"
        )
