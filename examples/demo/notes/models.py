"""The database: the erlen-sql and erlen-migrate extensions and the models.

``User`` (with erlen-login's ``UserMixin``), ``Note`` (an entry of the notebook)
and ``Comment``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import MappedAsDataclass
from sqlalchemy.orm import relationship

from erlen_login import UserMixin
from erlen_migrate import Migrate
from erlen_migrate import NAMING_CONVENTION
from erlen_sql import SQLAlchemy

TITLE_MAX = 200
BODY_MAX = 10_000
COMMENT_MAX = 2_000
NAME_MAX = 50
EMAIL_MAX = 254

#: The URL part that matches a note's id: a positive integer small enough for a
#: 64-bit column, so a huge number in the address is a 404, not a database error.
NOTE_ID = "<int(min=1, max=9223372036854775807):note_id>"
COMMENT_ID = "<int(min=1, max=9223372036854775807):comment_id>"


def utcnow() -> dt.datetime:
    """Return the current time in UTC, without a time zone (SQLite keeps none)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(MappedAsDataclass, DeclarativeBase):
    """The typed base of every model; the naming convention lets Alembic name constraints."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class User(Base, UserMixin, eq=False):
    """A member of the team: erlen-login reads the password hash and the tokens."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    email: Mapped[str] = mapped_column(sa.String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), default=None)
    #: Bound into every session, remember-me cookie and token: changing it
    #: (``logout_everywhere``, a new password) ends them all.
    session_token: Mapped[str] = mapped_column(sa.String(64), default="")
    #: The remember-me tokens of this user's browsers: SHA-256 digest -> expiry.
    remember_tokens: Mapped[dict[str, float]] = mapped_column(
        sa.JSON, default_factory=dict
    )
    is_admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created: Mapped[dt.datetime] = mapped_column(default_factory=utcnow, init=False)

    @property
    def roles(self) -> list[str]:
        """The user's roles for ``roles_required``: ``["admin"]`` or none."""
        return ["admin"] if self.is_admin else []


class Note(Base):
    """An entry of the notebook: a title, a text, its author, and whether it is hidden."""

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), default=None, index=True
    )
    #: Hidden by an admin: only its author and the admins see it.
    hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created: Mapped[dt.datetime] = mapped_column(
        default_factory=utcnow, index=True, init=False
    )
    updated: Mapped[dt.datetime] = mapped_column(
        default_factory=utcnow, onupdate=utcnow, init=False
    )
    author: Mapped[User | None] = relationship(default=None, lazy="joined")
    comments: Mapped[list[Comment]] = relationship(
        default_factory=list,
        cascade="all, delete-orphan",
        order_by="Comment.id",
        passive_deletes=True,
    )

    def to_dict(self) -> dict[str, t.Any]:
        """Return the note as JSON-ready data, with ISO 8601 UTC timestamps."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author": self.author.name if self.author else None,
            "created": self.created.isoformat() + "Z",
            "updated": self.updated.isoformat() + "Z",
        }


class Comment(Base):
    """A comment on a note, by a member of the team."""

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    note_id: Mapped[int] = mapped_column(
        sa.ForeignKey("note.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)
    created: Mapped[dt.datetime] = mapped_column(default_factory=utcnow, init=False)
    author: Mapped[User | None] = relationship(default=None, lazy="joined")


def tune_sqlite(engine: sa.Engine) -> None:
    """Make a SQLite engine fit for several processes; other databases are left alone.

    Every connection gets WAL (readers do not block the writer), a busy
    timeout and foreign keys; every transaction takes the write lock when it
    starts (``BEGIN IMMEDIATE``): a deferred transaction that reads and then
    writes fails at once with "database is locked" when another process wrote
    in between, while an immediate one waits for its turn.
    """
    if engine.dialect.name != "sqlite":
        return
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    sa.event.listen(engine, "begin", _sqlite_begin)


def _sqlite_pragmas(dbapi_connection: t.Any, connection_record: t.Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Transactions are begun by _sqlite_begin below, not by the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
