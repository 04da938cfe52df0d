"""The ``api`` blueprint: the notes as JSON, with keyset (cursor) pagination.

A plain JSON blueprint for now; the typed API with its OpenAPI page (erlen-rest)
and bearer tokens will replace it (see "Not yet" in CHANGES.md).
"""

from __future__ import annotations

import typing as t

from erlen import Blueprint

from .models import db
from .models import Note
from .models import NOTE_ID
from .views import get_note_or_404
from .views import visible_notes

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/notes")
def list_notes() -> dict[str, t.Any]:
    """List the notes, newest first: ``?per_page=`` (at most 50) and ``?cursor=``.

    Send the ``next`` (or ``prev``) value back as ``cursor`` to get the
    following (or previous) page; it is ``null`` at the end. Cursors are signed:
    a changed one is answered with 400.
    """
    page = db.keyset_paginate(
        visible_notes(),
        order_by=[Note.created.desc(), Note.id.desc()],
        max_per_page=50,
    )
    return {
        "items": [note.to_dict() for note in page.items],
        "next": page.next_cursor,
        "prev": page.prev_cursor,
    }


@bp.get(f"/notes/{NOTE_ID}")
def get_note(note_id: int) -> dict[str, t.Any]:
    """Return one note, or 404 with a JSON error."""
    return get_note_or_404(note_id).to_dict()
