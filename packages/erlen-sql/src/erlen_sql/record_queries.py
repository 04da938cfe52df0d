"""Record the SQL run during each app context, when ``SQLALCHEMY_RECORD_QUERIES`` is on.

.. code-block:: python

    from erlen_sql.record_queries import get_recorded_queries

    @app.after_request
    def log_slow_queries(response):
        for q in get_recorded_queries():
            if q.duration > 0.5:
                app.logger.warning("slow query %s at %s", q.statement, q.location)
        return response
"""

from __future__ import annotations

import dataclasses
import sys
import time
import typing as t

import sqlalchemy as sa
import sqlalchemy.event as sa_event

from erlen import current_app
from erlen import g
from erlen import has_app_context

__all__ = ["QueryInfo", "get_recorded_queries"]

_G_KEY = "_erlen_sql_recorded_queries"
_START_KEY = "_erlen_sql_query_start"


@dataclasses.dataclass
class QueryInfo:
    """One recorded query: what ran, with what, when, and where in the app."""

    #: The SQL string as sent to the driver.
    statement: str | None
    #: The parameters sent with it.
    parameters: t.Any
    #: :func:`time.perf_counter` value before it ran.
    start_time: float
    #: :func:`time.perf_counter` value after it ran.
    end_time: float
    #: ``"file:line (function)"`` of the innermost frame inside the top-level
    #: package of the app's ``import_name`` (``"pkg"`` for ``"pkg.factory"``).
    location: str

    @property
    def duration(self) -> float:
        """Seconds the query took."""
        return self.end_time - self.start_time


def get_recorded_queries() -> list[QueryInfo]:
    """Return the queries recorded in the current app context (empty when off)."""
    return t.cast("list[QueryInfo]", g.get(_G_KEY, []))


def _listen(engine: sa.engine.Engine) -> None:
    sa_event.listen(engine, "before_cursor_execute", _record_start, named=True)
    sa_event.listen(engine, "after_cursor_execute", _record_end, named=True)


def _record_start(context: t.Any, **_: t.Any) -> None:
    if has_app_context():
        setattr(context, _START_KEY, time.perf_counter())


def _record_end(context: t.Any, **_: t.Any) -> None:
    if not has_app_context():
        return
    start = getattr(context, _START_KEY, None)
    if start is None:
        return
    end = time.perf_counter()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("SQLALCHEMY_RECORD_QUERIES"):
        return
    # The factory layout: Erlen(__name__) in "pkg.factory", queries in
    # "pkg.views". Match the whole top-level package.
    package = app.import_name.partition(".")[0]
    location = ""
    # Walk the frames directly: inspect.stack() reads source lines for every
    # frame, on every recorded query.
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == package or module.startswith(f"{package}."):
            code = frame.f_code
            location = f"{code.co_filename}:{frame.f_lineno} ({code.co_name})"
            break
        frame = frame.f_back  # type: ignore[assignment]
    queries: list[QueryInfo] = g.setdefault(_G_KEY, [])
    queries.append(
        QueryInfo(
            statement=context.statement,
            parameters=context.parameters,
            start_time=start,
            end_time=end,
            location=location,
        )
    )
