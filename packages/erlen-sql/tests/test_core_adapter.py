"""The private core name erlen-sql relies on (``erlen_sql._core``) must still be there."""

from __future__ import annotations

from contextvars import ContextVar

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

from erlen import Erlen
from erlen_sql import _core
from erlen_sql import SQLAlchemy


def test_app_context_var_is_the_cores() -> None:
    var = _core.app_context_var()
    assert isinstance(var, ContextVar), (
        "erlen.globals._cv_app is gone or is no longer a ContextVar: update"
        " erlen_sql._core (db.session's scope lookup) for this erlen release"
    )
    app = Erlen(__name__)
    assert var.get(None) is None
    with app.app_context() as ctx:
        assert var.get() is ctx


def test_session_scope_follows_app_contexts() -> None:
    app = Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db = SQLAlchemy(app)
    with app.app_context():
        first = db.session()
        assert db.session() is first
        with app.app_context():
            assert db.session() is not first
        assert db.session() is first
    with pytest.raises(RuntimeError, match="application context"):
        db.session()


def test_single_engine_fast_path_routes_and_checks() -> None:
    """With one engine and no bind keys, get_bind skips the clause walk but still checks."""
    app = Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db = SQLAlchemy(app)

    class Item(db.Model):  # type: ignore[name-defined,misc]
        id = sa.Column(sa.Integer, primary_key=True)

    with app.app_context():
        session = db.session()
        assert session.get_bind(mapper=Item) is db.engine
        assert session.get_bind(clause=sa.select(Item.__table__)) is db.engine
        assert session.get_bind() is db.engine
        with pytest.raises(sa_orm.exc.UnmappedClassError):
            session.get_bind(mapper=int)
        db.create_all()
        db.session.add(Item(id=1))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 1
