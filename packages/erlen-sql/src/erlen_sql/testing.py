"""Test isolation: run a test against the real database and roll everything back.

.. code-block:: python

    from erlen_sql.testing import isolate

    def test_signup(app, client):
        with isolate(db, app):
            client.post("/signup", data={"name": "ada"})
            assert db.session.scalar(db.select(User.name)) == "ada"
        # nothing was written

While :func:`isolate` is active, every ``db.session`` of that app (the test's
and the ones the test client's requests create) runs on one connection per bind
inside a transaction that is rolled back at the end. Sessions use savepoints, so
``db.session.commit()``, ``db.session.rollback()`` and
``db.session.begin_nested()`` behave as usual inside the test. ``create_all``
and ``drop_all`` called inside also run in that transaction.

Sessions in other threads (a threaded test, requests sent from threads) are
isolated too, and take turns on the shared connections: a session of another
thread waits (``timeout``, 10 seconds by default) until the sessions of any
other such thread have ended their transactions (``commit()``, ``rollback()`` or
``close()``; a request's session closes when the request ends). The sessions of
the thread that called :func:`isolate` never wait; while other threads use the
database that thread should wait for them (``thread.join()``) rather than use
it too. Code that opens its own connections with ``db.engine.connect()`` and
async sessions are not isolated.

For pytest, ``erlen_sql.pytest_plugin`` wraps this in an ``isolated_db`` fixture.

:func:`postgresql_server` starts a throwaway PostgreSQL server for a test run,
and :func:`postgresql_database` creates an empty database on a server for one
test; the plugin offers them as the ``postgresql_url`` and
``postgresql_database_url`` fixtures.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import typing as t
import uuid
from pathlib import Path

import sqlalchemy as sa

from erlen import has_app_context
from erlen.ext import get_app

from .session import IsolationGate

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

    from .extension import SQLAlchemy

__all__ = [
    "PostgreSQLServer",
    "PostgreSQLUnavailable",
    "isolate",
    "postgresql_database",
    "postgresql_server",
]

_MISSING = object()


def _begin(connection: sa.engine.Connection) -> sa.engine.Transaction:
    """Begin a transaction that really started on the server.

    The stdlib ``sqlite3`` driver delays ``BEGIN`` until the first write, and a
    ``SAVEPOINT`` outside a transaction would commit on release, so a ``BEGIN``
    is sent when the driver has not started one.
    """
    transaction = connection.begin()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        if getattr(raw, "in_transaction", True) is False:
            connection.exec_driver_sql("BEGIN")
    return transaction


@contextlib.contextmanager
def isolate(
    db: SQLAlchemy, app: Erlen | None = None, *, timeout: float = 10.0
) -> cabc.Iterator[SQLAlchemy]:
    """Route ``app``'s sessions through one rolled-back transaction per bind.

    Sessions of other threads (requests sent from threads) are isolated too:
    they take turns on the connections, see the module documentation.

    :param db: the extension.
    :param app: the app; the current app when omitted.
    :param timeout: seconds a session of another thread waits for its turn
        before raising :exc:`RuntimeError`.
    """
    app = get_app(app, purpose="isolate the database")
    state = db.get_state(app)
    if state.isolation is not None:
        raise RuntimeError(
            "Database isolation is already active for this app; 'isolate' cannot"
            " be nested. Use 'db.session.begin_nested()' for an inner rollback."
        )
    factory = db.session.session_factory
    connections: dict[str | None, sa.engine.Connection] = {}
    transactions: list[sa.engine.Transaction] = []
    previous_mode = factory.kw.get("join_transaction_mode", _MISSING)
    _remove_current_session(db)
    try:
        for key, engine in state.engines.items():
            connection = engine.connect()
            connections[key] = connection
            transactions.append(_begin(connection))
        factory.kw["join_transaction_mode"] = "create_savepoint"
        state.isolation_gate = IsolationGate(timeout)
        state.isolation = connections
        yield db
    finally:
        _remove_current_session(db)
        state.isolation = None
        state.isolation_gate = None
        if previous_mode is _MISSING:
            factory.kw.pop("join_transaction_mode", None)
        else:
            factory.kw["join_transaction_mode"] = previous_mode
        for transaction in transactions:
            if transaction.is_active:
                transaction.rollback()
        for connection in connections.values():
            connection.close()


def _remove_current_session(db: SQLAlchemy) -> None:
    """Close the session of the active app context, which may hold a connection."""
    if has_app_context():
        db.session.remove()


# -- a throwaway PostgreSQL server ------------------------------------------------

#: Where Debian and Ubuntu install the server programs, one folder per version.
_DEBIAN_BINDIRS = Path("/usr/lib/postgresql")


class PostgreSQLUnavailable(RuntimeError):
    """PostgreSQL could not be started: its programs are missing or failed to start.

    The message says which, with the server's log when there is one.
    """


@dataclasses.dataclass(frozen=True)
class PostgreSQLServer:
    """A running server started by :func:`postgresql_server`.

    It listens on ``host``:``port`` and trusts every connection (no password),
    with the superuser ``postgres`` and the database ``postgres``.
    """

    #: SQLAlchemy URL of the ``postgres`` database, e.g.
    #: ``postgresql+psycopg://postgres@127.0.0.1:54321/postgres``.
    url: str
    host: str
    port: int
    #: The folder holding the data directory, the log and the socket; removed at
    #: the end.
    directory: Path

    @property
    def log(self) -> str:
        """The server's log so far, to help explain a failing test."""
        try:
            return (self.directory / "server.log").read_text(errors="replace")
        except OSError:
            return ""


