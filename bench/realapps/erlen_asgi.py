"""erlen's ASGI entry with ``async def`` views on erlen-sql's ``db.async_session`` (asyncpg).

The same ORM work as ``fastapi_sa`` (``session.get`` per row, one ``select``
for fortunes, a commit for updates); the session is erlen-sql's, scoped to the
app context and closed when it ends, on a pool of the asyncpg engine sized as
the other async stacks'.
"""

from __future__ import annotations

import os
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

import erlen
import erlen_sql
from realapps import asyncutil
from realapps import common

_HERE = os.path.dirname(os.path.abspath(__file__))


class _Row(t.NamedTuple):
    id: int
    message: str


def create(url: str) -> t.Any:
    """Return the app (an ASGI callable as well as a WSGI one)."""
    app = erlen.Erlen(__name__, root_path=_HERE, template_folder="templates")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ASYNC_DATABASE_URI"] = asyncutil.asyncpg_sqlalchemy_url(url)
    app.config["SQLALCHEMY_ASYNC_ENGINE_OPTIONS"] = {
        "pool_size": asyncutil.POOL_SIZE,
        "max_overflow": 0,
    }
    db = erlen_sql.SQLAlchemy()
    request = erlen.request

    class World(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "world"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        randomnumber: Mapped[int]

    class Fortune(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "fortune"
        id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
        message: Mapped[str] = mapped_column(sa.String(2048))

    @app.get("/json")
    async def json_view() -> t.Any:
        return {"message": common.HELLO}

    @app.get("/plaintext")
    async def plaintext() -> t.Any:
        return common.HELLO, 200, {"Content-Type": "text/plain"}

    @app.get("/db")
    async def single() -> t.Any:
        world = await db.async_session.get(World, common.random_id())
        assert world is not None
        return {"id": world.id, "randomNumber": world.randomnumber}

    @app.get("/queries")
    async def multiple() -> t.Any:
        get = db.async_session.get
        result = []
        for _ in range(common.query_count(request.args.get("queries"))):
            world = await get(World, common.random_id())
            assert world is not None
            result.append({"id": world.id, "randomNumber": world.randomnumber})
        return result

    @app.get("/fortunes")
    async def fortunes() -> t.Any:
        rows = (await db.async_session.scalars(sa.select(Fortune))).all()
        data = common.sorted_fortunes((f.id, f.message) for f in rows)
        return erlen.render_template(common.TEMPLATE, fortunes=[_Row(*r) for r in data])

    @app.get("/updates")
    async def updates() -> t.Any:
        session = db.async_session
        count = common.query_count(request.args.get("queries"))
        ids = sorted(common.random_id() for _ in range(count))
        worlds = []
        for i in ids:
            world = await session.get(World, i)
            assert world is not None
            world.randomnumber = common.random_id()
            worlds.append(world)
        await session.commit()
        return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]

    db.init_app(app)
    return app
