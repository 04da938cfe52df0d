"""Defects a Flask-SQLAlchemy user hits when switching, on SQLite and PostgreSQL."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import sys
import typing as t
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.exceptions import NotFound

from erlen import Erlen
from erlen.ext import ExtensionError
from erlen_sql import SQLAlchemy
from erlen_sql.idents import NO_MATCH
from erlen_sql.idents import prepare_ident

db = SQLAlchemy()

#: Above PostgreSQL's ``integer``, within its ``bigint``.
BIG_ID = 3_000_000_000


class Book(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))


class Ledger(db.Model):
    id: Mapped[int] = mapped_column(
        sa.Integer().with_variant(sa.BigInteger(), "postgresql"), primary_key=True
    )


@pytest.fixture
def real_app(database_url: str, tmp_path: Path) -> cabc.Iterator[Erlen]:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url)
    db.init_app(app)
    with app.app_context():
        db.create_all()
        db.session.add_all([Book(id=1, title="one"), Ledger(id=BIG_ID)])
        db.session.commit()
    yield app
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


class Captured(t.NamedTuple):
    #: SQL strings sent to the database.
    sent: list[str]
    #: ORM statements, compiled for PostgreSQL (SQLite has no ``FOR UPDATE``).
    orm: list[str]
    #: Execution options of each ORM statement.
    options: list[cabc.Mapping[str, t.Any]]

    def locked(self, dialect: str) -> bool:
        """Whether a ``SELECT ... FOR UPDATE`` was run (and sent, on PostgreSQL)."""
        built = any("FOR UPDATE" in s for s in self.orm)
        if dialect == "postgresql":
            return built and any("FOR UPDATE" in s for s in self.sent)
        return built


@contextlib.contextmanager
def captured() -> cabc.Iterator[Captured]:
    result = Captured([], [], [])
    engine = db.engine

    def on_cursor(conn: t.Any, cursor: t.Any, statement: str, *_: t.Any) -> None:
        result.sent.append(statement)

    def on_orm(state: sa_orm.ORMExecuteState) -> None:
        result.orm.append(str(state.statement.compile(dialect=postgresql.dialect())))
        result.options.append(state.execution_options)

    sa.event.listen(engine, "before_cursor_execute", on_cursor)
    sa.event.listen(db.session, "do_orm_execute", on_orm)
    try:
        yield result
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_cursor)
        sa.event.remove(db.session, "do_orm_execute", on_orm)


# -- 1. the 404 helpers keep what is set on the query ---------------------------


def test_query_get_or_404_keeps_with_for_update(real_app: Erlen) -> None:
    with real_app.app_context():
        name = db.engine.dialect.name
        loaded = db.session.get(Book, 1)  # in the identity map now
        with captured() as seen:
            book = Book.query.with_for_update().get_or_404(1)
        assert book is loaded
        assert seen.locked(name)
        with captured() as seen:
            assert Book.query.with_for_update().get_or_404("1") is loaded
        assert seen.locked(name)
        with pytest.raises(NotFound):
            Book.query.with_for_update().get_or_404(2)


def test_query_get_or_404_keeps_options_and_execution_options(
    real_app: Erlen,
) -> None:
    with real_app.app_context():
        with captured() as seen:
            book = (
                Book.query.options(sa_orm.defer(Book.title))
                .execution_options(erlen_marker="kept")
                .get_or_404(1)
            )
        assert "title" not in sa.inspect(book).dict
        assert not any("title" in s for s in seen.sent)
        assert [o.get("erlen_marker") for o in seen.options] == ["kept"]
    with real_app.app_context():
        book = db.session.get(Book, 1)
        db.session.execute(sa.update(Book.__table__).values(title="changed"))
        assert book.title == "one"  # the session still has the old value
        assert Book.query.populate_existing().get_or_404(1).title == "changed"


def test_first_and_one_or_404_keep_with_for_update(real_app: Erlen) -> None:
    with real_app.app_context():
        name = db.engine.dialect.name
        calls: list[cabc.Callable[[], t.Any]] = [
            lambda: Book.query.with_for_update().filter_by(id=1).first_or_404(),
            lambda: Book.query.with_for_update().filter_by(id=1).one_or_404(),
            lambda: db.get_or_404(Book, 1, with_for_update=True),
            lambda: db.get_or_404(Book, "1", with_for_update={"nowait": True}),
            lambda: db.first_or_404(sa.select(Book).with_for_update()),
            lambda: db.one_or_404(sa.select(Book).with_for_update()),
        ]
        for call in calls:
            with captured() as seen:
                assert call().id == 1
            assert seen.locked(name)
            db.session.rollback()


# -- 3. a second SQLAlchemy() that was never registered --------------------------


def test_unregistered_second_instance_is_a_clear_error(
    real_app: Erlen, tmp_path: Path
) -> None:
    other = SQLAlchemy()

    class Stray(other.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    @real_app.get("/stray")
    def stray() -> t.Any:
        return {"n": len(other.session.scalars(sa.select(Stray)).all())}

    uses: list[cabc.Callable[[], t.Any]] = [
        lambda: other.session.execute(sa.select(1)),
        lambda: other.session.scalars(sa.select(Stray)).all(),
        lambda: Stray.query.all(),
        lambda: other.get_or_404(Stray, 1),
        lambda: other.engine,
        lambda: other.engines,
        lambda: other.create_all(),
        lambda: other.state,
    ]
    with real_app.app_context():
        for use in uses:
            with pytest.raises(ExtensionError, match="(?i)not registered with this"):
                use()
        other.session.remove()
        assert db.session.get(Book, 1) is not None  # the registered one works
        assert repr(other) == "<SQLAlchemy>"
    real_app.testing = True
    client = real_app.test_client()
    for _ in range(3):
        with pytest.raises(ExtensionError, match="(?i)not registered with this"):
            client.get("/stray")


# -- 4. get_or_404 never refuses a value the database can hold -------------------


def test_get_or_404_with_variant_big_ids(real_app: Erlen) -> None:
    @real_app.get("/ledgers/<ident>")
    def ledger(ident: str) -> t.Any:
        return {"id": db.get_or_404(Ledger, ident).id}

    with real_app.app_context():
        assert db.get_or_404(Ledger, BIG_ID).id == BIG_ID
        db.session.expunge_all()
        assert Ledger.query.get_or_404(str(BIG_ID)).id == BIG_ID
        with pytest.raises(NotFound):
            db.get_or_404(Ledger, 2**63)  # too large for any bigint
        with pytest.raises(NotFound):
            db.get_or_404(Book, 2**31)  # too large for Book's integer on PostgreSQL
    client = real_app.test_client()
    assert client.get(f"/ledgers/{BIG_ID}").json == {"id": BIG_ID}
    assert client.get(f"/ledgers/{BIG_ID + 1}").status_code == 404
    assert client.get(f"/ledgers/{2**64}").status_code == 404


class _MySQLSession:
    """Stands in for a session bound to MySQL: only ``get_bind`` is used."""

    def __init__(self) -> None:
        self.engine = sa.create_mock_engine("mysql://", executor=lambda *a: None)

    def get_bind(self, **_: t.Any) -> t.Any:
        return self.engine


@pytest.mark.parametrize(
    "column_type",
    [
        mysql.INTEGER(unsigned=True),
        sa.Integer().with_variant(mysql.INTEGER(unsigned=True), "mysql"),
    ],
    ids=["unsigned", "variant"],
)
def test_mysql_unsigned_integer_ids(column_type: t.Any) -> None:
    base = sa_orm.declarative_base()

    class Row(base):  # type: ignore[valid-type,misc]
        __tablename__ = "row"
        id = sa.Column(column_type, primary_key=True)

    class Signed(base):  # type: ignore[valid-type,misc]
        __tablename__ = "signed"
        id = sa.Column(sa.Integer, primary_key=True)

    session = t.cast(sa_orm.Session, _MySQLSession())
    assert prepare_ident(session, Row, 2**31 + 5) == 2**31 + 5
    assert prepare_ident(session, Row, str(2**32 - 1)) == 2**32 - 1
    assert prepare_ident(session, Row, 2**32) is NO_MATCH
    assert prepare_ident(session, Row, -1) is NO_MATCH
    assert prepare_ident(session, Signed, 2**31) is NO_MATCH
    assert prepare_ident(session, Signed, -(2**31)) == -(2**31)


def test_unknown_dialect_lets_the_database_answer() -> None:
    base = sa_orm.declarative_base()

    class Row(base):  # type: ignore[valid-type,misc]
        __tablename__ = "row"
        id = sa.Column(sa.Integer, primary_key=True)

    class OracleSession(_MySQLSession):
        def __init__(self) -> None:
            self.engine = sa.create_mock_engine("oracle://", executor=lambda *a: None)

    session = t.cast(sa_orm.Session, OracleSession())
    assert prepare_ident(session, Row, str(2**70)) == 2**70
    assert prepare_ident(session, Row, "1.5") is NO_MATCH


# -- 5. record_queries in the factory layout -------------------------------------

_FACTORY = """
from erlen import Erlen
from .models import db


