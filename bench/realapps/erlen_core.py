"""erlen + erlen-sql running Core statements on ``db.engine`` (the hot-endpoint fast path)."""

from __future__ import annotations

import typing as t

import erlen
import erlen_sql
from realapps import flasklike


def create(url: str) -> t.Any:
    """Return the WSGI app."""
    db = erlen_sql.SQLAlchemy()
    app = flasklike.build_core(erlen, erlen.Erlen, lambda: db.engine, url)
    db.init_app(app)
    return app
