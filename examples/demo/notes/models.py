"""The database: the erlen-sql and erlen-migrate extensions and the ``Note`` model."""

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import MappedAsDataclass

from erlen_migrate import Migrate
from erlen_migrate import NAMING_CONVENTION
from erlen_sql import SQLAlchemy

TITLE_MAX = 200
BODY_MAX = 10_000

#: The URL part that matches a note's id: a positive integer small enough for a
#: 64-bit column, so a huge number in the address is a 404, not a database error.
NOTE_ID = "<int(min=1, max=9223372036854775807):note_id>"


def utcnow() -> dt.datetime:
    """Return the current time in UTC, without a time zone (SQLite keeps none)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(MappedAsDataclass, DeclarativeBase):
    """The typed base of every model; the naming convention lets Alembic name constraints."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class Note(Base):
    """A note: a title, a text, and when it was written and last changed."""

    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    created: Mapped[dt.datetime] = mapped_column(
        default_factory=utcnow, index=True, init=False
    )
    updated: Mapped[dt.datetime] = mapped_column(
        default_factory=utcnow, onupdate=utcnow, init=False
    )

    def to_dict(self) -> dict[str, t.Any]:
        """Return the note as JSON-ready data, with ISO 8601 UTC timestamps."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "created": self.created.isoformat() + "Z",
            "updated": self.updated.isoformat() + "Z",
        }
