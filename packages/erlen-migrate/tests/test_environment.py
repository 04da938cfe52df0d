"""Alembic's own commands through erlen's config, and the traps of issue 11."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import alembic.command
import pytest
import sqlalchemy as sa
from migrate_helpers import MakeProject
from migrate_helpers import Project
from migrate_helpers import users_v1

import erlen_migrate
from erlen import Erlen
from erlen_migrate import Migrate


def test_alembic_commands_take_erlen_config(sqlite_project: Project) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one")
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        location = config.get_main_option("script_location")
        assert location is not None and location.endswith("alembic_env")
        assert config.get_main_option("version_locations") == str(
            project.folder.resolve() / "versions"
        )
        alembic.command.upgrade(config, "head")
    assert "user" in project.tables(app)


def test_no_private_alembic_name() -> None:
    """The package reaches Alembic through its public API only."""
    private = re.compile(
        r"\b(?:alembic|command|config|context|env|script|sc|autogen|migration_context"
        r"|revision_context|util)\._[a-z]"
    )
    package = Path(erlen_migrate.__file__).parent
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert found == []


PROJECT_ENV = """
from alembic import context
from erlen import current_app

state = current_app.extensions["migrate"]
print("project env.py ran")
with state.db.engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=state.db.metadata,
        **state.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
"""


def test_a_project_env_py_is_used(sqlite_project: Project) -> None:
    """A folder from Flask-Migrate keeps its own env.py (imports changed to erlen)."""
    project = sqlite_project
    app = project.app(users_v1)
    project.ok(app, "init")
    (project.folder / "env.py").write_text(PROJECT_ENV)
    assert "project env.py ran" in project.ok(app, "migrate", "-m", "one").output
    assert "project env.py ran" in project.ok(app, "upgrade").output
    assert "user" in project.tables(app)


FLASK_MIGRATE_MULTIDB_REVISION = '''"""users

Revision ID: fm0001
Revises:
Create Date: 2024-01-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = "fm0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade(engine_name=""):
    globals()["upgrade_%s" % engine_name]()


def downgrade(engine_name=""):
    globals()["downgrade_%s" % engine_name]()


def upgrade_():
    op.create_table("user", sa.Column("id", sa.Integer, primary_key=True))


def downgrade_():
    op.drop_table("user")
