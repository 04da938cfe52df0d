"""Offset pagination: :class:`Pagination` and its select and legacy-query forms.

Page arguments that come from the query string are treated as untrusted:
non-numeric, zero, negative or absurdly large values abort with 404 Not Found
(or fall back to the first page when ``error_out=False``), ``per_page`` is capped
(100 by default), and a page past the end is rejected after a ``COUNT`` instead of
being sent to the database as a huge ``OFFSET``.
"""

from __future__ import annotations

import collections.abc as cabc
import math
import typing as t

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

from erlen import abort
from erlen import has_request_context
from erlen import request

__all__ = ["Pagination", "QueryPagination", "SelectPagination"]

DEFAULT_PER_PAGE = 20
DEFAULT_MAX_PER_PAGE = 100


def _int_arg(name: str, error_out: bool, status: int = 404) -> int | None:
    """Read a positive integer query argument; ``None`` when absent or bad.

    A bad value aborts with ``status`` when ``error_out`` is true.
    """
    raw = request.args.get(name)
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    if error_out:
        abort(status, description=f"The {name!r} argument must be a positive integer.")
    return None


class Pagination:
    """One page of results plus what templates need to link to the others.

    Do not create it directly: use :meth:`erlen_sql.SQLAlchemy.paginate` or
    :meth:`erlen_sql.query.Query.paginate`. Iterating over it yields the items.
    """

    #: With ``count=False`` the total is unknown, so pages whose offset would be
    #: above this are refused (404, or empty with ``error_out=False``).
    #: ``None`` removes the limit.
    max_offset: t.ClassVar[int | None] = 1_000_000

    def __init__(
        self,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
        **kwargs: t.Any,
    ) -> None:
        self._query_args = kwargs
        self.max_per_page: int = (
            DEFAULT_MAX_PER_PAGE if max_per_page is None else max_per_page
        )
        self._error_out = error_out
        self._count = count
        self.page, self.per_page = self._prepare_page_args(page, per_page, error_out)
        self.total: int | None = None
        if count:
            self.total = self._query_count()
            beyond_end = self.page > 1 and self.page > self.pages
        else:
            beyond_end = (
                self.max_offset is not None and self._query_offset > self.max_offset
            )
        if beyond_end:
            if error_out:
                abort(404, description="This page does not exist.")
            self.items: list[t.Any] = []
            return
        self.items = self._query_items()
        if not self.items and self.page != 1 and error_out:
            abort(404, description="This page does not exist.")

    def _prepare_page_args(
        self, page: int | None, per_page: int | None, error_out: bool
    ) -> tuple[int, int]:
        if has_request_context():
            if page is None:
                page = _int_arg("page", error_out)
            if per_page is None:
                per_page = _int_arg("per_page", error_out)
        if page is None:
            page = 1
        if per_page is None:
            per_page = DEFAULT_PER_PAGE
        if page < 1:
            if error_out:
                abort(404, description="The page number must be 1 or more.")
            page = 1
        if per_page < 1:
            if error_out:
                abort(404, description="The 'per_page' value must be 1 or more.")
            per_page = DEFAULT_PER_PAGE
        if self.max_per_page > 0:
            per_page = min(per_page, self.max_per_page)
        return page, per_page

    @property
    def _query_offset(self) -> int:
        return (self.page - 1) * self.per_page

    def _query_items(self) -> list[t.Any]:
        """Return the items of this page; implemented by subclasses."""
        raise NotImplementedError

    def _query_count(self) -> int:
        """Return the total number of items; implemented by subclasses."""
        raise NotImplementedError

    @property
    def first(self) -> int:
        """1-based number of the first item on this page, 0 when it is empty."""
        if not self.items:
            return 0
        return self._query_offset + 1

    @property
    def last(self) -> int:
        """1-based number of the last item on this page, 0 when it is empty."""
        if not self.items:
            return 0
        return self.first + len(self.items) - 1

    @property
    def pages(self) -> int:
        """Total number of pages; 0 when there are no items or ``count=False``."""
        if not self.total:
            return 0
        return math.ceil(self.total / self.per_page)

    @property
    def has_prev(self) -> bool:
        """Whether a page comes before this one."""
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        """Number of the previous page, or ``None`` on the first page."""
        return self.page - 1 if self.has_prev else None

    def prev(self, *, error_out: bool = False) -> Pagination:
        """Return the previous page, queried with the same arguments."""
        return self._other(self.page - 1, error_out)

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one (needs the total)."""
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        """Number of the next page, or ``None`` on the last page."""
        return self.page + 1 if self.has_next else None

    def next(self, *, error_out: bool = False) -> Pagination:
        """Return the next page, queried with the same arguments."""
        return self._other(self.page + 1, error_out)

    def _other(self, page: int, error_out: bool) -> Pagination:
        return type(self)(
            page=max(page, 1),
            per_page=self.per_page,
            max_per_page=self.max_per_page,
            error_out=error_out,
            count=self._count,
            **self._query_args,
        )

    def iter_pages(
        self,
        *,
        left_edge: int = 2,
        left_current: int = 2,
        right_current: int = 4,
        right_edge: int = 2,
    ) -> cabc.Iterator[int | None]:
        """Yield page numbers for a pagination widget, ``None`` for each gap.

        With the defaults, page 7 of 20 gives ``1, 2, None, 5 ... 11, None, 19, 20``:
        ``left_edge`` pages at the start, ``left_current`` before and
        ``right_current`` after the current page, ``right_edge`` at the end.
        """
        last = self.pages
        shown = set(range(1, min(left_edge, last) + 1))
        shown.update(
            range(
                max(1, self.page - left_current),
                min(last, self.page + right_current) + 1,
            )
        )
        shown.update(range(max(1, last - right_edge + 1), last + 1))
        previous = 0
        for number in sorted(shown):
            if number - previous > 1:
                yield None
            yield number
            previous = number
        if previous < last:
            yield None

    def __iter__(self) -> cabc.Iterator[t.Any]:
        return iter(self.items)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} page={self.page} per_page={self.per_page}"
            f" total={self.total} items={len(self.items)}>"
        )


class SelectPagination(Pagination):
    """Pagination over a 2.0-style ``select()``; what ``db.paginate`` returns.

    The statement is run with ``.unique().scalars()``, so it should select one
    entity (or one column); compound selects are not supported.
    """

    def _query_items(self) -> list[t.Any]:
        select: sa.Select[t.Any] = self._query_args["select"]
        session: sa_orm.Session = self._query_args["session"]
        statement = select.limit(self.per_page).offset(self._query_offset)
        return list(session.execute(statement).unique().scalars())

    def _query_count(self) -> int:
        select: sa.Select[t.Any] = self._query_args["select"]
        session: sa_orm.Session = self._query_args["session"]
        sub = select.order_by(None).subquery()
        total = session.execute(sa.select(sa.func.count()).select_from(sub)).scalar()
        return int(total or 0)


class QueryPagination(Pagination):
    """Pagination over a legacy :class:`~erlen_sql.query.Query`."""

    def _query_items(self) -> list[t.Any]:
        query: sa_orm.Query[t.Any] = self._query_args["query"]
        return query.limit(self.per_page).offset(self._query_offset).all()

    def _query_count(self) -> int:
        query: sa_orm.Query[t.Any] = self._query_args["query"]
        return query.order_by(None).count()
