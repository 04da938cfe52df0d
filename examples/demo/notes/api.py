"""The ``api`` blueprint: the typed JSON API of the notes, with erlen-rest.

Every endpoint declares its inputs and output with type hints and pydantic
models; erlen-rest validates them, documents them in ``/api/openapi.json``
and the Swagger UI page ``/api/docs``, and answers errors as problem details
(``application/problem+json``). Reading needs no login (hidden notes stay
hidden); writing needs ``Authorization: Bearer <token>``, a token made on the
``/auth/tokens`` page or by ``erlen api-token``. The API does not use the
CSRF check of the forms: it never accepts the session cookie for a write.
"""

from __future__ import annotations

import typing as t

import pydantic
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from erlen import Blueprint
from erlen import g
from erlen import request
from erlen import url_for
from erlen_login.tokens import load_auth_token
from erlen_rest import abort
from erlen_rest import Api

from . import live
from .models import Comment
from .models import db
from .models import Note
from .models import NOTE_ID
from .models import User
from .schemas import CommentIn
from .schemas import CommentOut
from .schemas import NoteChange
from .schemas import NoteIn
from .schemas import NoteOut
from .schemas import NotePage
from .views import visible_notes

bp = Blueprint("api", __name__, url_prefix="/api")
api = Api(
    bp,
    title="erlen notes",
    version="1.0",
    description="The team notebook as JSON. Writing needs a bearer token"
    " (make one on the account page).",
    doc="/docs",
    authorizations={"bearer": {"type": "http", "scheme": "bearer"}},
)

PerPage = t.Annotated[int, pydantic.Field(ge=1, le=50)]


@bp.before_request
def require_a_token_to_write() -> None:
    """Answer 401 to a write without a valid bearer token, before its input is read.

    Writes are never made with the session cookie, so a page of another site
    cannot make a logged-in browser write through the API.
    """
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        g.api_user = token_user()


def writer() -> User:
    """The user whose bearer token authorized this write."""
    user: User = g.api_user
    return user


def token_user() -> User:
    """Return the user of the request's bearer token, or raise 401."""
    header = request.headers.get("Authorization", "")
    user = None
    if header[:7].lower() == "bearer ":
        user = load_auth_token(header[7:].strip())
    if not isinstance(user, User):
        raise Unauthorized(
            "Send 'Authorization: Bearer <token>' with a valid token;"
            f" make one at {url_for('auth.tokens')}.",
            www_authenticate=WWWAuthenticate("bearer"),
        )
    return user


def visible_note(note_id: int, user: User | None = None) -> Note:
    """Return a note the client may see (``user``, or the current user), or 404."""
    note: Note | None = db.session.scalar(visible_notes(user).where(Note.id == note_id))
    if note is None:
        abort(404, f"There is no note {note_id}.")
    return note


def changeable_note(note_id: int, user: User) -> Note:
    """Return a note ``user`` may change (author or admin), else 404 or 403."""
    note = visible_note(note_id, user)
    if note.author_id != user.id and not user.is_admin:
        abort(403, "Only the author of a note or an admin may change it.")
    return note


@api.get("/notes", tags=["notes"])
def list_notes(per_page: PerPage = 20, cursor: str | None = None) -> NotePage:
    """List the notes, newest first, ``per_page`` at a time.

    Send the ``next`` (or ``prev``) value back as ``cursor`` to get the
    following (or previous) page; it is ``null`` at the end. Cursors are
    signed: a changed one is a 400.
    """
    page = db.keyset_paginate(
        visible_notes(),
        order_by=[Note.created.desc(), Note.id.desc()],
        cursor=cursor or None,  # an empty ?cursor= is the first page
        per_page=per_page,
        max_per_page=50,
    )
    return NotePage(
        items=[NoteOut.of(note) for note in page.items],
        next=page.next_cursor,
        prev=page.prev_cursor,
    )


@api.get(f"/notes/{NOTE_ID}", tags=["notes"])
def get_note(note_id: int) -> NoteOut:
    """Read one note (a hidden one only as its author or an admin)."""
    return NoteOut.of(visible_note(note_id))


@api.post("/notes", tags=["notes"], status_code=201, security="bearer")
def create_note(note: NoteIn) -> t.Any:
    """Write a new note."""
    user = writer()
    row = Note(title=note.title, body=note.body, author_id=user.id)
    db.session.add(row)
    db.session.commit()
    out = NoteOut.of(row)
    live.publish("note_created", out.model_dump(mode="json"))
    location = url_for("api.get_note", note_id=row.id)
    return out.model_dump(mode="json"), 201, {"Location": location}


@api.patch(f"/notes/{NOTE_ID}", tags=["notes"], security="bearer")
def update_note(note_id: int, change: NoteChange) -> NoteOut:
    """Change a note's title or body (its author or an admin)."""
    row = changeable_note(note_id, writer())
    if change.title is not None:
        row.title = change.title
    if change.body is not None:
        row.body = change.body
    db.session.commit()
    return NoteOut.of(row)


@api.delete(f"/notes/{NOTE_ID}", tags=["notes"], status_code=204, security="bearer")
def delete_note(note_id: int) -> t.Any:
    """Delete a note and its comments (its author or an admin)."""
    row = changeable_note(note_id, writer())
    db.session.delete(row)
    db.session.commit()
    return "", 204


@api.get(f"/notes/{NOTE_ID}/comments", tags=["comments"])
def list_comments(note_id: int) -> list[CommentOut]:
    """List a note's comments, oldest first."""
    return [CommentOut.of(comment) for comment in visible_note(note_id).comments]


@api.post(
    f"/notes/{NOTE_ID}/comments", tags=["comments"], status_code=201, security="bearer"
)
def create_comment(note_id: int, comment: CommentIn) -> CommentOut:
    """Comment on a note."""
    user = writer()
    note = visible_note(note_id, user)
    row = Comment(note_id=note.id, author_id=user.id, body=comment.body)
    db.session.add(row)
    db.session.commit()
    out = CommentOut.of(row)
    live.publish("comment_created", out.model_dump(mode="json"))
    return out
