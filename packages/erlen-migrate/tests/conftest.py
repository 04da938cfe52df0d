from __future__ import annotations

import collections.abc as cabc
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from migrate_helpers import Project


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
    return t.cast(str, request.getfixturevalue("postgres_database"))


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> cabc.Iterator[Project]:
    """A project on SQLite and on PostgreSQL, migrations in ``tmp_path/migrations``."""
    result = Project(
        folder=tmp_path / "migrations",
        config={"SQLALCHEMY_DATABASE_URI": database_url},
        instance=tmp_path / "instance",
    )
    yield result
    result.dispose()


@pytest.fixture
def sqlite_project(tmp_path: Path, sqlite_url: str) -> cabc.Iterator[Project]:
    """A project on a SQLite file only."""
    result = Project(
        folder=tmp_path / "migrations",
        config={"SQLALCHEMY_DATABASE_URI": sqlite_url},
        instance=tmp_path / "instance",
    )
    yield result
    result.dispose()


# -- a throwaway PostgreSQL server ------------------------------------------------


def _unavailable(reason: str) -> t.NoReturn:
    """Skip, or fail when ``CI=true`` so that CI cannot pass by skipping."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires the PostgreSQL tests to run")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_account() -> list[str]:
    """The command prefix that runs the server as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "postgres"],
            check=True,
            timeout=30,
        )
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="session")
def postgres_server() -> cabc.Iterator[str]:
    """Start a PostgreSQL cluster on 127.0.0.1 for the session; yields its admin URL."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        _unavailable(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb);"
            " install it with 'apt-get install postgresql'"
        )
    bindir = Path(found[-1]).parent
    prefix = _server_account()
    root = Path(tempfile.mkdtemp(prefix="erlen-migrate-pg-"))
    if prefix:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    data, log, port = root / "data", root / "server.log", _free_port()
    pg_ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres"]
            + ["-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            [*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
            timeout=90,
        )
    except (OSError, subprocess.SubprocessError) as e:
        details = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(f"PostgreSQL did not start: {e} {details}".strip())
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*pg_ctl, "-m", "fast", "-w", "-t", "30", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_database(postgres_server: str) -> cabc.Iterator[str]:
    """An empty database on the session's server, dropped afterwards."""
    name = f"migrate_{os.getpid()}_{_free_port()}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
