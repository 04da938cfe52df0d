"""The everyday cycle through the real CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import typing as t

import click
import pytest
import sqlalchemy as sa
from migrate_helpers import Project
from migrate_helpers import users_v1
from migrate_helpers import users_v2


def test_init_writes_only_owned_files(sqlite_project: Project) -> None:
    app = sqlite_project.app()
    result = sqlite_project.ok(app, "init")
    folder = sqlite_project.folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "README",
        "alembic.ini",
        "script.py.mako",
        "versions",
    ]
    assert not (folder / "env.py").exists()
    assert "erlen db migrate" in result.output
    # Alembic's "Please edit ... alembic.ini before proceeding" is followed by
    # what is true here: the database comes from the app.
    assert "Nothing to edit: the database URL comes from the app's config" in (
        result.output
    )
    # The metadata has a naming convention: no tip.
    assert "naming convention" not in result.output

    again = sqlite_project.cli(app, "init")
    assert again.exit_code == 1
    assert "already exists and is not empty" in again.output


def test_init_package_multidb_and_templates(sqlite_project: Project) -> None:
    app = sqlite_project.app()
    listing = sqlite_project.ok(app, "list-templates").output
    assert "erlen - One database" in listing
    assert "erlen-multidb - Several databases" in listing

    other = sqlite_project.folder.parent / "other"
    sqlite_project.ok(app, "init", "-d", str(other), "--multidb", "--package")
    assert (other / "__init__.py").exists()
    assert (other / "versions" / "__init__.py").exists()
    assert "databases = *" in (other / "alembic.ini").read_text()

    flask_name = sqlite_project.folder.parent / "ported"
    sqlite_project.ok(app, "init", "-d", str(flask_name), "--template", "flask")
    assert (flask_name / "script.py.mako").exists()

    bad = sqlite_project.cli(app, "init", "-d", str(other) + "2", "-t", "nope")
    assert bad.exit_code == 1
    assert "No template named 'nope'" in bad.output


def test_naming_convention_tip(sqlite_project: Project) -> None:
    from erlen import Erlen
    from erlen_migrate import Migrate
    from erlen_sql import SQLAlchemy

    app = Erlen(__name__, instance_path=str(sqlite_project.instance))
    app.config.update(sqlite_project.config)
    db = SQLAlchemy()
    users_v1(db)
    db.init_app(app)
    Migrate(app, db, directory=str(sqlite_project.folder))
    sqlite_project.apps.append(app)
    result = sqlite_project.ok(app, "init")
    assert "NAMING_CONVENTION" in result.output


def test_missing_folder_is_a_clear_error(sqlite_project: Project) -> None:
    app = sqlite_project.app()
    for command in ("upgrade", "migrate", "current", "check", "history"):
        result = sqlite_project.cli(app, command)
        assert result.exit_code == 1, command
        assert "No migrations folder at" in result.output
        assert "Run 'erlen db init'" in result.output
        assert "Traceback" not in result.output


def test_read_only_commands_create_no_versions_folder(sqlite_project: Project) -> None:
    project = sqlite_project
    app = project.app()
    project.ok(app, "init")
    versions = project.folder / "versions"
    versions.rmdir()
    for command in ("heads", "current", "history", "branches", "show", "upgrade"):
        project.ok(app, command)
        assert not versions.exists(), command
    project.ok(app, "revision", "-m", "first")
    assert len(list(versions.glob("*.py"))) == 1


def test_directory_from_environment(
    sqlite_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = sqlite_project.app()
    elsewhere = sqlite_project.folder.parent / "elsewhere"
    monkeypatch.setenv("ERLEN_DB_DIRECTORY", str(elsewhere))
    sqlite_project.ok(app, "init")
    assert (elsewhere / "script.py.mako").exists()
    assert not sqlite_project.folder.exists()


def test_add_column_cycle_keeps_rows(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m 'create users'")
    [first] = project.versions()
    # New revisions are formatted by ruff (installed with the tests).
    assert re.search(r'op\.create_table\(\s*"user"', first.read_text())
    project.ok(app, "upgrade")
    assert {"user", "alembic_version"} <= project.tables(app)
    project.execute(
        app, "INSERT INTO \"user\" (id, name) VALUES (1, 'ada'), (2, 'bob')"
    )

    app2 = project.app(users_v2)
    drift = project.cli(app2, "check")
    assert drift.exit_code == 1
    assert "add_column user.email" in drift.output
    assert "erlen db migrate" in drift.output

    project.ok(app2, "migrate", "-m", "add email")
    second = next(p for p in project.versions() if "add_email" in p.name)
    source = second.read_text()
    assert 'batch_op.add_column(sa.Column("email"' in source
    assert "Revises: " + first.name.split("_")[0] in source

    behind = project.cli(app2, "current", "--check-heads")
    assert behind.exit_code == 1
    assert "is 1 revision behind" in behind.output
    assert "Run 'erlen db upgrade'" in behind.output
    also_behind = project.cli(app2, "check")
    assert also_behind.exit_code == 1
    assert "behind" in also_behind.output

    project.ok(app2, "upgrade")
    assert "email" in project.columns(app2, "user")
    project.ok(app2, "current", "--check-heads")
    assert "No new upgrade operations detected." in project.ok(app2, "check").output
    assert project.query(app2, 'SELECT id, name, email FROM "user" ORDER BY id') == [
        (1, "ada", None),
        (2, "bob", None),
    ]
    project.execute(app2, "UPDATE \"user\" SET email = 'ada@example.com' WHERE id = 1")

    project.ok(app2, "downgrade")
    assert "email" not in project.columns(app2, "user")
    assert project.query(app2, 'SELECT id, name FROM "user" ORDER BY id') == [
        (1, "ada"),
        (2, "bob"),
    ]
    project.ok(app2, "upgrade")
    assert project.query(app2, 'SELECT id, name FROM "user" ORDER BY id') == [
        (1, "ada"),
        (2, "bob"),
    ]

    project.ok(app2, "downgrade", "base")
    assert project.tables(app2) == {"alembic_version"}


def test_empty_autogenerate_writes_nothing(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one", "upgrade")
    result = project.ok(app, "migrate", "-m", "nothing")
    assert "No changes in schema detected." in result.output
    assert len(project.versions()) == 1


def test_migrate_on_a_database_behind_says_so(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one")
    result = project.cli(project.app(users_v2), "migrate", "-m", "two")
    assert result.exit_code == 1
    assert "'default' is 1 revision behind" in result.output
    assert "Run 'erlen db upgrade' first" in result.output
    assert len(project.versions()) == 1


def _name_200(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(200), nullable=False)


def _score_int(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50), nullable=False)
        score = sa.Column(sa.Integer)


def _score_bigint(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(200), nullable=False)
        score = sa.Column(sa.BigInteger)


def test_type_changes_are_detected_and_applied(project: Project) -> None:
    app = project.app(_score_int)
    project.steps(app, "init", "migrate -m one", "upgrade")
    project.execute(app, "INSERT INTO \"user\" (id, name, score) VALUES (1, 'ada', 7)")

    app2 = project.app(_score_bigint)
    project.ok(app2, "migrate", "-m", "wider")
    source = next(p for p in project.versions() if "wider" in p.name).read_text()
    assert "type_=sa.String(length=200)" in source
    assert "type_=sa.BigInteger()" in source
    project.ok(app2, "upgrade")
    columns = project.columns(app2, "user")
    assert isinstance(columns["score"], sa.BigInteger)
    if "postgresql" in project.config["SQLALCHEMY_DATABASE_URI"]:
        assert columns["name"].length == 200
    assert project.query(app2, 'SELECT name, score FROM "user"') == [("ada", 7)]
    assert "No new upgrade operations" in project.ok(app2, "check").output
    project.ok(app2, "downgrade")
    assert project.query(app2, 'SELECT name, score FROM "user"') == [("ada", 7)]


def test_offline_sql(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one")
    [first] = project.versions()
    rev = first.name.split("_")[0]

    result = project.ok(app, "upgrade", "--sql")
    assert (
        'CREATE TABLE "user"' in result.stdout or "CREATE TABLE user" in result.stdout
    )
    assert (
        f"INSERT INTO alembic_version (version_num) VALUES ('{rev}')" in result.stdout
    )
    assert "user" not in project.tables(app)

    ranged = project.ok(app, "upgrade", "--sql", f"base:{rev}")
    assert "CREATE TABLE" in ranged.stdout
    down = project.ok(app, "downgrade", "--sql", f"{rev}:base")
    assert "DROP TABLE" in down.stdout
    default_down = project.ok(app, "downgrade", "--sql")
    assert "DROP TABLE" in default_down.stdout

    no_sql = project.cli(app, "upgrade", f"base:{rev}")
    assert no_sql.exit_code == 1
    assert "needs '--sql'" in no_sql.output
    assert "user" not in project.tables(app)


def test_rename_table_and_column_with_batch_mode(sqlite_project: Project) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(app, "init", "migrate -m one", "upgrade")
    project.execute(app, "INSERT INTO \"user\" (id, name) VALUES (1, 'ada')")

    def person(db: t.Any) -> None:
        class Person(db.Model):  # type: ignore[name-defined,misc]
            __tablename__ = "person"
            id = sa.Column(sa.Integer, primary_key=True)
            full_name = sa.Column(sa.String(50), nullable=False)

    app2 = project.app(person)
    # Autogenerate cannot see renames: it proposes dropping "user" and creating
    # "person", which would lose the rows. Write the rename by hand instead.
    seen = project.cli(app2, "check")
    assert "add_table person" in seen.output and "remove_table user" in seen.output

    project.ok(app2, "revision", "-m", "rename user")
    path = next(p for p in project.versions() if "rename_user" in p.name)
    source = path.read_text()
    source = source.replace(
        "def upgrade() -> None:\n    pass",
        "def upgrade() -> None:\n"
        "    op.rename_table('user', 'person')\n"
        "    with op.batch_alter_table('person', recreate='always') as batch_op:\n"
        "        batch_op.alter_column('name', new_column_name='full_name')\n",
    ).replace(
        "def downgrade() -> None:\n    pass",
        "def downgrade() -> None:\n"
        "    with op.batch_alter_table('person', recreate='always') as batch_op:\n"
        "        batch_op.alter_column('full_name', new_column_name='name')\n"
        "    op.rename_table('person', 'user')\n",
    )
    path.write_text(source)
    project.ok(app2, "upgrade")
    assert project.query(app2, "SELECT id, full_name FROM person") == [(1, "ada")]
    assert "user" not in project.tables(app2)
    assert "No new upgrade operations" in project.ok(app2, "check").output
    project.ok(app2, "downgrade")
    assert project.query(app2, 'SELECT id, name FROM "user"') == [(1, "ada")]
    project.ok(app2, "upgrade")
    assert project.query(app2, "SELECT id, full_name FROM person") == [(1, "ada")]


def test_merge_two_heads(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(
        app, "init", "revision -m root --rev-id root", "revision -m left --rev-id left"
    )
    project.ok(
        app,
        "revision",
        "-m",
        "right",
        "--rev-id",
        "right",
        "--head",
        "root",
        "--splice",
    )
    heads = project.ok(app, "heads").output
    assert "left (head)" in heads and "right (head)" in heads
    assert "root" in project.ok(app, "branches").output

    failed = project.cli(app, "upgrade")
    assert failed.exit_code == 1
    assert "Multiple head revisions" in failed.output
    assert "erlen db merge heads" in failed.output
    failed = project.cli(app, "migrate", "-m", "more")
    assert failed.exit_code == 1
    assert "erlen db merge heads" in failed.output

    project.ok(app, "merge", "heads", "-m", "join", "--rev-id", "joined")
    assert project.ok(app, "heads").output.strip() == "joined (head)"
    project.ok(app, "upgrade")
    assert "joined (head)" in project.ok(app, "current").output
    history = project.ok(app, "history", "-i").output
    assert "(current)" in history and "left" in history
    nothing = project.cli(app, "merge")
    assert nothing.exit_code == 1
    assert "only one head" in nothing.output


def test_inspection_commands(sqlite_project: Project) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(
        app, "init", "migrate -m first --rev-id aaa", "revision -m second --rev-id bbb"
    )
    assert "Rev: bbb (head)" in project.ok(app, "show").output
    assert "Rev: aaa" in project.ok(app, "show", "aaa").output
    history = project.ok(app, "history", "-r", "aaa:", "-v").output
    assert "Rev: bbb (head)" in history
    project.ok(app, "upgrade", "aaa")
    assert "aaa" in project.ok(app, "show", "current").output
    assert project.ok(app, "current").output.strip() == "aaa"
    assert "Rev: aaa" in project.ok(app, "current", "-v").output
    assert "aaa (current)" in project.ok(app, "history", "--indicate-current").output

    project.ok(app, "stamp", "bbb")
    assert project.ok(app, "current").output.strip() == "bbb (head)"
    project.ok(app, "stamp", "--purge", "aaa")
    assert project.ok(app, "current").output.strip() == "aaa"
    stamp_sql = project.ok(app, "stamp", "--sql", "aaa:bbb").stdout
    assert "UPDATE alembic_version SET version_num='bbb'" in stamp_sql
    bad_range = project.cli(app, "history", "-r", "aaa")
    assert bad_range.exit_code == 1
    assert "[start]:[end]" in bad_range.output
    for command in (
        ["history", "-r", "aaa:bbb:"],
        ["upgrade", "--sql", "aaa:bbb:ccc"],
        ["downgrade", "--sql", "bbb:aaa:base"],
        ["stamp", "--sql", "a:b:c"],
    ):
        two_colons = project.cli(app, *command)
        assert two_colons.exit_code == 1, command
        assert "is not a revision range" in two_colons.output, command
        assert "exactly one colon" in two_colons.output
        assert "Traceback" not in two_colons.output
    unknown = project.cli(app, "upgrade", "zzz")
    assert unknown.exit_code == 1
    assert "zzz" in unknown.output


def test_database_errors_say_what_failed(project: Project) -> None:
    app = project.app(users_v1)
    project.steps(app, "init", "revision -m bad --rev-id bad")
    [path] = project.versions()
    path.write_text(
        path.read_text().replace(
            "def upgrade() -> None:\n    pass",
            "def upgrade() -> None:\n"
            "    op.execute('SELECT no_such_column FROM no_such_table')\n",
        )
    )
    result = project.cli(app, "upgrade")
    assert result.exit_code == 1
    assert "Error: The database rejected a statement: " in result.output
    assert "no_such_table" in result.output
    assert "Statement: SELECT no_such_column FROM no_such_table" in result.output
    assert "Cannot connect" not in result.output
    assert "server is running" not in result.output
    assert "Traceback" not in result.output
    raised = (
        app.test_cli_runner()
        .invoke(args=["db", "upgrade"], standalone_mode=False)
        .exception
    )
    assert isinstance(raised, click.ClickException)
    assert isinstance(raised.__cause__, sa.exc.DBAPIError)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-folder/sub/app.db",
        "postgresql+psycopg://postgres@127.0.0.1:1/nothing",
    ],
)
def test_connection_failure_says_check_the_url(
    sqlite_project: Project, url: str
) -> None:
    project = sqlite_project
    setup = project.app(users_v1)
    project.steps(setup, "init", "revision -m first --rev-id aaa")
    app = project.app(users_v1, config={"SQLALCHEMY_DATABASE_URI": url})
    result = project.cli(app, "upgrade")
    assert result.exit_code == 1
    assert "Error: Cannot connect to the database: " in result.output
    assert "Check the database URL and that the server is running." in result.output
    assert "rejected" not in result.output
    assert "Traceback" not in result.output


def test_edit_opens_the_editor(
    sqlite_project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: t.Any
) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.steps(app, "init", "revision -m first --rev-id aaa")
    log = tmp_path / "edited.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    project.ok(app, "edit")
    assert "aaa_first.py" in log.read_text()
    missing = project.cli(app, "edit", "current")
    assert missing.exit_code == 1
    assert "no revision applied" in missing.output


def test_x_arguments_reach_revisions(sqlite_project: Project) -> None:
    project = sqlite_project
    app = project.app(users_v1)
    project.ok(app, "init")
    auto = project.ok(app, "revision", "--autogenerate", "-m", "a", "--rev-id", "a")
    assert "No changes" not in auto.output
    project.ok(app, "revision", "-m", "x", "--rev-id", "xrev")
    path = next(p for p in project.versions() if p.name.startswith("xrev"))
    path.write_text(
        path.read_text().replace(
            "def upgrade() -> None:\n    pass",
            "def upgrade() -> None:\n"
            "    from alembic import context\n"
            "    args = context.get_x_argument(as_dictionary=True)\n"
            "    op.create_table(args['table'] + args['suffix'],"
            " sa.Column('id', sa.Integer, primary_key=True))\n",
        )
    )
    project.ok(app, "-x", "table=from_group", "upgrade", "-x", "suffix=_and_command")
    assert "from_group_and_command" in project.tables(app)


def _create_all(app: t.Any) -> None:
    with app.app_context():
        app.extensions["sqlalchemy"].db.create_all()


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if "INFO" not in line]


def test_tables_made_by_create_all_are_warned_about(project: Project) -> None:
    """sql.md's create_all() then migrate.md: migrate and check say what to do."""
    app = project.app(users_v1)
    _create_all(app)
    project.ok(app, "init")
    warning = (
        "Warning: the database 'default' already holds tables of the models"
        " (user) that no revision created"
    )
    result = project.ok(app, "migrate", "-m", "first")
    assert "No changes in schema detected." in result.output
    assert warning in result.output
    assert "Remove 'db.create_all()'" in result.output
    assert "'erlen db stamp head'" in result.output
    assert project.versions() == []
    checked = project.ok(app, "check")
    assert warning in checked.output

    # Following the advice: an empty database gets the first revision.
    project.execute(app, 'DROP TABLE "user"')
    written = project.ok(app, "migrate", "-m", "first")
    assert "Warning" not in written.output
    assert len(project.versions()) == 1
    # The database made by create_all() is then stamped, and the warning goes.
    _create_all(app)
    behind = project.cli(app, "check")
    assert behind.exit_code == 1
    assert warning in behind.output
    assert "1 revision behind" in behind.output
    project.ok(app, "stamp", "head")
    assert "Warning" not in project.ok(app, "check").output
    assert "Warning" not in project.ok(app, "migrate", "-m", "none").output


