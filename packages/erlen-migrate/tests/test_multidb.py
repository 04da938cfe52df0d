"""Several databases: every bind, a chosen subset, no default database."""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from migrate_helpers import MakeProject
from migrate_helpers import Project


def _three(db: t.Any, with_logs_level: bool = False) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)

    class Account(db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "accounts"
        __tablename__ = "account"
        id = sa.Column(sa.Integer, primary_key=True)
        owner = sa.Column(sa.String(50))

    class Entry(db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "logs"
        __tablename__ = "entry"
        id = sa.Column(sa.Integer, primary_key=True)
        if with_logs_level:
            level = sa.Column(sa.String(10))


def _three_v2(db: t.Any) -> None:
    _three(db, with_logs_level=True)


@pytest.fixture
def multi(tmp_path: Path, database_url: str, make_project: MakeProject) -> Project:
    """Default database and ``logs`` on SQLite files, ``accounts`` on the parametrized one."""
    project = make_project(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'main.db'}",
            "SQLALCHEMY_BINDS": {
                "accounts": database_url,
                "logs": f"sqlite:///{tmp_path / 'logs.db'}",
            },
        }
    )
    return project


def test_every_bind_and_a_subset(multi: Project) -> None:
    app = multi.app(_three)
    multi.steps(app, "init --multidb", "migrate -m all")
    [path] = multi.versions()
    source = path.read_text()
    for name in ("upgrade_", "upgrade_accounts", "upgrade_logs"):
        assert f"def {name}() -> None:" in source
    assert re.search(r'op\.create_table\(\s*"account"', source)

    multi.ok(app, "upgrade", "--bind", "accounts")
    assert "account" in multi.tables(app, "accounts")
    assert "user" not in multi.tables(app)
    assert "entry" not in multi.tables(app, "logs")
    behind = multi.cli(app, "current", "--check-heads")
    assert behind.exit_code == 1
    assert "'default' is 1 revision behind" in behind.output
    assert "'logs' is 1 revision behind" in behind.output

    multi.ok(app, "upgrade")
    assert "user" in multi.tables(app)
    assert "entry" in multi.tables(app, "logs")
    current = multi.ok(app, "current", "--check-heads").output
    rev = path.name.split("_")[0]
    for label in ("default", "accounts", "logs"):
        assert f"{label}: {rev} (head)" in current
    multi.execute(app, "INSERT INTO account (id, owner) VALUES (1, 'ada')", "accounts")

    app2 = multi.app(_three_v2)
    failing = multi.cli(app2, "check")
    assert failing.exit_code == 1
    assert "entry.level" in failing.output
    multi.ok(app2, "migrate", "-m", "level", "--bind", "logs")
    second = next(p for p in multi.versions() if "level" in p.name).read_text()
    assert "def upgrade_logs() -> None:" in second
    assert "def upgrade_accounts" not in second
    multi.ok(app2, "upgrade")
    assert "level" in multi.columns(app2, "entry", "logs")
    assert "No new upgrade operations" in multi.ok(app2, "check").output
    multi.ok(app2, "downgrade", "--bind", "logs")
    assert "level" not in multi.columns(app2, "entry", "logs")
    # The other databases only moved their version: nothing was dropped.
    assert multi.query(app2, "SELECT owner FROM account", "accounts") == [("ada",)]
    unknown = multi.cli(app2, "upgrade", "--bind", "nope")
    assert unknown.exit_code == 1
    assert "Unknown database 'nope'" in unknown.output


def test_offline_sql_for_several_databases(multi: Project) -> None:
    app = multi.app(_three)
    multi.steps(app, "init --multidb", "migrate -m all")
    out = multi.ok(app, "upgrade", "--sql").stdout
    for label in ("default", "accounts", "logs"):
        assert f"-- Database: {label}" in out
    assert out.count("CREATE TABLE alembic_version") == 3


def test_migrate_binds_option_and_single_to_multi(
    tmp_path: Path, make_project: MakeProject
) -> None:
    """A single-database project grows binds without editing old revisions."""
    project = make_project(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'main.db'}"}
    )

    def only_user(db: t.Any) -> None:
        class User(db.Model):  # type: ignore[name-defined,misc]
            __tablename__ = "user"
            id = sa.Column(sa.Integer, primary_key=True)

    app = project.app(only_user)
    project.steps(app, "init", "migrate -m single", "upgrade")
    assert "def upgrade() -> None:" in project.versions()[0].read_text()

    project.config["SQLALCHEMY_BINDS"] = {
        "accounts": f"sqlite:///{tmp_path / 'accounts.db'}",
        "logs": f"sqlite:///{tmp_path / 'logs.db'}",
    }
    # Manage the default database and "accounts" only; "logs" is not ours.
    app2 = project.app(_three, binds=[None, "accounts"])
    new_bind = project.cli(app2, "migrate", "-m", "accounts")
    assert new_bind.exit_code == 1
    assert "'accounts' is 1 revision behind" in new_bind.output
    # Old revisions are stamped on the new database without running there.
    project.ok(app2, "upgrade")
    assert project.tables(app2, "accounts") == {"alembic_version"}
    project.ok(app2, "migrate", "-m", "accounts")
    second = next(p for p in project.versions() if "accounts" in p.name)
    assert "def upgrade_accounts() -> None:" in second.read_text()
    assert "upgrade_logs" not in second.read_text()
    project.ok(app2, "upgrade")
    assert "account" in project.tables(app2, "accounts")
    # The old single-database revision ran on the default database only.
    assert "user" not in project.tables(app2, "accounts")
    assert project.tables(app2, "logs") == set()
    project.ok(app2, "downgrade", "base")
    assert "user" not in project.tables(app2)
    assert "account" not in project.tables(app2, "accounts")


def test_binds_only_without_default_database(
    tmp_path: Path, make_project: MakeProject
) -> None:
    project = make_project(
        {
            "SQLALCHEMY_BINDS": {
                "accounts": f"sqlite:///{tmp_path / 'accounts.db'}",
                "logs": f"sqlite:///{tmp_path / 'logs.db'}",
            },
        }
    )

    def binds_only(db: t.Any) -> None:
        class Account(db.Model):  # type: ignore[name-defined,misc]
            __bind_key__ = "accounts"
            __tablename__ = "account"
            id = sa.Column(sa.Integer, primary_key=True)

        class Entry(db.Model):  # type: ignore[name-defined,misc]
            __bind_key__ = "logs"
            __tablename__ = "entry"
            id = sa.Column(sa.Integer, primary_key=True)

    app = project.app(binds_only)
    project.steps(app, "init", "migrate -m binds")
    source = project.versions()[0].read_text()
    assert "def upgrade_accounts() -> None:" in source
    assert "def upgrade_() -> None:" not in source
    project.ok(app, "upgrade")
    assert "account" in project.tables(app, "accounts")
    assert "entry" in project.tables(app, "logs")
    assert "No new upgrade operations" in project.ok(app, "check").output
    bad = project.cli(app, "upgrade", "--bind", "default")
    assert bad.exit_code == 1
    assert "Unknown database default" in bad.output
