"""Serve the erlen notes demo (``examples/demo``) under gunicorn for the integration tests.

The database is brought up to date (and optionally seeded) with the demo's own
``erlen db upgrade`` and ``erlen seed`` commands before gunicorn starts, as in
production: the workers themselves never migrate. Passwords are hashed with
cheap Argon2id parameters; the tests check behaviour, not hashing cost.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import typing as t
from pathlib import Path

import sqlalchemy as sa
from liveserver import Client
from liveserver import LiveServer
from liveserver import StartServer

DEMO = Path(__file__).parents[1] / "examples" / "demo"
CLI_TIMEOUT = 60.0
#: gunicorn's gthread worker with this many threads per process: each open
#: page's Socket.IO WebSocket holds one thread.
THREADS = 16
_FAST_HASHES = '{"argon2__memory_cost": 1024, "argon2__rounds": 1}'
_WORKER_BOOTED = re.compile(r"Booting worker with pid: (\d+)")
_CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
#: Server environment (``env=`` of :func:`start_demo`) that makes gunicorn log
#: which worker serves each request tagged ``X-Probe`` (``gunicorn_probe.py``).
PROBE_ENV = {
    "GUNICORN_CMD_ARGS": "--config="
    + shlex.quote(str(Path(__file__).with_name("gunicorn_probe.py")))
}
_PROBED = re.compile(r"probe (\S+) served by worker (\d+)")


def demo_env(
    database_url: str | None = None, redis_url: str | None = None
) -> dict[str, str]:
    """The environment the demo reads its configuration from (``ERLEN_*``).

    :param database_url: a database other than SQLite in the instance folder.
    :param redis_url: a Redis server for erlen-login's throttle counters and
        revoked tokens, shared by the workers (by default each counts its own).
    """
    env = {
        "ERLEN_NOTES_AUTO_UPGRADE": "false",
        "ERLEN_NOTES_PASSWORD_HASHER": _FAST_HASHES,
        "ERLEN_NOTES_PER_PAGE": "20",
    }
    if database_url is not None:
        env["ERLEN_SQLALCHEMY_DATABASE_URI"] = database_url
    if redis_url is not None:
        env["ERLEN_LOGIN_THROTTLE_STORE"] = redis_url
        env["ERLEN_NOTES_SOCKETIO_QUEUE"] = redis_url
    return env


def database_url(instance: Path, given: str | None = None) -> str:
    """The demo's database: ``given``, or its SQLite file in ``instance``."""
    return given or f"sqlite:///{instance / 'notes.db'}"


def app_spec(instance: Path) -> str:
    """The app spec for ``erlen --app`` and gunicorn: the factory with an instance folder."""
    return f"notes:create_app(instance_path={str(instance)!r})"


def run_cli(instance: Path, *args: str, database: str | None = None) -> str:
    """Run ``erlen --app notes ...`` on the demo in ``instance``; return its output."""
    done = subprocess.run(
        [sys.executable, "-m", "erlen", "--app", app_spec(instance), *args],
        cwd=DEMO,
        env={**os.environ, **demo_env(database)},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"erlen {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def start_demo(
    start: StartServer,
    instance: Path,
    *,
    workers: int = 2,
    seed: bool = False,
    database: str | None = None,
    redis: str | None = None,
    env: dict[str, str] | None = None,
) -> LiveServer:
    """Upgrade (and seed) the demo's database, then serve the demo.

    :param database: the database URL; by default SQLite in ``instance``.
    :param redis: a Redis URL for the login throttle; by default in each worker.
    :param env: more ``ERLEN_*`` configuration for the server.

    gunicorn runs the gthread worker (:data:`THREADS` threads each), as
    Socket.IO over WebSocket needs; with ``redis``, the workers also share
    Socket.IO's message queue there, so live updates reach every worker's pages.
    """
    run_cli(instance, "db", "upgrade", database=database)
    if seed:
        run_cli(instance, "seed", "--count", "25", database=database)
    server_env = {**demo_env(database, redis), **(env or {})}
    return start(
        app_spec(instance), cwd=DEMO, env=server_env, workers=workers, threads=THREADS
    )


def worker_pids(server: LiveServer) -> list[int]:
    """The pids of the workers gunicorn booted so far, in order."""
    return [int(pid) for pid in _WORKER_BOOTED.findall(server.log())]


def served_by(server: LiveServer, tag: str) -> int:
    """The pid of the worker that served the request sent with ``X-Probe: tag``.

    The server must run with :data:`PROBE_ENV`; the worker logs the tag before
    the app sees the request, so it is there once the response (or the
    WebSocket handshake) arrived.
    """
    pids = [int(pid) for seen, pid in _PROBED.findall(server.log()) if seen == tag]
    assert len(pids) == 1, f"request {tag!r} logged {len(pids)} times:\n{server.log()}"
    return pids[0]


def query(url: str, sql: str) -> list[tuple[t.Any, ...]]:
    """Run a query on the demo's database at ``url`` (SQLite or PostgreSQL)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def csrf_token(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = _CSRF_FIELD.search(html)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


def register(client: Client, name: str) -> tuple[str, str]:
    """Register ``name`` over HTTP (logged in afterwards); return (email, password)."""
    email, password = f"{name}@example.com", f"{name}-password"
    form = {"name": name, "email": email, "password": password, "confirm": password}
    reply = client.post(
        "/auth/register", form=form, headers={"Origin": client.base_url}
    )
    assert reply.status == 302, reply.text
    return email, password


def login(client: Client, email: str, password: str) -> int:
    """Log in over HTTP; return the status (302 when it worked)."""
    reply = client.post(
        "/auth/login",
        form={"email": email, "password": password},
        headers={"Origin": client.base_url},
    )
    return reply.status


def write_note(client: Client, title: str, body: str = "") -> int:
    """Post a new note as the logged-in user; return the status (302 when saved)."""
    reply = client.post(
        "/notes/new",
        form={"title": title, "body": body},
        headers={"Origin": client.base_url},
    )
    return reply.status
