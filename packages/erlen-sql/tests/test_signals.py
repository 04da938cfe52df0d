from __future__ import annotations

import typing as t

from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.record_queries import get_recorded_queries
from erlen_sql.track_modifications import before_models_committed
from erlen_sql.track_modifications import models_committed


def test_track_modifications(app: Erlen) -> None:
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = True
    db = SQLAlchemy(app)

    class Pet(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    before: list[list[tuple[t.Any, str]]] = []
    after: list[list[tuple[t.Any, str]]] = []

    def on_before(sender: t.Any, changes: list[tuple[t.Any, str]]) -> None:
        assert sender is app
        before.append(changes)

    def on_after(sender: t.Any, changes: list[tuple[t.Any, str]]) -> None:
        assert sender is app
        after.append(changes)

    with (
        before_models_committed.connected_to(on_before),
        models_committed.connected_to(on_after),
        app.app_context(),
    ):
        db.create_all()
        rex = Pet(name="rex")
        db.session.add(rex)
        db.session.commit()
        assert after == [[(rex, "insert")]]
        assert before == after
        rex.name = "max"
        db.session.commit()
        assert after[-1] == [(rex, "update")]
        db.session.delete(rex)
        db.session.flush()
        db.session.commit()
        assert after[-1] == [(rex, "delete")]
        tom = Pet(name="tom")
        db.session.add(tom)
        db.session.rollback()
        db.session.commit()
        assert len(after) == 3


def test_track_modifications_off(app: Erlen, db: SQLAlchemy) -> None:
    class Pet(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    seen: list[t.Any] = []

    def record(sender: t.Any, changes: t.Any) -> None:
        seen.append(changes)

    with models_committed.connected_to(record), app.app_context():
        db.create_all()
        db.session.add(Pet())
        db.session.commit()
    assert seen == []


def test_record_queries(app: Erlen) -> None:
    app.config["SQLALCHEMY_RECORD_QUERIES"] = True
    db = SQLAlchemy(app)

    class Fish(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()

    recorded: list[t.Any] = []

    @app.get("/")
    def index() -> str:
        db.session.execute(db.select(Fish).where(Fish.id == 3)).all()
        recorded.extend(get_recorded_queries())
        return "ok"

    app.test_client().get("/")
    (query,) = recorded
    assert "FROM fish" in query.statement
    assert query.parameters == [(3,)]
    assert query.end_time >= query.start_time
    assert query.duration == query.end_time - query.start_time
    assert query.location == ""  # the view lives in this test module, not the app


def test_record_queries_location(tmp_path: t.Any) -> None:
    app = Erlen("test_signals", instance_path=str(tmp_path))
    app.config.update(
        SQLALCHEMY_DATABASE_URI="sqlite://", SQLALCHEMY_RECORD_QUERIES=True
    )
    db = SQLAlchemy(app)
    with app.app_context():
        db.session.execute(db.text("select 1"))
        (query,) = get_recorded_queries()
        assert query.location.startswith(__file__)
        assert "test_record_queries_location" in query.location
    with app.app_context():
        assert get_recorded_queries() == []
    app.extensions["sqlalchemy"].engines[None].dispose()


def test_record_queries_off(app: Erlen, db: SQLAlchemy) -> None:
    with app.app_context():
        db.session.execute(db.text("select 1"))
        assert get_recorded_queries() == []


def test_track_modifications_per_operation(database_url: str, tmp_path: t.Any) -> None:
    """An object inserted, then updated or deleted in one transaction, as in Flask-SQLAlchemy."""
    app = Erlen(__name__, instance_path=str(tmp_path))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url, SQLALCHEMY_TRACK_MODIFICATIONS=True
    )
    db = SQLAlchemy(app)

    class Bird(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    after: list[list[tuple[t.Any, str]]] = []

    def on_after(sender: t.Any, changes: list[tuple[t.Any, str]]) -> None:
        after.append(changes)

    with models_committed.connected_to(on_after), app.app_context():
        db.create_all()
        tweety = Bird(name="tweety")
        db.session.add(tweety)
        db.session.flush()
        db.session.delete(tweety)
        db.session.commit()
        assert after == [[(tweety, "insert"), (tweety, "delete")]]
        polly = Bird(name="polly")
        db.session.add(polly)
        db.session.flush()
        polly.name = "pol"
        db.session.commit()
        assert after[-1] == [(polly, "insert"), (polly, "update")]
        polly.name = "p"
        db.session.flush()
        db.session.delete(polly)
        db.session.commit()
        assert after[-1] == [(polly, "delete")]
        db.drop_all()
        db.engine.dispose()
