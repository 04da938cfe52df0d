from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.exceptions import NotFound

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.session import Session


def test_scoped_to_app_context(app: Erlen, db: SQLAlchemy) -> None:
    with app.app_context():
        first = db.session()
        assert db.session() is first
        assert isinstance(first, Session)
        with app.app_context():
            assert db.session() is not first
        assert db.session() is first
    with app.app_context():
        assert db.session() is not first


def test_removed_on_teardown(app: Erlen, db: SQLAlchemy) -> None:
    closed: list[sa_orm.Session] = []
    sa.event.listen(db.session, "after_begin", lambda s, *a: None)

    with app.app_context():
        session = db.session()
        session.execute(sa.text("select 1"))
        assert session.in_transaction()
        orig_close = session.close

        def close() -> None:
            closed.append(session)
            orig_close()

        session.close = close  # type: ignore[method-assign]
    assert closed == [session]
    assert not session.in_transaction()


def test_session_per_request(app: Erlen, db: SQLAlchemy) -> None:
    seen: list[int] = []

    @app.get("/")
    def index() -> str:
        seen.append(id(db.session()))
        return "ok"

    client = app.test_client()
    client.get("/")
    client.get("/")
    assert len(seen) == 2


def test_custom_session_class(app: Erlen) -> None:
    class MySession(Session):
        marker = True

    db = SQLAlchemy(app, session_options={"class_": MySession})
    with app.app_context():
        assert isinstance(db.session(), MySession)


def test_custom_scopefunc(app: Erlen) -> None:
    scope = {"value": 1}
    db = SQLAlchemy(app, session_options={"scopefunc": lambda: scope["value"]})
    with app.app_context():
        first = db.session()
        with app.app_context():
            assert db.session() is first
        scope["value"] = 2
        assert db.session() is not first
        db.session.remove()
        scope["value"] = 1


def test_session_options(app: Erlen) -> None:
    db = SQLAlchemy(app, session_options={"expire_on_commit": False})

    class Item(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()
        item = Item()
        db.session.add(item)
        db.session.commit()
        assert "id" in item.__dict__


def test_get_bind_routing(app: Erlen) -> None:
    app.config["SQLALCHEMY_BINDS"] = {"a": "sqlite://"}
    db = SQLAlchemy(app)

    class Default(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    class InA(db.Model):
        __bind_key__ = "a"
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        session = db.session()
        assert session.get_bind(mapper=Default) is db.engine
        assert session.get_bind(mapper=InA) is db.engines["a"]
        assert session.get_bind(clause=sa.select(InA.__table__)) is db.engines["a"]
        assert session.get_bind(clause=sa.insert(InA.__table__)) is db.engines["a"]
        assert session.get_bind(clause=sa.text("select 1")) is db.engine
        assert session.get_bind() is db.engine
        other = sa.create_engine("sqlite://")
        assert session.get_bind(bind=other) is other
        with pytest.raises(sa_orm.exc.UnmappedClassError):
            session.get_bind(mapper=int)


def test_404_helpers(app: Erlen, db: SQLAlchemy) -> None:
    class User(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    with app.app_context():
        db.create_all()
        db.session.add_all([User(name="a"), User(name="b"), User(name="b")])
        db.session.commit()
        assert db.get_or_404(User, 1).name == "a"
        with pytest.raises(NotFound) as info:
            db.get_or_404(User, 99, description="no such user")
        assert info.value.description == "no such user"
        stmt = sa.select(User).where(User.name == "b")
        assert db.first_or_404(stmt).name == "b"
        with pytest.raises(NotFound):
            db.first_or_404(sa.select(User).where(User.name == "z"))
        assert db.one_or_404(sa.select(User).where(User.name == "a")).id == 1
        with pytest.raises(NotFound):
            db.one_or_404(stmt)
        with pytest.raises(NotFound):
            db.one_or_404(sa.select(User).where(User.name == "z"))


def test_404_in_view(app: Erlen, db: SQLAlchemy) -> None:
    class User(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()

    @app.get("/u/<int:id>")
    def show(id: int) -> t.Any:
        return {"id": db.get_or_404(User, id).id}

    response = app.test_client().get("/u/3")
    assert response.status_code == 404


def test_404_for_ids_no_column_can_hold(app: Erlen, db: SQLAlchemy) -> None:
    """An id from a URL too large for the column is a 404, never a 500."""

    class Item(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    class Small(db.Model):
        id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)

    with app.app_context():
        db.create_all()
        db.session.add_all([Item(id=2**62), Small(id=7)])
        db.session.commit()

    @app.get("/items/<int:id>")
    def show(id: int) -> t.Any:
        return {"id": db.get_or_404(Item, id).id}

    client = app.test_client()
    assert client.get(f"/items/{2**62}").json == {"id": 2**62}
    assert client.get(f"/items/{2**63}").status_code == 404
    assert client.get("/items/99999999999999999999999").status_code == 404
    with app.app_context():
        assert db.get_or_404(Small, 7).id == 7
        with pytest.raises(NotFound):
            db.get_or_404(Small, 2**15)
        with pytest.raises(NotFound):
            Item.query.get_or_404(2**64)
        with pytest.raises(NotFound):
            db.get_or_404(Item, {"id": -(2**63) - 1})
        # The session is still usable afterwards.
        assert db.session.get(Item, 2**62) is not None


def test_legacy_query_helpers(app: Erlen, db: SQLAlchemy) -> None:
    class Todo(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        done: Mapped[bool] = mapped_column(default=False)

    with app.app_context():
        db.create_all()
        db.session.add_all([Todo(), Todo()])
        db.session.commit()
        assert Todo.query.get_or_404(2).id == 2
        with pytest.raises(NotFound):
            Todo.query.get_or_404(3)
        assert Todo.query.first_or_404().id == 1
        with pytest.raises(NotFound):
            Todo.query.filter_by(done=True).first_or_404()
        assert Todo.query.filter_by(id=1).one_or_404().id == 1
        with pytest.raises(NotFound):
            Todo.query.one_or_404()
        with pytest.raises(NotFound, match="gone"):
            Todo.query.filter_by(id=9).one_or_404(description="gone")
