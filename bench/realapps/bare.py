"""No framework: the database part of each test type as a loop, the in-process floor.

``sqlalchemy-orm`` makes a plain :class:`~sqlalchemy.orm.Session` per request
on ORM models; ``sqlalchemy-core`` runs the Core statements on a connection per
request; ``sqlalchemy-async-orm`` makes a plain
:class:`~sqlalchemy.ext.asyncio.AsyncSession` per request on the asyncpg engine
the async stacks use (its runners are coroutine functions, awaited on the
harness's event loop). All serialize the same JSON or render the same template,
so a stack's time minus its floor is what the framework and the extension add.
"""

from __future__ import annotations

import json
import typing as t

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine

from realapps import asyncutil
from realapps import common

Runner = t.Callable[[], bytes]
AsyncRunner = t.Callable[[], t.Awaitable[bytes]]


class Base(sa_orm.DeclarativeBase):
    """The models' base."""


class World(Base):
    """A ``world`` row."""

    __tablename__ = "world"
    id: sa_orm.Mapped[int] = sa_orm.mapped_column(primary_key=True, autoincrement=False)
    randomnumber: sa_orm.Mapped[int]


class Fortune(Base):
    """A ``fortune`` row."""

    __tablename__ = "fortune"
    id: sa_orm.Mapped[int] = sa_orm.mapped_column(primary_key=True, autoincrement=False)
    message: sa_orm.Mapped[str]


def _world(world: World) -> dict[str, int]:
    return {"id": world.id, "randomNumber": world.randomnumber}


def _worlds_json(worlds: t.Iterable[World]) -> bytes:
    return json.dumps([_world(w) for w in worlds]).encode()


def _render(data: list[tuple[int, str]]) -> bytes:
    rows = [{"id": i, "message": m} for i, m in data]
    return asyncutil.fortunes_template.render(fortunes=rows).encode()


def orm(url: str) -> dict[str, Runner]:
    """Per-request functions on a plain ORM session, by test type name."""
    engine = sa.create_engine(url)
    factory = sa_orm.sessionmaker(engine)

    def single() -> bytes:
        with factory() as session:
            world = session.get(World, common.random_id())
            assert world is not None
            return json.dumps(_world(world)).encode()

    def multiple(count: int) -> Runner:
        def run() -> bytes:
            with factory() as session:
                worlds = [session.get(World, common.random_id()) for _ in range(count)]
                return _worlds_json(w for w in worlds if w)

        return run

    def fortunes() -> bytes:
        with factory() as session:
            rows = session.scalars(sa.select(Fortune)).all()
            return _render(common.sorted_fortunes((f.id, f.message) for f in rows))

    def updates(count: int) -> Runner:
        def run() -> bytes:
            with factory() as session:
                ids = sorted(common.random_id() for _ in range(count))
                worlds = [session.get(World, i) for i in ids]
                for world in worlds:
                    assert world is not None
                    world.randomnumber = common.random_id()
                session.commit()
                return _worlds_json(w for w in worlds if w)

        return run

    return {
        "db": single,
        "queries1": multiple(1),
        "queries20": multiple(20),
        "fortunes": fortunes,
        "updates20": updates(20),
    }


def async_orm(url: str) -> dict[str, AsyncRunner]:
    """Per-request coroutine functions on a plain async ORM session, by test type name.

    The engine and session settings are those of ``fastapi_sa`` (asyncpg, a
    pool of :data:`asyncutil.POOL_SIZE`, ``expire_on_commit=False``).
    """
    engine = create_async_engine(
        asyncutil.asyncpg_sqlalchemy_url(url),
        pool_size=asyncutil.POOL_SIZE,
        max_overflow=0,
    )
    factory = async_sessionmaker(engine, expire_on_commit=False)

    async def single() -> bytes:
        async with factory() as session:
            world = await session.get(World, common.random_id())
            assert world is not None
            return json.dumps(_world(world)).encode()

    def multiple(count: int) -> AsyncRunner:
        async def run() -> bytes:
            async with factory() as session:
                worlds = [
                    await session.get(World, common.random_id()) for _ in range(count)
                ]
                return _worlds_json(w for w in worlds if w)

        return run

    async def fortunes() -> bytes:
        async with factory() as session:
            rows = (await session.scalars(sa.select(Fortune))).all()
            return _render(common.sorted_fortunes((f.id, f.message) for f in rows))

    def updates(count: int) -> AsyncRunner:
        async def run() -> bytes:
            async with factory() as session:
                ids = sorted(common.random_id() for _ in range(count))
                worlds = [await session.get(World, i) for i in ids]
                for world in worlds:
                    assert world is not None
                    world.randomnumber = common.random_id()
                await session.commit()
                return _worlds_json(w for w in worlds if w)

        return run

    return {
        "db": single,
        "queries1": multiple(1),
        "queries20": multiple(20),
        "fortunes": fortunes,
        "updates20": updates(20),
    }


def core(url: str) -> dict[str, Runner]:
    """Per-request functions on a plain Core connection, by test type name."""
    engine = sa.create_engine(url)
    select_world = common.SELECT_WORLD

    def single() -> bytes:
        with engine.connect() as conn:
            row = conn.execute(select_world, {"id": common.random_id()}).one()
        return json.dumps({"id": row[0], "randomNumber": row[1]}).encode()

    def multiple(count: int) -> Runner:
        def run() -> bytes:
            with engine.connect() as conn:
                rows = [
                    conn.execute(select_world, {"id": common.random_id()}).one()
                    for _ in range(count)
                ]
            return json.dumps(
                [{"id": r[0], "randomNumber": r[1]} for r in rows]
            ).encode()

        return run

    def fortunes() -> bytes:
        with engine.connect() as conn:
            rows = conn.execute(common.SELECT_FORTUNES).all()
        return _render(common.sorted_fortunes(rows))

    def updates(count: int) -> Runner:
        def run() -> bytes:
            ids = sorted(common.random_id() for _ in range(count))
            with engine.begin() as conn:
                worlds = [
                    {
                        "id": i,
                        "randomNumber": conn.execute(select_world, {"id": i}).one()[1],
                    }
                    for i in ids
                ]
                for world in worlds:
                    world["randomNumber"] = common.random_id()
                conn.execute(
                    common.UPDATE_WORLD,
                    [{"wid": w["id"], "rn": w["randomNumber"]} for w in worlds],
                )
            return json.dumps(worlds).encode()

        return run

    return {
        "db": single,
        "queries1": multiple(1),
        "queries20": multiple(20),
        "fortunes": fortunes,
        "updates20": updates(20),
    }


class Floor(t.NamedTuple):
    """A floor's builder, the stacks it is the floor of, and its kind (``floor``, ``async-floor``)."""

    build: t.Callable[[str], dict[str, t.Any]]
    stacks: tuple[str, ...]
    kind: str = "floor"


#: The floors by name.
FLOORS: dict[str, Floor] = {
    "sqlalchemy-orm": Floor(orm, ("erlen-orm", "flask-fsa")),
    "sqlalchemy-core": Floor(core, ("erlen-core", "flask-core")),
    "sqlalchemy-async-orm": Floor(
        async_orm, ("erlen-asgi", "fastapi-sa"), "async-floor"
    ),
}


def floor_of(stack: str) -> str | None:
    """The name of the floor of ``stack`` (``None`` if it has none)."""
    for name, floor in FLOORS.items():
        if stack in floor.stacks:
            return name
    return None
