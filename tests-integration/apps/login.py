"""An app using erlen-login with users in SQLite and throttling in Redis.

Served by gunicorn with 2 workers in ``test_login_gunicorn.py``: every piece
of state the workers share lives in the database or in Redis. The environment
gives ``LOGIN_DB`` (the SQLite file, made by :func:`init_db`) and
``LOGIN_REDIS_URL``.
"""

from __future__ import annotations

import os
import sqlite3
import time
import typing as t

from erlen import Erlen
from erlen import request
from erlen_login import authenticate
from erlen_login import current_user
from erlen_login import login_required
from erlen_login import login_user
from erlen_login import LoginManager
from erlen_login import logout_everywhere
from erlen_login import logout_user
from erlen_login import PasswordHasher
from erlen_login import UserMixin

#: Small Argon2id parameters: the tests check behaviour, not hashing cost.
HASHER = PasswordHasher(argon2__memory_cost=1024, argon2__rounds=1)


def _connect() -> sqlite3.Connection:
    connection = sqlite3.connect(os.environ["LOGIN_DB"], timeout=10)
    connection.row_factory = sqlite3.Row
    return connection


def init_db(path: str, users: dict[str, str]) -> None:
    """Create the database at ``path`` with ``users`` (name -> password)."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE,"
            " password_hash TEXT, session_token TEXT)"
        )
        db.execute(
            "CREATE TABLE remember (digest TEXT PRIMARY KEY, user_id INTEGER, expires REAL)"
        )
        for name, password in users.items():
            db.execute(
                "INSERT INTO users (name, password_hash, session_token) VALUES (?, ?, ?)",
                (name, HASHER.hash(password), "initial"),
            )


class User(UserMixin):
    """A row of ``users``; remember tokens live in the ``remember`` table."""

    def __init__(self, row: sqlite3.Row) -> None:
        self.id = int(row["id"])
        self.name = str(row["name"])
        self.password_hash = str(row["password_hash"])
        self.session_token = str(row["session_token"])

    def add_remember_token(self, digest: str, expires_at: float) -> None:
        with _connect() as db:
            db.execute(
                "INSERT INTO remember (digest, user_id, expires) VALUES (?, ?, ?)",
                (digest, self.id, expires_at),
            )

    def use_remember_token(self, digest: str) -> bool:
        with _connect() as db:
            row = db.execute(
                "DELETE FROM remember WHERE digest = ? AND user_id = ? RETURNING expires",
                (digest, self.id),
            ).fetchone()
        return row is not None and float(row["expires"]) > time.time()

    def clear_remember_tokens(self) -> None:
        with _connect() as db:
            db.execute("DELETE FROM remember WHERE user_id = ?", (self.id,))

    def save(self) -> None:
        with _connect() as db:
            db.execute(
                "UPDATE users SET password_hash = ?, session_token = ? WHERE id = ?",
                (self.password_hash, self.session_token, self.id),
            )


def _find(**where: t.Any) -> User | None:
    ((column, value),) = where.items()
    with _connect() as db:
        row = db.execute(f"SELECT * FROM users WHERE {column} = ?", (value,)).fetchone()
    return None if row is None else User(row)


app = Erlen(__name__)
app.config.update(
    SECRET_KEY="integration-login-secret",
    LOGIN_THROTTLE_STORE=os.environ.get("LOGIN_REDIS_URL", "memory://"),
    LOGIN_THROTTLE_LIMIT=10,
)
login_manager = LoginManager(app)
login_manager.password_hasher = HASHER


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load a user by id from SQLite."""
    try:
        return _find(id=int(user_id))
    except ValueError:
        return None


@app.get("/me")
def me() -> str:
    """Who is logged in."""
    return current_user.name if current_user.is_authenticated else "anonymous"


@app.get("/pid")
def pid() -> str:
    """Which worker process answered; ``?hold=S`` keeps it busy S seconds (at most 1)."""
    time.sleep(min(request.args.get("hold", 0.0, type=float), 1.0))
    return str(os.getpid())


@app.post("/signin")
def signin() -> t.Any:
    """Log in with ``name`` and ``password``; ``remember=1`` sets the cookie."""
    name = request.form.get("name", "")
    user = _find(name=name)
    if not authenticate(user, request.form.get("password", ""), account=name):
        return "wrong name or password", 400
    assert user is not None
    user.save()
    login_user(user, remember=request.form.get("remember") == "1")
    return "welcome"


@app.post("/everywhere")
@login_required
def everywhere() -> str:
    """Log the current user out of every other browser and device."""
    user = current_user._get_current_object()
    logout_everywhere(user, keep_current=True)
    user.save()
    return "logged out everywhere else"


@app.post("/signout")
def signout() -> str:
    """Log out of this browser."""
    logout_user()
    return "bye"