'''


def _user_and_extra(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)

    class Extra(db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "extra"
        __tablename__ = "extra_item"
        id = sa.Column(sa.Integer, primary_key=True)


def _only_user(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)


def test_flask_migrate_multidb_revision_and_a_new_bind(
    tmp_path: Path, make_project: MakeProject, database_url: str
) -> None:
    """Flask-Migrate's multidb revisions run unchanged, also on a bind added later."""
    project = make_project(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'main.db'}"}
    )
    (project.folder / "versions").mkdir(parents=True)
    (project.folder / "alembic.ini").write_text("[alembic]\ndatabases = *\n")
    (project.folder / "versions" / "fm0001_users.py").write_text(
        FLASK_MIGRATE_MULTIDB_REVISION
    )
    app = project.app(_only_user)
    project.ok(app, "upgrade")
    assert "user" in project.tables(app)

    project.config["SQLALCHEMY_BINDS"] = {"extra": database_url}
    app2 = project.app(_user_and_extra)
    result = project.ok(app2, "upgrade")
    assert "KeyError" not in result.output
    assert project.query(app2, "SELECT version_num FROM alembic_version", "extra")
    assert "user" not in project.tables(app2, "extra")
    project.ok(app2, "migrate", "-m", "extra")
    source = next(p for p in project.versions() if "extra" in p.name).read_text()
    assert "def upgrade_extra() -> None:" in source
    project.ok(app2, "upgrade")
    assert "extra_item" in project.tables(app2, "extra")
    project.ok(app2, "downgrade", "base")
    assert "extra_item" not in project.tables(app2, "extra")
    assert "user" not in project.tables(app2)


def _user_and_audit(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)

    class Entry(db.Model):  # type: ignore[name-defined,misc]
        __bind_key__ = "audit"
        __tablename__ = "entry"
        id = sa.Column(sa.Integer, primary_key=True)


def test_several_databases_are_all_or_nothing(
    tmp_path: Path, make_project: MakeProject, database_url: str
) -> None:
    project = make_project(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_BINDS": {"audit": f"sqlite:///{tmp_path / 'audit.db'}"},
        }
    )
    app = project.app(_user_and_audit)
    project.steps(app, "init --multidb", "revision -m bad --rev-id bad")
    [path] = project.versions()
    source = path.read_text()
    source = source.replace(
        "def upgrade_() -> None:\n    pass",
        "def upgrade_() -> None:\n"
        "    op.create_table('t1', sa.Column('id', sa.Integer, primary_key=True))",
    ).replace(
        "def upgrade_audit() -> None:\n    pass",
        "def upgrade_audit() -> None:\n"
        "    op.execute('SELECT no_such_column FROM no_such_table')",
    )
    path.write_text(source)
    result = project.cli(app, "upgrade")
    assert result.exit_code == 1
    assert "Migrating database default" in result.output
    assert "Migrating database audit" in result.output
    assert "The database 'audit' rejected a statement" in result.output
    assert "Traceback" not in result.output
    # The default database ran its step, then rolled back with audit's.
    assert "t1" not in project.tables(app)
    if "alembic_version" in project.tables(app):
        assert project.query(app, "SELECT * FROM alembic_version") == []


def test_errors_are_one_line(sqlite_project: Project, tmp_path: Path) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.ok(app, "init")
    ini = project.folder / "alembic.ini"
    ini.write_text(ini.read_text() + "\n[alembic]\ndatabases = *\n")
    broken = project.cli(app, "current")
    assert broken.exit_code == 1
    assert "Error: Cannot read" in broken.output
    assert "Fix the file" in broken.output
    assert "Traceback" not in broken.output
    ini.unlink()

    metadata = sa.MetaData()
    other = Erlen(__name__)
    Migrate(
        other,
        metadata,
        directory=str(project.folder),
        engines={None: "mysql+mysqldb://user@127.0.0.1:1/nothing"},
    )
    missing = other.test_cli_runner().invoke(args=["db", "upgrade"])
    assert missing.exit_code == 1
    assert "Cannot import 'MySQLdb'" in missing.output
    assert "database driver" in missing.output


def test_missing_greenlet_is_one_line(tmp_path: Path) -> None:
    """An async URL without greenlet (not installed by SQLAlchemy 2.1) is one line."""
    pytest.importorskip("aiosqlite")
    (tmp_path / "asyncapp.py").write_text(
        "import sqlalchemy as sa\n"
        "from erlen import Erlen\n"
        "from erlen_migrate import Migrate\n"
        "app = Erlen(__name__)\n"
        "Migrate(app, sa.MetaData(),"
        " engines={None: 'sqlite+aiosqlite:///app.db'})\n"
    )
    block = (
        "import sys; sys.modules['greenlet'] = None; from erlen.cli import main; main()"
    )
    env = {**os.environ, "ERLEN_APP": "asyncapp"}
    for args in (["db", "init"], ["db", "current"]):
        result = subprocess.run(
            [sys.executable, "-c", block, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    assert "greenlet" in result.stderr
    assert "pip install" in result.stderr


def test_unreachable_psycopg_is_one_line(sqlite_project: Project) -> None:
    """psycopg's refusal spans two lines ("Is the server running ..."); one is shown."""
    pytest.importorskip("psycopg")
    project = sqlite_project
    app = project.app(users_v1)
    project.ok(app, "init")
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing"
    bad = project.app(users_v1, config={"SQLALCHEMY_DATABASE_URI": url})
    result = project.cli(bad, "upgrade")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if "INFO" not in line]
    assert len(errors) == 1, result.output
    assert errors[0].startswith("Error: Cannot connect to the database: ")
    assert errors[0].endswith("Check the database URL and that the server is running.")


def test_revision_with_a_syntax_error_is_one_line(sqlite_project: Project) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one")
    (revision,) = (project.folder / "versions").glob("*_one.py")
    revision.write_text(revision.read_text() + "\ndef broken(:\n")
    for command in ("history", "upgrade"):
        result = project.cli(app, command)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        errors = [line for line in result.output.splitlines() if "INFO" not in line]
        assert errors == [
            f"Error: Cannot load the revision file {revision}: invalid syntax"
            f" (line {len(revision.read_text().splitlines())}). Fix the file."
        ]
    assert "user" not in project.tables(app)


def test_revision_that_raises_is_one_line(sqlite_project: Project) -> None:
    """An exception in a revision's code names the file, line and function."""
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(app, "init", "revision -m one")
    (revision,) = (project.folder / "versions").glob("*_one.py")
    source = revision.read_text().replace(
        "def upgrade() -> None:\n", "def upgrade() -> None:\n    {}['missing']\n", 1
    )
    revision.write_text(source)
    line = source.splitlines().index("    {}['missing']") + 1
    result = project.cli(app, "upgrade")
    assert result.exit_code == 1
    errors = [x for x in result.output.splitlines() if "INFO" not in x]
    assert errors == [
        f"Error: The migration failed in {revision}, line {line} (upgrade):"
        " KeyError: 'missing'"
    ]
    assert project.query(app, "SELECT * FROM alembic_version") == []


def test_unreachable_asyncpg_is_one_line(sqlite_project: Project) -> None:
    pytest.importorskip("asyncpg")
    project = sqlite_project
    app = project.app(users_v1)
    project.ok(app, "init")
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    bad = project.app(users_v1, config={"SQLALCHEMY_DATABASE_URI": url})
    result = project.cli(bad, "upgrade")
    assert result.exit_code == 1
    assert "Error: Cannot connect to the database: " in result.output
    assert "Check the database URL" in result.output
    assert "Traceback" not in result.output


def _no_models(db: t.Any) -> None:
    """An app whose model modules were not imported."""


def test_refuses_a_revision_that_drops_every_table(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one", "upgrade")
    empty = project.app(_no_models)
    refused = project.cli(empty, "migrate", "-m", "oops")
    assert refused.exit_code == 1
    assert "would drop every table of database 'default' (user)" in refused.output
    assert "--allow-drop-all" in refused.output
    assert len(project.versions()) == 1
    project.ok(empty, "migrate", "-m", "on purpose", "--allow-drop-all")
    assert len(project.versions()) == 2


def test_check_names_the_binds_it_skipped(
    tmp_path: Path, make_project: MakeProject
) -> None:
    project = make_project(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'main.db'}",
            "SQLALCHEMY_BINDS": {"audit": f"sqlite:///{tmp_path / 'audit.db'}"},
        }
    )
    app = project.app(_user_and_audit)
    project.steps(app, "init", "migrate -m one", "upgrade")
    result = project.ok(app, "check")
    assert "Not checked: database 'audit'" in result.output
    assert "databases = *" in result.output
    everything = project.cli(app, "check", "--bind", "default", "--bind", "audit")
    assert everything.exit_code == 1
    assert "'audit' is 1 revision behind" in everything.output


def test_database_options_replace_env_py_edits(project: Project) -> None:
    app = project.app(users_v1)
    migrate = app.extensions["migrate"].migrate
    postgres = "postgresql" in project.config["SQLALCHEMY_DATABASE_URI"]
    seen: list[tuple[str, bool]] = []

    def not_legacy(name: str | None, type_: str, parent: t.Any) -> bool:
        return not (type_ == "table" and name == "legacy")

    @migrate.database_options
    def options(
        database: erlen_migrate.Database, connection: sa.engine.Connection | None
    ) -> dict[str, t.Any]:
        seen.append((database.label, connection is not None))
        if connection is not None and postgres:
            connection.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS app")
            connection.exec_driver_sql("SET search_path TO app")
        return {"include_name": not_legacy, "compare_server_default": True}

    project.execute(app, "CREATE TABLE legacy (id INTEGER PRIMARY KEY)")
    project.steps(app, "init", "migrate -m one")
    [first] = project.versions()
    assert "legacy" not in first.read_text()
    project.ok(app, "upgrade")
    assert ("default", True) in seen
    if postgres:
        app_tables = sa.inspect(project.engine(app)).get_table_names(schema="app")
        assert "user" in app_tables
    else:
        assert "user" in project.tables(app)
    offline = project.ok(app, "upgrade", "--sql", "base:head")
    assert "CREATE TABLE" in offline.stdout
    assert ("default", False) in seen


def test_new_revisions_are_formatted_with_ruff(sqlite_project: Project) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ruff must be installed in CI (tests dependency group)")
        pytest.skip("ruff is not installed")
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one")
    [path] = project.versions()
    assert 'op.create_table(\n        "user",' in path.read_text()
    done = subprocess.run(
        [ruff, "format", "--check", str(path)], capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stdout

    (project.folder / "alembic.ini").write_text(
        textwrap.dedent(
            """
            [alembic]

            [post_write_hooks]
            hooks =
            """
        )
    )
    project.ok(app, "revision", "-m", "two", "--rev-id", "two")
    assert "'two'" in (project.folder / "versions" / "two_two.py").read_text()


def test_autocommit_block_with_one_database(project: Project) -> None:
    """One database runs like Alembic's env.py: autocommit_block() works."""
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one", "revision -m index --rev-id index")
    path = project.folder / "versions" / "index_index.py"
    concurrently = "CONCURRENTLY " if "postgresql" in str(project.config) else ""
    path.write_text(
        path.read_text().replace(
            "def upgrade() -> None:\n    pass",
            "def upgrade() -> None:\n"
            "    with op.get_context().autocommit_block():\n"
            f"        op.execute('CREATE INDEX {concurrently}ix_name ON \"user\" (name)')",
        )
    )
    project.ok(app, "upgrade")
    indexes = sa.inspect(project.engine(app)).get_indexes("user")
    assert [i["name"] for i in indexes] == ["ix_name"]
    assert project.ok(app, "current").output.strip() == "index (head)"


def test_async_and_sync_databases_together(
    tmp_path: Path, make_project: MakeProject
) -> None:
    """An async default database and a sync bind share one all-or-nothing run."""
    pytest.importorskip("aiosqlite")
    project = make_project(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite+aiosqlite:///{tmp_path / 'main.db'}",
            "SQLALCHEMY_BINDS": {"audit": f"sqlite:///{tmp_path / 'audit.db'}"},
        }
    )
    app = project.app(_user_and_audit)
    project.steps(app, "init --multidb", "migrate -m both", "upgrade")
    main = sa.create_engine(f"sqlite:///{tmp_path / 'main.db'}")
    assert "user" in sa.inspect(main).get_table_names()
    assert "entry" in project.tables(app, "audit")
    project.ok(app, "revision", "-m", "bad", "--rev-id", "bad")
    path = project.folder / "versions" / "bad_bad.py"
    path.write_text(
        path.read_text()
        .replace(
            "def upgrade_() -> None:\n    pass",
            "def upgrade_() -> None:\n    op.execute('DROP TABLE \"user\"')",
        )
        .replace(
            "def upgrade_audit() -> None:\n    pass",
            "def upgrade_audit() -> None:\n    op.execute('SELECT nothing FROM nowhere')",
        )
    )
    failed = project.cli(app, "upgrade")
    assert failed.exit_code == 1
    assert "The database 'audit' rejected a statement" in failed.output
    assert "user" in sa.inspect(main).get_table_names()
    main.dispose()
