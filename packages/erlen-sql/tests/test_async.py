from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen.ext import is_nonblocking
from erlen_sql import SQLAlchemy

pytest.importorskip("aiosqlite")


def _make(tmp_path: Path, **config: t.Any) -> tuple[Erlen, SQLAlchemy, type[t.Any]]:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    db = SQLAlchemy(app)

    class Note(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        text: Mapped[str]

    return app, db, Note


def test_async_view_derived_from_sync_url(tmp_path: Path) -> None:
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///notes.db")
    with app.app_context():
        db.create_all()
        assert db.async_engine.url.drivername == "sqlite+aiosqlite"
        assert db.async_engine.url.database == db.engine.url.database

    @app.post("/notes")
    async def create() -> t.Any:
        note = Note(text="hello")
        db.async_session.add(note)
        await db.async_session.commit()
        return {"id": note.id}

    @app.get("/notes")
    async def index() -> t.Any:
        result = await db.async_session.execute(sa.select(Note.text))
        return {"texts": list(result.scalars())}

    client = app.test_client()
    assert client.post("/notes").json == {"id": 1}
    assert client.get("/notes").json == {"texts": ["hello"]}
    with app.app_context():
        assert db.session.scalar(sa.select(Note.text)) == "hello"
        asyncio.run(db.async_engine.dispose())
        db.engine.dispose()


_NESTED_APP = """
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from erlen import Erlen
from erlen.ext import is_nonblocking
from erlen_sql import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)


def create_app(instance):
    app = Erlen(__name__, instance_path=instance)
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite:///t.db", **OPTIONS)
    db.init_app(app)

    @app.get("/count")
    async def count():
        return {"n": await db.async_session.scalar(sa.select(sa.func.count(User.id)))}

    return app
"""

_NESTED_TEST = """
from myapp import create_app, db


def test_async_views(tmp_path):
    app = create_app(str(tmp_path))
    with app.app_context():
        db.create_all()
        assert type(db.async_engine.pool).__name__ == POOL
    client = app.test_client()
    for _ in range(3):
        assert client.get("/count").json == {"n": 0}
"""


@pytest.mark.parametrize(
    "options",
    [{}, {"SQLALCHEMY_ASYNC_DATABASE_URI": "sqlite+aiosqlite:///t.db"}],
    ids=["derived", "configured"],
)
def test_async_views_leave_no_unclosed_connection(
    tmp_path: Path, options: dict[str, t.Any]
) -> None:
    """A user's suite with filterwarnings=error passes: no connection is left open.

    Each async view runs in its own event loop; a pooled aiosqlite connection
    outlived them and warned when collected at exit.
    """
    (tmp_path / "myapp.py").write_text(f"OPTIONS = {options!r}\n" + _NESTED_APP)
    (tmp_path / "test_app.py").write_text("POOL = 'NullPool'\n" + _NESTED_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "1 passed" in output and "Unraisable" not in output, output


def test_configured_async_pool_is_kept(tmp_path: Path) -> None:
    app, db, _ = _make(
        tmp_path,
        SQLALCHEMY_DATABASE_URI="sqlite:///p.db",
        SQLALCHEMY_ASYNC_BINDS={
            "sized": {"url": "sqlite+aiosqlite:///s.db", "pool_size": 2},
            "chosen": {
                "url": "sqlite+aiosqlite:///c.db",
                "poolclass": sa.pool.AsyncAdaptedQueuePool,
            },
        },
    )
    with app.app_context():
        engines = db.async_engines
        assert isinstance(engines[None].pool, sa.pool.NullPool)
        assert isinstance(engines["sized"].pool, sa.pool.AsyncAdaptedQueuePool)
        assert engines["sized"].pool.size() == 2
        assert isinstance(engines["chosen"].pool, sa.pool.AsyncAdaptedQueuePool)
        for engine in engines.values():
            asyncio.run(engine.dispose())
        db.engine.dispose()


def test_async_session_closed_on_teardown(tmp_path: Path) -> None:
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///n.db")
    with app.app_context():
        db.create_all()
    sessions: list[t.Any] = []

    @app.get("/")
    async def index() -> str:
        sessions.append(db.async_session())
        await db.async_session.execute(sa.select(Note))
        assert db.async_session() is sessions[-1]
        return "ok"

    client = app.test_client()
    client.get("/")
    client.get("/")
    assert sessions[0] is not sessions[1]
    assert not sessions[0].in_transaction()
    with app.app_context():
        asyncio.run(db.async_engine.dispose())
        db.engine.dispose()


def test_explicit_async_uri_and_create_all_async(tmp_path: Path) -> None:
    app, db, Note = _make(
        tmp_path,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SQLALCHEMY_ASYNC_DATABASE_URI="sqlite+aiosqlite://",
    )

    async def run() -> list[str]:
        await db.create_all_async()
        db.async_session.add(Note(text="a"))
        await db.async_session.commit()
        rows = (await db.async_session.scalars(sa.select(Note.text))).all()
        await db.async_session.close()
        await db.drop_all_async()
        await db.async_engine.dispose()
        return list(rows)

    with app.app_context():
        assert asyncio.run(run()) == ["a"]
        db.engine.dispose()


def test_memory_sqlite_cannot_be_derived(tmp_path: Path) -> None:
    app, db, _ = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite://")
    with app.app_context(), pytest.raises(RuntimeError, match="in-memory"):
        db.async_engine  # noqa: B018
    with app.app_context():
        db.engine.dispose()


def test_unknown_driver(tmp_path: Path) -> None:
    app = Erlen(__name__, instance_path=str(tmp_path))
    app.config["SQLALCHEMY_BINDS"] = {"x": "sqlite://"}
    app.config["SQLALCHEMY_ASYNC_BINDS"] = {"y": "sqlite+aiosqlite://"}
    db = SQLAlchemy(app)
    with app.app_context():
        assert set(db.async_engines) == {"x", "y"}
        with pytest.raises(RuntimeError, match="in-memory"):
            db.async_engines["x"]  # noqa: B018
        with pytest.raises(RuntimeError, match="No database for bind key"):
            db._get_async_engine(db.state, "nope")
        asyncio.run(db.async_engines["y"].dispose())
        db.engines["x"].dispose()


@pytest.mark.postgres
def test_async_postgres(postgresql_database_url: str, tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI=postgresql_database_url)
    with app.app_context():
        db.create_all()
        assert db.async_engine.url.drivername == "postgresql+psycopg"

    @app.post("/")
    async def create() -> t.Any:
        db.async_session.add(Note(text="pg"))
        await db.async_session.commit()
        return {"n": await db.async_session.scalar(sa.select(sa.func.count(Note.id)))}

    client = app.test_client()
    assert client.post("/").json == {"n": 1}
    assert client.post("/").json == {"n": 2}
    with app.app_context():
        asyncio.run(db.async_engine.dispose())
        db.engine.dispose()


@pytest.mark.parametrize(
    "driver",
    [
        "aiosqlite",
        pytest.param("psycopg", marks=pytest.mark.postgres),
        pytest.param("asyncpg", marks=pytest.mark.postgres),
    ],
)
def test_read_only_async_view_closes_on_its_loop(
    driver: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The documented ``/notes`` view, which does not commit, with each driver.

    Each async view runs in its own event loop, gone by teardown; asyncpg raised
    "attached to a different loop" there and left the connection open.
    """
    pytest.importorskip(driver)
    if driver == "aiosqlite":
        url = f"sqlite:///{tmp_path / 'notes.db'}"
    else:
        url = t.cast(str, request.getfixturevalue("postgresql_database_url"))
    async_url = sa.make_url(url).set(
        drivername={
            "aiosqlite": "sqlite+aiosqlite",
            "psycopg": "postgresql+psycopg",
            "asyncpg": "postgresql+asyncpg",
        }[driver]
    )
    app, db, Note = _make(
        tmp_path, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ASYNC_DATABASE_URI=async_url
    )
    with app.app_context():
        db.create_all()
        db.session.add(Note(text="hello"))
        db.session.commit()
        engine = db.async_engine
    opened: list[t.Any] = []
    closed: list[t.Any] = []
    sa.event.listen(engine.sync_engine, "connect", lambda c, r: opened.append(c))
    sa.event.listen(engine.sync_engine, "close", lambda c, r: closed.append(c))

    @app.get("/notes")
    async def index() -> t.Any:
        result = await db.async_session.execute(sa.select(Note.text))
        return {"notes": list(result.scalars())}

    @app.get("/notes/first")
    async def first() -> t.Any:
        note = await db.async_session.get(Note, 1)
        assert note is not None
        return {"text": note.text}

    client = app.test_client()
    for _ in range(3):
        assert client.get("/notes").json == {"notes": ["hello"]}
        assert client.get("/notes/first").json == {"text": "hello"}
    assert len(opened) == 6
    assert closed == opened
    for connection in opened:
        driver_connection = connection.driver_connection
        if driver == "asyncpg":
            assert driver_connection.is_closed()
        elif driver == "psycopg":
            assert driver_connection.closed
    with app.app_context():
        asyncio.run(engine.dispose())
        db.engine.dispose()


def test_async_session_used_in_one_loop_and_torn_down_inside_it(
    tmp_path: Path,
) -> None:
    """A loop that outlives the app context (as under an ASGI server)."""
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///l.db")
    with app.app_context():
        db.create_all()

    async def run() -> t.Any:
        with app.app_context():
            session = db.async_session()
            await session.execute(sa.select(Note))
            assert session.in_transaction()
        for _ in range(10):  # the close scheduled on this loop at teardown
            if not session.in_transaction():
                break
            await asyncio.sleep(0)
        return session

    session = asyncio.run(run())
    assert not session.in_transaction()
    with app.app_context():
        asyncio.run(db.async_engine.dispose())
        db.engine.dispose()


def test_async_session_on_a_loop_in_another_thread(tmp_path: Path) -> None:
    """The loop keeps running in its thread; teardown in this one hands it the close."""
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///t.db")
    with app.app_context():
        db.create_all()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    try:

        async def query() -> t.Any:
            session = db.async_session()
            await session.execute(sa.select(Note))
            return session

        with app.app_context():
            session = asyncio.run_coroutine_threadsafe(query(), loop).result(30)
            assert session.in_transaction()

        async def closed() -> bool:
            # The close handed over at teardown runs in the loop's other task.
            others = asyncio.all_tasks() - {asyncio.current_task()}
            await asyncio.gather(*others, return_exceptions=True)
            return not session.in_transaction()

        assert asyncio.run_coroutine_threadsafe(closed(), loop).result(30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
    with app.app_context():
        asyncio.run(db.async_engine.dispose())
        db.engine.dispose()


def test_async_session_on_a_paused_loop(tmp_path: Path) -> None:
    """A loop that is not running at teardown (``run_until_complete`` style) is used again."""
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///p.db")
    with app.app_context():
        db.create_all()
    loop = asyncio.new_event_loop()
    try:
        with app.app_context():
            session = db.async_session()
            loop.run_until_complete(session.execute(sa.select(Note)))
            assert session.in_transaction()
        assert not session.in_transaction()
        with app.app_context():
            loop.run_until_complete(db.async_engine.dispose())
            db.engine.dispose()
    finally:
        loop.close()


def test_async_engines_are_disposed_when_an_asgi_server_stops(tmp_path: Path) -> None:
    app, db, Note = _make(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///notes.db")
    disposed: list[str] = []

    @app.get("/count")
    async def count() -> t.Any:
        engine = db.async_engine
        if not disposed:
            sa.event.listen(
                engine.sync_engine, "engine_disposed", lambda e: disposed.append("x")
            )
        return {"n": await db.async_session.scalar(sa.select(sa.func.count(Note.id)))}

    with app.app_context():
        db.create_all()

    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, t.Any]] = []

    async def receive() -> dict[str, t.Any]:
        if sent and not disposed:
            # Between startup and shutdown: serve a request on this loop.
            client = app.test_client(asgi=True)
            await asyncio.to_thread(lambda: client.get("/count"))
        return events.pop(0)

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    async def serve() -> None:
        await asyncio.wait_for(app({"type": "lifespan"}, receive, send), 30)

    asyncio.run(serve())
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert disposed == ["x"]
    assert app.extensions["sqlalchemy"].async_engines == {}
    with app.app_context():
        db.engine.dispose()


def test_asgi_teardown_resets_sync_sessions_off_the_loop(tmp_path: Path) -> None:
    """Under ASGI the teardown runs on the loop; a sync session's reset does not."""
    app, db, Note = _make(
        tmp_path,
        SQLALCHEMY_DATABASE_URI="sqlite:///notes.db",
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": 1,
            "max_overflow": 0,
            "pool_timeout": 5,
        },
    )
    loop_threads: set[int] = set()
    checkin_threads: list[int] = []

    @app.get("/sync-in-async")
    async def sync_in_async() -> t.Any:
        loop_threads.add(threading.get_ident())
        return {"n": db.session.scalar(sa.select(sa.func.count(Note.id)))}

    @app.get("/async")
    async def async_only() -> t.Any:
        loop_threads.add(threading.get_ident())
        return {"n": await db.async_session.scalar(sa.select(sa.func.count(Note.id)))}

    @app.get("/sync")
    def sync() -> t.Any:
        return {"n": db.session.scalar(sa.select(sa.func.count(Note.id)))}

    with app.app_context():
        db.create_all()
        sa.event.listen(
            db.engine,
            "checkin",
            lambda *a: checkin_threads.append(threading.get_ident()),
        )
    client = app.test_client(asgi=True)
    # More requests than the pool holds: a session left open would time out.
    for _ in range(3):
        for path in ("/sync-in-async", "/async", "/sync"):
            assert client.get(path).json == {"n": 0}
    assert len(checkin_threads) == 6  # every sync request gave its connection back
    # The teardown itself is marked to run on the loop: async views pay no hop.
    assert is_nonblocking(db._teardown_session)
    assert not loop_threads & set(checkin_threads)
    with app.app_context():
        assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        asyncio.run(db.async_engine.dispose())
        db.engine.dispose()