def create_app(url):
    app = Erlen(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_RECORD_QUERIES=True)
    db.init_app(app)
    from . import views
    app.register_blueprint(views.bp)
    return app
"""

_MODELS = """
import sqlalchemy as sa
from erlen_sql import SQLAlchemy

db = SQLAlchemy()
"""

_VIEWS = """
import sqlalchemy as sa
from erlen import Blueprint
from erlen_sql.record_queries import get_recorded_queries
from .models import db
bp = Blueprint("main", __name__)
@bp.get("/")
def index():
    db.session.execute(sa.select(sa.literal(1))).all()
    return {"locations": [q.location for q in get_recorded_queries()]}
"""


def test_record_queries_location_in_factory_layout(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"factoryapp_{uuid.uuid4().hex}"
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "factory.py").write_text(_FACTORY)
    (package / "models.py").write_text(_MODELS)
    (package / "views.py").write_text(_VIEWS)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        factory = __import__(f"{name}.factory", fromlist=["create_app"])
        app = factory.create_app(database_url)
        locations = app.test_client().get("/").json["locations"]
        assert locations == [f"{package / 'views.py'}:9 (index)"]
        with app.app_context():
            app.extensions["sqlalchemy"].engines[None].dispose()
    finally:
        for module in [m for m in sys.modules if m.split(".")[0] == name]:
            del sys.modules[module]
