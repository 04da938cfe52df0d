"""The legacy :class:`Query` with 404 helpers and pagination.

``Model.query`` and ``db.session.query()`` return this class. New code should
prefer ``db.session.execute(db.select(...))`` and the helpers on the extension
(:meth:`~erlen_sql.SQLAlchemy.get_or_404`, :meth:`~erlen_sql.SQLAlchemy.paginate`).
"""

from __future__ import annotations

import typing as t

import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm

from erlen import abort

from .idents import NO_MATCH
from .idents import prepare_ident
from .idents import primary_key_criteria
from .pagination import Pagination
from .pagination import QueryPagination

__all__ = ["Query"]


class Query(sa_orm.Query[t.Any]):
    """:class:`sqlalchemy.orm.Query` with ``*_or_404`` helpers and :meth:`paginate`."""

    def get_or_404(self, ident: t.Any, description: str | None = None) -> t.Any:
        """Return the row with primary key ``ident``, or abort with 404 Not Found.

        The query runs with everything set on it: ``with_for_update()``,
        ``options()``, ``execution_options()`` and ``populate_existing()`` (and
        its filters, which the legacy ``Query.get`` refuses). A string ``ident``
        is converted like in :meth:`erlen_sql.SQLAlchemy.get_or_404`. Unlike
        ``Session.get``, it always asks the database, also for an object
        already loaded in the session.
        """
        entity: t.Any = self.column_descriptions[0]["entity"]
        ident = prepare_ident(self.session, entity, ident)
        criteria = None if ident is NO_MATCH else primary_key_criteria(entity, ident)
        rv = None if criteria is None else self.filter(*criteria).one_or_none()
        if rv is None:
            abort(404, description=description)
        return rv

    def first_or_404(self, description: str | None = None) -> t.Any:
        """Return the first result, or abort with 404 Not Found when there is none."""
        rv = self.first()
        if rv is None:
            abort(404, description=description)
        return rv

    def one_or_404(self, description: str | None = None) -> t.Any:
        """Return exactly one result; abort with 404 when there are none or several."""
        try:
            return self.one()
        except (sa_exc.NoResultFound, sa_exc.MultipleResultsFound):
            abort(404, description=description)

    def paginate(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """Return one page of results as a :class:`~erlen_sql.pagination.Pagination`.

        See :meth:`erlen_sql.SQLAlchemy.paginate` for how the arguments are
        read from the request and validated.
        """
        return QueryPagination(
            query=self,
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )
