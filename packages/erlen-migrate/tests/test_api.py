"""The Python API: functions that raise instead of exiting, the extension, plain SQLAlchemy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from migrate_helpers import MakeProject
from migrate_helpers import Project
from migrate_helpers import users_v1
from migrate_helpers import users_v2

import erlen_migrate
from erlen import Erlen
from erlen.ext import ExtensionError
from erlen_migrate import DatabaseBehindError
from erlen_migrate import Migrate
from erlen_migrate import MigrateError
from erlen_migrate import SchemaChangedError
from erlen_sql import SQLAlchemy


def test_functions_raise_instead_of_exiting(sqlite_project: Project) -> None:
    app = sqlite_project.app(users_v1)
    with app.app_context():
        with pytest.raises(MigrateError, match="Run 'erlen db init'"):
            erlen_migrate.upgrade()
        erlen_migrate.init()
        script = erlen_migrate.migrate(message="one")
        assert script is not None and not isinstance(script, list)
        with pytest.raises(DatabaseBehindError) as behind:
            erlen_migrate.current(check_heads=True)
        assert behind.value.behind == {"default": 1}
        erlen_migrate.upgrade()
        assert erlen_migrate.current() == {"default": (script.revision,)}
        assert erlen_migrate.migrate(message="none") is None
    app2 = sqlite_project.app(users_v2)
    with app2.app_context():
        with pytest.raises(SchemaChangedError) as changed:
            erlen_migrate.check()
        assert changed.value.diffs[0][0] == "add_column"
        with pytest.raises(MigrateError, match="Can't locate revision"):
            erlen_migrate.upgrade(revision="nope")


def test_upgrade_on_start_up(sqlite_project: Project) -> None:
    app = sqlite_project.app(users_v1)
    with app.app_context():
        erlen_migrate.init()
        erlen_migrate.migrate(message="one")
    fresh = sqlite_project.app(users_v1)
    with fresh.app_context():
        erlen_migrate.upgrade()
        erlen_migrate.current(check_heads=True)
    assert "user" in sqlite_project.tables(fresh)


def test_outside_app_context_and_unregistered(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="application context"):
        erlen_migrate.upgrade()
    app = Erlen(__name__)
    with app.app_context():
        with pytest.raises(MigrateError, match="not registered"):
            erlen_migrate.current()


def test_init_app_options_and_state(tmp_path: Path, sqlite_url: str) -> None:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlite_url
    db = SQLAlchemy()
    users_v1(db)
    db.init_app(app)
    migrate = Migrate(directory="unused", compare_server_default=True)
    migrate.init_app(
        app, db, directory=tmp_path / "m", command="database", render_as_batch=False
    )
    state = app.extensions["migrate"]
    assert state.db is db
    assert state.directory == str(tmp_path / "m")
    assert state.metadata is db.metadata
    assert state.configure_args == {
        "compare_type": True,
        "render_as_batch": False,
        "compare_server_default": True,
    }
    with pytest.raises(ExtensionError, match="already registered"):
        migrate.init_app(app, db)
    result = app.test_cli_runner().invoke(args=["database", "init"])
    assert result.exit_code == 0, result.output
    assert "erlen database migrate" in result.output
    assert (tmp_path / "m" / "script.py.mako").exists()
    with app.app_context():
        db.engine.dispose()


def test_db_found_later_and_configure_callbacks(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlite_url
    migrate = Migrate(app, directory=str(tmp_path / "m"))
    db = SQLAlchemy()
    users_v1(db)
    db.init_app(app)
    seen: list[AlembicConfig] = []

    @migrate.configure
    def add_option(config: AlembicConfig) -> AlembicConfig:
        config.set_main_option("file_template", "%%(rev)s_custom")
        seen.append(config)
        return config

    with app.app_context():
        config = migrate.get_config(x_arg="a=1", opts=["autogenerate"])
        assert config.cmd_opts is not None
        assert config.cmd_opts.x == ["a=1"]
        assert config.cmd_opts.autogenerate is True
        erlen_migrate.init()
        script = erlen_migrate.revision(message="x", rev_id="abc")
        assert not isinstance(script, list) and script is not None
        assert Path(script.path).name == "abc_custom.py"
        db.engine.dispose()
    assert seen


def test_include_object_reaches_alembic(sqlite_project: Project) -> None:
    def skip_user(obj: t.Any, name: str | None, kind: str, *args: t.Any) -> bool:
        return not (kind == "table" and name == "user")

    app = sqlite_project.app(users_v1, include_object=skip_user)
    with app.app_context():
        erlen_migrate.init()
        assert erlen_migrate.migrate(message="nothing") is None


def test_plain_metadata_and_engines(tmp_path: Path, sqlite_url: str) -> None:
    metadata = sa.MetaData(naming_convention=erlen_migrate.NAMING_CONVENTION)
    sa.Table("note", metadata, sa.Column("id", sa.Integer, primary_key=True))
    app = Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlite_url
    Migrate(app, metadata, directory=str(tmp_path / "m"))
    runner = app.test_cli_runner()
    for args in (["init"], ["migrate", "-m", "notes"], ["upgrade"], ["check"]):
        result = runner.invoke(args=["db", *args])
        assert result.exit_code == 0, result.output
    engine = sa.create_engine(sqlite_url)
    assert "note" in sa.inspect(engine).get_table_names()

    other = Erlen(__name__)
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    Migrate(
        other,
        {None: metadata},
        directory=str(tmp_path / "m"),
        engines=lambda: {None: sa.create_engine(other_url)},
    )
    with other.app_context():
        erlen_migrate.upgrade()
    assert "note" in sa.inspect(sa.create_engine(other_url)).get_table_names()
    engine.dispose()

    nothing = Erlen(__name__)
    Migrate(nothing, metadata, directory=str(tmp_path / "m"))
    with nothing.app_context(), pytest.raises(MigrateError, match="No database URL"):
        erlen_migrate.upgrade()
    alone = Erlen(__name__)
    Migrate(alone, directory=str(tmp_path / "m"))
    with alone.app_context(), pytest.raises(MigrateError, match="No database"):
        erlen_migrate.upgrade()


def test_async_driver_runs_through_run_sync(
    tmp_path: Path, make_project: MakeProject
) -> None:
    pytest.importorskip("aiosqlite")
    project = make_project(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"}
    )
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m async", "upgrade", "check")
    sync = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert "user" in sa.inspect(sync).get_table_names()
    sync.dispose()

    async def inside_a_loop() -> None:
        with app.app_context():
            erlen_migrate.downgrade(revision="base")

    asyncio.run(inside_a_loop())
    sync = sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert "user" not in sa.inspect(sync).get_table_names()
    sync.dispose()


APP_SOURCE = """
import os

import sqlalchemy as sa
from erlen import Erlen
from erlen_migrate import NAMING_CONVENTION, Migrate
from erlen_sql import SQLAlchemy

db = SQLAlchemy(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


class User(db.Model):
    id = sa.Column(sa.Integer, primary_key=True)
    if os.environ.get("WITH_EMAIL"):
        email = sa.Column(sa.String(120))


app = Erlen(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db.init_app(app)
Migrate(app, db)
"""


def test_real_command_line(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "myapp.py").write_text(textwrap.dedent(APP_SOURCE))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ERLEN_DB_DIRECTORY": str(tmp_path / "db-migrations"),
    }
    env.pop("ERLEN_APP", None)

    def erlen(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "erlen", "--app", "myapp", "db", *args],
            cwd=tmp_path,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    for args in (["init"], ["migrate", "-m", "first"], ["upgrade"]):
        done = erlen(*args)
        assert done.returncode == 0, done.stderr
    assert "Running upgrade  ->" in done.stderr
    assert (tmp_path / "db-migrations" / "versions").is_dir()

    drift = erlen("check", WITH_EMAIL="1")
    assert drift.returncode == 1
    assert "Error: The models differ" in drift.stderr
    assert "Traceback" not in drift.stderr
    assert erlen("migrate", "-m", "email", WITH_EMAIL="1").returncode == 0
    behind = erlen("current", "--check-heads", WITH_EMAIL="1")
    assert behind.returncode == 1
    assert "1 revision behind" in behind.stderr
    assert erlen("upgrade", WITH_EMAIL="1").returncode == 0
    assert erlen("check", WITH_EMAIL="1").returncode == 0
    assert erlen("current", "--check-heads", WITH_EMAIL="1").returncode == 0
    help_text = erlen("--help").stdout
    for command in (
        "branches",
        "check",
        "current",
        "downgrade",
        "edit",
        "heads",
        "history",
        "init",
        "list-templates",
        "merge",
        "migrate",
        "revision",
        "show",
        "stamp",
        "upgrade",
    ):
        assert command in help_text
