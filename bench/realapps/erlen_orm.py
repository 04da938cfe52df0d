"""erlen + erlen-sql with ORM models and ``db.session`` (the same views as Flask-SQLAlchemy)."""

from __future__ import annotations

import typing as t

import erlen
import erlen_sql
from realapps import flasklike


def create(url: str) -> t.Any:
    """Return the WSGI app."""
    return flasklike.build_orm(erlen, erlen.Erlen, erlen_sql.SQLAlchemy, url)