def _find_bindir(bindir: str | os.PathLike[str] | None) -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: given, Debian's newest, or on PATH."""
    if bindir is not None:
        candidates = [Path(bindir)]
    else:
        versions = sorted(
            (p for p in _DEBIAN_BINDIRS.glob("*/bin") if (p / "initdb").exists()),
            key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)],
        )
        candidates = versions[::-1]
        on_path = shutil.which("initdb")
        if on_path is not None:
            candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    if bindir is not None:
        raise PostgreSQLUnavailable(
            f"No 'initdb' and 'pg_ctl' in {os.fspath(bindir)!r}. Pass the 'bin'"
            " folder of a PostgreSQL server installation."
        )
    raise PostgreSQLUnavailable(
        "The PostgreSQL server programs were not found (no"
        f" {_DEBIAN_BINDIRS}/*/bin/initdb, no 'initdb' on PATH). Install the"
        " server, e.g. 'apt-get install postgresql' on Debian or Ubuntu."
    )


def _run_as() -> tuple[list[str], int | None, int | None]:
    """The command prefix, uid and gid for the server: ``postgres`` when we are root.

    PostgreSQL refuses to run as root.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return [], None, None
    import pwd

    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgreSQLUnavailable(
            "PostgreSQL refuses to run as root and there is no 'postgres' account"
            " to run it as. Create one ('useradd --system postgres') or run the"
            " tests as an unprivileged user."
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgreSQLUnavailable(
            "PostgreSQL refuses to run as root and 'runuser' (util-linux) was not"
            " found to start it as 'postgres'. Run the tests as an unprivileged user."
        )
    return [runuser, "-u", "postgres", "--"], account.pw_uid, account.pw_gid


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _output(error: BaseException) -> str:
    """What a failed program printed, for an error message."""
    parts = [str(error)]
    for stream in (getattr(error, "stdout", None), getattr(error, "stderr", None)):
        if isinstance(stream, bytes):
            stream = stream.decode(errors="replace")
        if stream:
            parts.append(stream.strip())
    return "\n".join(parts)


def _stop(pg_ctl: list[str], data: Path, timeout: float) -> None:
    """Stop the server in ``data``, escalating to SIGKILL; never raises.

    The process is killed only when ``/proc`` shows it is this cluster's server,
    so a stale pid file cannot hit an unrelated process.
    """
    for mode in ("fast", "immediate"):
        try:
            done = subprocess.run(
                [*pg_ctl, "stop", "-D", str(data), "-m", mode, "-w"]
                + ["-t", str(int(timeout))],
                capture_output=True,
                timeout=timeout + 15,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return
        if not (data / "postmaster.pid").exists():
            return
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        if os.fsencode(str(data)) in command:
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


@contextlib.contextmanager
def postgresql_server(
    *,
    driver: str = "psycopg",
    bindir: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
) -> cabc.Iterator[PostgreSQLServer]:
    """Start a throwaway PostgreSQL server on 127.0.0.1; stop and delete it after.

    .. code-block:: python

        with postgresql_server() as server:
            engine = sa.create_engine(server.url)

    The cluster lives in a new temporary folder, uses ``trust`` authentication,
    the ``C`` locale and UTF-8, and skips fsync (its data is thrown away). When
    the process runs as root the server runs as the ``postgres`` account, which
    must exist. Each step (create the cluster, start, stop) is bounded by
    ``timeout``; if stopping fails the server is killed, and the folder is
    removed in any case.

    :param driver: the SQLAlchemy driver name in :attr:`PostgreSQLServer.url`,
        e.g. ``"psycopg2"`` or ``"asyncpg"``. It is not needed to start the server.
    :param bindir: the folder holding ``initdb`` and ``pg_ctl``. By default the
        newest ``/usr/lib/postgresql/<version>/bin`` (Debian, Ubuntu), else the
        folder of ``initdb`` on ``PATH``.
    :param timeout: seconds each step may take.
    :raise PostgreSQLUnavailable: the programs are missing or the server did not
        start; the message includes their output.
    """
    programs = _find_bindir(bindir)
    prefix, uid, gid = _run_as()
    host = "127.0.0.1"
    root = Path(tempfile.mkdtemp(prefix="erlen-sql-pg-"))
    data = root / "data"
    log = root / "server.log"
    pg_ctl = [*prefix, str(programs / "pg_ctl")]
    started = False
    try:
        if uid is not None and gid is not None:
            os.chown(root, uid, gid)
        subprocess.run(
            [*prefix, str(programs / "initdb"), "-D", str(data), "-U", "postgres"]
            + ["-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        port = _free_port(host)
        options = (
            f"-h {host} -p {port} -k {shlex.quote(str(root))} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off"
        )
        started = True
        subprocess.run(
            [*pg_ctl, "start", "-D", str(data), "-l", str(log), "-o", options]
            + ["-w", "-t", str(int(timeout))],
            check=True,
            capture_output=True,
            timeout=timeout + 15,
        )
    except (OSError, subprocess.SubprocessError) as e:
        details = _output(e)
        if log.exists():
            details += "\n" + log.read_text(errors="replace")[-4000:]
        if started:
            _stop(pg_ctl, data, timeout)
        shutil.rmtree(root, ignore_errors=True)
        raise PostgreSQLUnavailable(
            f"PostgreSQL (from {programs}) did not start:\n{details.strip()}"
        ) from None
    try:
        yield PostgreSQLServer(
            url=f"postgresql+{driver}://postgres@{host}:{port}/postgres",
            host=host,
            port=port,
            directory=root,
        )
    finally:
        _stop(pg_ctl, data, timeout)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgresql_database(
    url: str | sa.URL, name: str | None = None
) -> cabc.Iterator[str]:
    """Create an empty database on the server at ``url``; drop it after the block.

    .. code-block:: python

        with postgresql_server() as server, postgresql_database(server.url) as url:
            app.config["SQLALCHEMY_DATABASE_URI"] = url

    Yields the new database's URL (``url`` with the database name replaced). The
    user in ``url`` needs the ``CREATEDB`` privilege. Dropping ends the
    connections still open to it (PostgreSQL 13 or newer).

    :param url: a URL of any database on the server, used to run ``CREATE`` and
        ``DROP DATABASE``.
    :param name: the database name; a unique ``test_...`` name by default.
    """
    name = name or f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
        try:
            yield admin.url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        admin.dispose()