def _unique_name(db: t.Any) -> None:
    class User(db.Model):  # type: ignore[name-defined,misc]
        __tablename__ = "user"
        id = sa.Column(sa.Integer, primary_key=True)
        name = sa.Column(sa.String(50), nullable=False, unique=True)


def test_first_revision_on_a_table_it_does_not_create_is_one_line(
    project: Project,
) -> None:
    """create_all() without a naming convention, then NAMING_CONVENTION added."""
    from erlen import Erlen
    from erlen_migrate import Migrate
    from erlen_sql import SQLAlchemy

    before = Erlen(__name__, instance_path=str(project.instance))
    before.config.update(project.config)
    db = SQLAlchemy()  # no naming convention yet
    _unique_name(db)
    db.init_app(before)
    Migrate(before, db, directory=str(project.folder))
    project.apps.append(before)
    _create_all(before)
    project.ok(before, "init")

    app = project.app(_unique_name)  # the metadata has NAMING_CONVENTION
    written = project.ok(app, "migrate", "-m", "naming")
    assert "already holds tables of the models (user)" in written.output
    [revision] = project.versions()
    source = revision.read_text()
    assert "down_revision = None" in source
    assert "create_table" not in source

    # A fresh database: the revision alters a table that does not exist.
    project.execute(app, 'DROP TABLE "user"')
    result = project.cli(app, "upgrade")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    [error] = _errors(result.output)
    assert error.startswith(f"Error: The migration failed in {revision}, line ")
    assert "(upgrade): the table 'user' does not exist yet." in error
    assert "This first revision changes a table that no revision creates" in error
    assert "'db.create_all()'" in error
    assert "'erlen db migrate' on an empty database" in error
    assert "alembic_version" not in project.tables(app) or not project.query(
        app, "SELECT * FROM alembic_version"
    )
