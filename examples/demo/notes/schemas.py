"""The pydantic models of the JSON API: what clients send and what they get back.

The live updates (``notes.live``) publish the same shapes.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import pydantic

from .models import BODY_MAX
from .models import Comment
from .models import COMMENT_MAX
from .models import Note
from .models import TITLE_MAX

Title = t.Annotated[
    str,
    pydantic.StringConstraints(
        strip_whitespace=True, min_length=1, max_length=TITLE_MAX
    ),
]
Body = t.Annotated[str, pydantic.StringConstraints(max_length=BODY_MAX)]
CommentBody = t.Annotated[
    str,
    pydantic.StringConstraints(
        strip_whitespace=True, min_length=1, max_length=COMMENT_MAX
    ),
]


def _utc(value: dt.datetime) -> dt.datetime:
    """The database keeps UTC without a zone: say so (JSON shows ``...Z``)."""
    return value.replace(tzinfo=dt.timezone.utc)


class NoteIn(pydantic.BaseModel):
    """A new note."""

    model_config = pydantic.ConfigDict(extra="forbid")
    title: Title
    body: Body = ""


class NoteChange(pydantic.BaseModel):
    """A change to a note: the fields sent are replaced."""

    model_config = pydantic.ConfigDict(extra="forbid")
    title: Title | None = None
    body: Body | None = None


class NoteOut(pydantic.BaseModel):
    """A note as the API shows it."""

    id: int
    title: str
    body: str
    author: str | None
    hidden: bool
    comments: int
    created: dt.datetime
    updated: dt.datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        """Build the API's view of a stored note."""
        return cls(
            id=note.id,
            title=note.title,
            body=note.body,
            author=note.author.name if note.author else None,
            hidden=note.hidden,
            comments=len(note.comments),
            created=_utc(note.created),
            updated=_utc(note.updated),
        )


class NotePage(pydantic.BaseModel):
    """One page of notes, newest first; send ``next`` back as ``?cursor=``."""

    items: list[NoteOut]
    next: str | None
    prev: str | None


class CommentIn(pydantic.BaseModel):
    """A new comment."""

    model_config = pydantic.ConfigDict(extra="forbid")
    body: CommentBody


class CommentOut(pydantic.BaseModel):
    """A comment as the API shows it."""

    id: int
    note_id: int
    author: str | None
    body: str
    created: dt.datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        """Build the API's view of a stored comment."""
        return cls(
            id=comment.id,
            note_id=comment.note_id,
            author=comment.author.name if comment.author else None,
            body=comment.body,
            created=_utc(comment.created),
        )
