"""erlen apps that differ only in how they reach the database: erlen-sql or plain SQLAlchemy.

Used by the erlen-sql overhead gate (``gate.py``) on SQLite, so the count is
deterministic and needs no server. Every variant answers ``GET /db`` with the
``world`` row of the next id (1, 2, ..., 100, 1, ...) as JSON, so all variants
run the same queries in the same order; the difference between a variant on
erlen-sql and its plain SQLAlchemy twin is what erlen-sql adds per request.

========================  ============================================================
``erlen-sql-orm``         ``db.session.get(World, id)`` (erlen-sql's scoped session)
``sqlalchemy-orm``        a plain ``Session`` per request, closed at the end of the view
``erlen-sql-session``     ``db.session.execute(core_select, ...)``
``sqlalchemy-session``    ``Session.execute(core_select, ...)`` on a plain session
``erlen-sql-engine``      ``db.engine.connect()`` and a Core select (the fast path)
``sqlalchemy-engine``     ``engine.connect()`` on a module-level engine
========================  ============================================================
"""

from __future__ import annotations

import itertools
import os
import typing as t

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

import erlen
from erlen_sql import SQLAlchemy
from realapps import common

ROWS = 100
#: variant -> its plain SQLAlchemy twin.
PAIRS = {
    "erlen-sql-orm": "sqlalchemy-orm",
    "erlen-sql-session": "sqlalchemy-session",
    "erlen-sql-engine": "sqlalchemy-engine",
}
VARIANTS = tuple(name for pair in PAIRS.items() for name in pair)


def _models() -> tuple[type[sa_orm.DeclarativeBase], t.Any]:
    """A new declarative base and ``World`` model (one base per extension)."""

    class Base(sa_orm.DeclarativeBase):
        pass

    class World(Base):
        __tablename__ = "world"
        id: sa_orm.Mapped[int] = sa_orm.mapped_column(
            primary_key=True, autoincrement=False
        )
        randomnumber: sa_orm.Mapped[int]

    return Base, World


def make_database(folder: str) -> str:
    """Create ``folder/world.db`` with ``ROWS`` rows; return its URL."""
    url = f"sqlite:///{os.path.join(folder, 'world.db')}"
    common.seed(url, rows=ROWS)
    return url


def create(variant: str, url: str) -> erlen.Erlen:
    """Return the erlen app of ``variant`` on the SQLite database at ``url``."""
    app = erlen.Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    ids = itertools.cycle(range(1, ROWS + 1))
    jsonify = erlen.jsonify
    select_world = common.SELECT_WORLD
    view: t.Callable[[], t.Any]
    base, world_model = _models()

    if variant.startswith("erlen-sql-"):
        db = SQLAlchemy(model_class=base)
        if variant == "erlen-sql-orm":

            def view() -> t.Any:
                world = db.session.get(world_model, next(ids))
                assert world is not None
                return jsonify(id=world.id, randomNumber=world.randomnumber)

        elif variant == "erlen-sql-session":

            def view() -> t.Any:
                row = db.session.execute(select_world, {"id": next(ids)}).one()
                return jsonify(id=row[0], randomNumber=row[1])

        else:

            def view() -> t.Any:
                with db.engine.connect() as conn:
                    row = conn.execute(select_world, {"id": next(ids)}).one()
                return jsonify(id=row[0], randomNumber=row[1])

        db.init_app(app)
    else:
        engine = sa.create_engine(url)
        factory = sa_orm.sessionmaker(engine)
        if variant == "sqlalchemy-orm":

            def view() -> t.Any:
                with factory() as session:
                    world = session.get(world_model, next(ids))
                    assert world is not None
                    return jsonify(id=world.id, randomNumber=world.randomnumber)

        elif variant == "sqlalchemy-session":

            def view() -> t.Any:
                with factory() as session:
                    row = session.execute(select_world, {"id": next(ids)}).one()
                return jsonify(id=row[0], randomNumber=row[1])

        elif variant == "sqlalchemy-engine":

            def view() -> t.Any:
                with engine.connect() as conn:
                    row = conn.execute(select_world, {"id": next(ids)}).one()
                return jsonify(id=row[0], randomNumber=row[1])

        else:
            raise ValueError(f"unknown variant {variant!r}; choose from {VARIANTS}")
    app.add_url_rule("/db", "db", view)
    return app
