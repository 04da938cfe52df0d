"""Live updates: the one place the app announces new notes and comments.

Today the publisher does nothing. Live updates (erlen-socketio, not released
yet) will be one small change here: ``init_app`` sets up the Socket.IO
server and a publisher that emits each event to the browsers, and the pages'
script adds the new note or comment without a reload. The views and the API
already call :func:`publish` after each commit, with the JSON data the API
returns for that note or comment.
"""

from __future__ import annotations

import typing as t

from erlen import current_app
from erlen import Erlen

#: The events the app publishes: a new note, a new comment.
EVENTS = frozenset({"note_created", "comment_created"})
#: Where ``init_app`` keeps the app's publisher (tests replace it to record events).
EXTENSION = "notes.live"

Publisher = t.Callable[[str, dict[str, t.Any]], None]


def _nothing(event: str, data: dict[str, t.Any]) -> None:
    """The publisher until live updates exist: drop the event."""


def init_app(app: Erlen, publisher: Publisher = _nothing) -> None:
    """Give ``app`` its publisher of live events (a no-op by default)."""
    app.extensions[EXTENSION] = publisher


def publish(event: str, data: dict[str, t.Any]) -> None:
    """Announce ``event`` (one of :data:`EVENTS`) with its JSON-ready ``data``."""
    if event not in EVENTS:
        raise ValueError(f"unknown live event {event!r}")
    publisher: Publisher = current_app.extensions[EXTENSION]
    publisher(event, data)
