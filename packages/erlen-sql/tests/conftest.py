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
import sqlalchemy.orm as sa_orm

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.model import Model

# -- base styles -----------------------------------------------------------------


def _legacy() -> type[t.Any]:
    class Base(Model):
        pass

    return Base


def _declarative() -> type[t.Any]:
    class Base(sa_orm.DeclarativeBase):
        pass

    return Base


def _declarative_dataclass() -> type[t.Any]:
    class Base(sa_orm.MappedAsDataclass, sa_orm.DeclarativeBase):
        pass

    return Base


def _no_meta() -> type[t.Any]:
    class Base(sa_orm.DeclarativeBaseNoMeta):
        pass

    return Base


def _no_meta_dataclass() -> type[t.Any]:
    class Base(sa_orm.MappedAsDataclass, sa_orm.DeclarativeBaseNoMeta):
        pass

    return Base


BASE_STYLES: dict[str, cabc.Callable[[], type[t.Any]]] = {
    "legacy": _legacy,
    "declarative": _declarative,
    "declarative-dataclass": _declarative_dataclass,
    "no-meta": _no_meta,
    "no-meta-dataclass": _no_meta_dataclass,
}


@pytest.fixture(params=list(BASE_STYLES))
def model_class(request: pytest.FixtureRequest) -> type[t.Any]:
    """A fresh base class in each of the five styles SQLAlchemy supports."""
    return BASE_STYLES[request.param]()


@pytest.fixture
def is_dataclass(model_class: type[t.Any]) -> bool:
    return issubclass(model_class, sa_orm.MappedAsDataclass)


# -- app and db ------------------------------------------------------------------


def dispose(app: Erlen) -> None:
    """Close every connection pool of the app's engines."""
    state = app.extensions.get("sqlalchemy")
    if state is not None:
        for engine in state.engines.values():
            engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> cabc.Iterator[Erlen]:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config["SECRET_KEY"] = "test secret"
    yield app
    dispose(app)


@pytest.fixture
def app_ctx(app: Erlen) -> cabc.Iterator[t.Any]:
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def db(app: Erlen) -> SQLAlchemy:
    return SQLAlchemy(app)


# -- PostgreSQL ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _skip_or_fail(reason: str) -> t.NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


def _postgres_user() -> pwd.struct_passwd | None:
    """The account to run the server as when we are root, created if needed."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "postgres"],
            check=True,
            timeout=30,
        )
        return pwd.getpwnam("postgres")


@pytest.fixture(scope="session")
def postgres_url() -> cabc.Iterator[str]:
    """Start a throwaway PostgreSQL cluster on 127.0.0.1 for the test session."""
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        _skip_or_fail(
            "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin"
            " (apt-get install postgresql)"
        )
    bindir = Path(initdbs[-1]).parent
    user = _postgres_user()
    root = Path(tempfile.mkdtemp(prefix="erlen-sql-pg-"))
    data = root / "data"
    port = _free_port()
    prefix: list[str] = []
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    try:
        subprocess.run(
            [
                *prefix,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        subprocess.run(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off"
                " -c full_page_writes=off -c synchronous_commit=off",
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )
    except (subprocess.SubprocessError, OSError) as e:
        log = root / "server.log"
        details = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        _skip_or_fail(f"could not start PostgreSQL: {e} {details}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w"]
            + ["-t", "30", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_url: str) -> cabc.Iterator[str]:
    """A fresh, empty database on the test server; yields its URL."""
    name = f"t{os.getpid()}_{_free_port()}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once for a SQLite file and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return t.cast(str, request.getfixturevalue("postgres_db"))
