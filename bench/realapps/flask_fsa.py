"""Flask + Flask-SQLAlchemy with ORM models and ``db.session``: the reference stack."""

from __future__ import annotations

import typing as t

import flask
import flask_sqlalchemy

from realapps import flasklike


def create(url: str) -> t.Any:
    """Return the WSGI app."""
    return flasklike.build_orm(flask, flask.Flask, flask_sqlalchemy.SQLAlchemy, url)
