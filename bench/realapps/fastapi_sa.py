"""FastAPI + SQLAlchemy's async ORM on asyncpg, a session per request via ``Depends``."""

# No "from __future__ import annotations": FastAPI reads the annotations at runtime.

import collections.abc as cabc
import typing as t

import sqlalchemy as sa
from fastapi import Depends
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from realapps import asyncutil
from realapps import common


class Base(DeclarativeBase):
    """The models' base."""


class World(Base):
    """A ``world`` row."""

    __tablename__ = "world"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    randomnumber: Mapped[int]


class Fortune(Base):
    """A ``fortune`` row."""

    __tablename__ = "fortune"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str]


def create(url: str) -> t.Any:
    """Return the ASGI app."""
    engine = create_async_engine(
        asyncutil.asyncpg_sqlalchemy_url(url),
        pool_size=asyncutil.POOL_SIZE,
        max_overflow=0,
    )
    factory = async_sessionmaker(engine, expire_on_commit=False)
    app = FastAPI()

    async def get_session() -> cabc.AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    SessionDep = t.Annotated[AsyncSession, Depends(get_session)]

    @app.get("/json")
    async def json_view() -> dict[str, str]:
        return {"message": common.HELLO}

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return common.HELLO

    @app.get("/db")
    async def single(session: SessionDep) -> dict[str, int]:
        world = await session.get(World, common.random_id())
        assert world is not None
        return {"id": world.id, "randomNumber": world.randomnumber}

    @app.get("/queries")
    async def multiple(
        session: SessionDep, queries: str | None = None
    ) -> list[dict[str, int]]:
        result = []
        for _ in range(common.query_count(queries)):
            world = await session.get(World, common.random_id())
            assert world is not None
            result.append({"id": world.id, "randomNumber": world.randomnumber})
        return result

    @app.get("/fortunes", response_class=HTMLResponse)
    async def fortunes(session: SessionDep) -> HTMLResponse:
        rows = (await session.scalars(sa.select(Fortune))).all()
        data = common.sorted_fortunes((f.id, f.message) for f in rows)
        return HTMLResponse(
            asyncutil.fortunes_template.render(fortunes=data_rows(data))
        )

    @app.get("/updates")
    async def updates(
        session: SessionDep, queries: str | None = None
    ) -> list[dict[str, int]]:
        ids = sorted(common.random_id() for _ in range(common.query_count(queries)))
        worlds = []
        for i in ids:
            world = await session.get(World, i)
            assert world is not None
            world.randomnumber = common.random_id()
            worlds.append(world)
        await session.commit()
        return [{"id": w.id, "randomNumber": w.randomnumber} for w in worlds]

    return app


def data_rows(data: list[tuple[int, str]]) -> list[dict[str, t.Any]]:
    """Rows as the template reads them."""
    return [{"id": i, "message": m} for i, m in data]
