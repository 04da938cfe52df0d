"""Flask + plain SQLAlchemy Core: one module-level engine, the same Core views as erlen's."""

from __future__ import annotations

import typing as t

import flask
import sqlalchemy as sa

from realapps import flasklike


def create(url: str) -> t.Any:
    """Return the WSGI app."""
    engine = sa.create_engine(url)
    return flasklike.build_core(flask, flask.Flask, lambda: engine, url)
