"""Live updates: new notes and comments reach the open pages through erlen-socketio.

The views and the API call :func:`publish` after each commit, with the JSON
data the API returns for that note or comment. ``init_app`` serves Socket.IO
on the app (logged-in users only) and emits each event to those who may see
it: a new note to everyone unless it is hidden, a new comment to the
browsers showing its note (the room ``note-<id>``, joined with ``watch``).
"""

from __future__ import annotations

import typing as t

from erlen import current_app
from erlen import Erlen
from erlen_login import current_user
from erlen_socketio import join_room
from erlen_socketio import login_required
from erlen_socketio import SocketIO

#: The events the app publishes: a new note, a new comment.
EVENTS = frozenset({"note_created", "comment_created"})
#: Where ``init_app`` keeps the app's publisher (tests replace it to record events).
EXTENSION = "notes.live"

Publisher = t.Callable[[str, dict[str, t.Any]], None]

socketio = SocketIO()


def note_room(note_id: int) -> str:
    """The room of the browsers showing note ``note_id``: they get its new comments."""
    return f"note-{note_id}"


def emit_to_browsers(event: str, data: dict[str, t.Any]) -> None:
    """The publisher: send ``event`` to the browsers allowed to see it."""
    if event == "note_created":
        if not data["hidden"]:  # hidden notes are only for their author and admins
            socketio.emit(event, data)
    else:
        socketio.emit(event, data, to=note_room(data["note_id"]))


def init_app(app: Erlen, publisher: Publisher | None = None) -> None:
    """Serve Socket.IO on ``app`` and give it its publisher (:func:`emit_to_browsers`).

    ``NOTES_SOCKETIO_QUEUE`` (a ``redis://`` URL) lets several server
    processes reach each other's browsers.
    """
    if EXTENSION not in app.extensions:
        socketio.init_app(app, message_queue=app.config.get("NOTES_SOCKETIO_QUEUE"))
    app.extensions[EXTENSION] = publisher or emit_to_browsers


@socketio.on("connect")
@login_required  # anonymous visitors get no socket
def connect() -> None:
    """Accept a logged-in user's browser."""


@socketio.on("watch")
@login_required
def watch(note_id: object) -> bool:
    """Join note ``note_id``'s room if the user may see that note; say whether it did."""
    from .models import db
    from .models import Note
    from .views import visible_notes  # the views publish: import them late

    if not isinstance(note_id, int) or isinstance(note_id, bool):
        return False
    query = visible_notes(current_user).where(Note.id == note_id)
    if db.session.scalar(query) is None:
        return False
    join_room(note_room(note_id))
    return True


def publish(event: str, data: dict[str, t.Any]) -> None:
    """Announce ``event`` (one of :data:`EVENTS`) with its JSON-ready ``data``."""
    if event not in EVENTS:
        raise ValueError(f"unknown live event {event!r}")
    publisher: Publisher = current_app.extensions[EXTENSION]
    publisher(event, data)
