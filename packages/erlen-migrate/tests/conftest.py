from __future__ import annotations

import collections.abc as cabc
import typing as t
from pathlib import Path

import pytest
from migrate_helpers import MakeProject
from migrate_helpers import Project

# A PostgreSQL server for the session and an empty database per test; skipped
# without PostgreSQL, failing when CI=true.
from erlen_sql.pytest_plugin import postgresql_database_url as postgresql_database_url
from erlen_sql.pytest_plugin import postgresql_url as postgresql_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A database URL: a SQLite file, then an empty PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url
    return t.cast(str, request.getfixturevalue("postgresql_database_url"))


@pytest.fixture
def make_project(tmp_path: Path) -> cabc.Iterator[MakeProject]:
    """Make a project from its database config; its engines are disposed after the test."""
    made: list[Project] = []

    def make(config: dict[str, t.Any]) -> Project:
        made.append(Project(tmp_path / "migrations", config, tmp_path / "instance"))
        return made[-1]

    yield make
    for project in made:
        project.dispose()


@pytest.fixture
def project(make_project: MakeProject, database_url: str) -> Project:
    """A project on SQLite and on PostgreSQL, migrations in ``tmp_path/migrations``."""
    return make_project({"SQLALCHEMY_DATABASE_URI": database_url})


@pytest.fixture
def sqlite_project(make_project: MakeProject, sqlite_url: str) -> Project:
    """A project on a SQLite file only."""
    return make_project({"SQLALCHEMY_DATABASE_URI": sqlite_url})
