"""Apps, models and database helpers shared by the tests."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import shlex
import typing as t
from pathlib import Path

import sqlalchemy as sa
from click.testing import Result

from erlen import Erlen
from erlen_migrate import Migrate
from erlen_migrate import NAMING_CONVENTION
from erlen_sql import SQLAlchemy

Models = cabc.Callable[[SQLAlchemy], None]


def users_v1(db: SQLAlchemy) -> None:
    """A ``user`` table with an id and a short name."""

    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50), nullable=False)


def users_v2(db: SQLAlchemy) -> None:
    """``users_v1`` plus an ``email`` column."""

    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50), nullable=False)
        email = sa.Column(sa.String(120))


@dataclasses.dataclass
class Project:
    """A migrations folder and database config shared by the apps of one test."""

    folder: Path
    config: dict[str, t.Any]
    instance: Path
    apps: list[Erlen] = dataclasses.field(default_factory=list)

    def app(
        self,
        models: Models = users_v1,
        *,
        config: dict[str, t.Any] | None = None,
        **migrate_options: t.Any,
    ) -> Erlen:
        """A fresh app whose models are ``models``, sharing the project's databases."""
        app = Erlen(__name__, instance_path=str(self.instance))
        app.config.update(self.config)
        app.config.update(config or {})
        db = SQLAlchemy(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))
        models(db)
        db.init_app(app)
        migrate_options.setdefault("directory", str(self.folder))
        Migrate(app, db, **migrate_options)
        self.apps.append(app)
        return app

    def cli(self, app: Erlen, *args: str) -> Result:
        """Run ``erlen db ARGS`` with the app's CLI runner."""
        return app.test_cli_runner().invoke(args=["db", *args])

    def ok(self, app: Erlen, *args: str) -> Result:
        """Run ``erlen db ARGS`` and assert it succeeded."""
        result = self.cli(app, *args)
        assert result.exit_code == 0, (result.output, result.exception)
        return result

    def steps(self, app: Erlen, *commands: str) -> Result:
        """Run each ``erlen db COMMAND`` (split as a shell does), asserting each
        succeeded; return the last result."""
        results = [self.ok(app, *shlex.split(command)) for command in commands]
        return results[-1]

    def engine(self, app: Erlen, bind: str | None = None) -> sa.engine.Engine:
        with app.app_context():
            return t.cast(
                sa.engine.Engine, app.extensions["sqlalchemy"].db.engines[bind]
            )

    def tables(self, app: Erlen, bind: str | None = None) -> set[str]:
        return set(sa.inspect(self.engine(app, bind)).get_table_names())

    def columns(
        self, app: Erlen, table: str, bind: str | None = None
    ) -> dict[str, t.Any]:
        inspector = sa.inspect(self.engine(app, bind))
        return {c["name"]: c["type"] for c in inspector.get_columns(table)}

    def query(
        self, app: Erlen, sql: str, bind: str | None = None
    ) -> list[tuple[t.Any, ...]]:
        with self.engine(app, bind).connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(sql))]

    def execute(self, app: Erlen, sql: str, bind: str | None = None) -> None:
        with self.engine(app, bind).begin() as conn:
            conn.execute(sa.text(sql))

    def versions(self) -> list[Path]:
        return sorted((self.folder / "versions").glob("*.py"))

    def dispose(self) -> None:
        for app in self.apps:
            state = app.extensions.get("sqlalchemy")
            if state is not None:
                for engine in state.engines.values():
                    engine.dispose()


#: Makes a :class:`Project` from its database config (the ``make_project`` fixture).
MakeProject = cabc.Callable[[dict[str, t.Any]], Project]
