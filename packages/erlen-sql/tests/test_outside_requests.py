from __future__ import annotations

import typing as t

import click
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen_sql import SQLAlchemy

pytest_plugins = ["pytester"]


def test_cli_command_uses_db(app: Erlen, db: SQLAlchemy) -> None:
    class Job(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    @app.cli.command("init-db")
    def init_db() -> None:
        db.create_all()
        click.echo("created")

    @app.cli.command("add-job")
    @click.argument("name")
    def add_job(name: str) -> None:
        db.session.add(Job(name=name))
        db.session.commit()
        click.echo(f"{db.session.scalar(sa.select(sa.func.count(Job.id)))} jobs")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).output == "created\n"
    assert runner.invoke(args=["add-job", "a"]).output == "1 jobs\n"
    assert runner.invoke(args=["add-job", "b"]).output == "2 jobs\n"


def test_pytest_plugin_rolls_back(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from erlen import Erlen
        from sqlalchemy.orm import Mapped, mapped_column
        from erlen_sql import SQLAlchemy

        pytest_plugins = ["erlen_sql.pytest_plugin"]
        _db = SQLAlchemy()

        class Item(_db.Model):
            id: Mapped[int] = mapped_column(primary_key=True)

        @pytest.fixture(scope="session")
        def app(tmp_path_factory):
            app = Erlen("plugin_app", instance_path=str(tmp_path_factory.mktemp("i")))
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///plugin.db"
            _db.init_app(app)
            with app.app_context():
                _db.create_all()
            yield app
            with app.app_context():
                _db.engine.dispose()

        @pytest.fixture(scope="session")
        def db():
            return _db
        """
    )
    pytester.makepyfile(
        """
        import sqlalchemy as sa
        from conftest import Item

        def count(db):
            return db.session.scalar(sa.select(sa.func.count(Item.id)))

        def test_one(isolated_db):
            isolated_db.session.add(Item())
            isolated_db.session.commit()
            assert count(isolated_db) == 1

        def test_two(isolated_db):
            assert count(isolated_db) == 0
            isolated_db.session.add_all([Item(), Item()])
            isolated_db.session.commit()
            assert count(isolated_db) == 2
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=2)


def test_isolate_cannot_nest(app: Erlen, db: SQLAlchemy) -> None:
    from erlen_sql.testing import isolate

    with isolate(db, app):
        with pytest.raises(RuntimeError, match="cannot\\s+be nested"):
            with isolate(db, app):
                pass
    assert app.extensions["sqlalchemy"].isolation is None


def test_isolate_includes_create_all(app: Erlen, db: SQLAlchemy) -> None:
    from erlen_sql.testing import isolate

    class Temp(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    t.cast(t.Any, Temp)
    with app.app_context():
        with isolate(db):
            db.create_all()
            db.session.add(Temp())
            db.session.commit()
            assert sa.inspect(db.session.connection()).has_table("temp")
        assert not sa.inspect(db.engine).has_table("temp")
