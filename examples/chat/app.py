"""A chat with rooms on erlen-socketio: sign in with a name, join rooms, talk.

Serve it with ``gunicorn --worker-class gthread --threads 50 app:app`` (WSGI)
or ``uvicorn app:app`` (ASGI); set ``CHAT_REDIS_URL`` to run several processes.
"""

from __future__ import annotations

import os

from werkzeug.wrappers import Response

from erlen import Erlen
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import session
from erlen import url_for
from erlen_socketio import ConnectionRefusedError
from erlen_socketio import emit
from erlen_socketio import join_room
from erlen_socketio import leave_room
from erlen_socketio import SocketIO

ROOMS = ("lobby", "python", "random")

app = Erlen(__name__)
app.config["SECRET_KEY"] = os.environ.get("CHAT_SECRET_KEY", "dev only: change me")
socketio = SocketIO(app, message_queue=os.environ.get("CHAT_REDIS_URL") or None)


@app.get("/")
def index() -> str:
    """The chat page, or the sign-in form."""
    return render_template("chat.html", name=session.get("name"), rooms=ROOMS)


@app.post("/login")
def login() -> Response:
    """Remember the name in the session (no password: a demo)."""
    name = request.form.get("name", "").strip()[:30]
    if name:
        session["name"] = name
    return redirect(url_for("index"))


@app.post("/logout")
def logout() -> Response:
    """Forget the name."""
    session.pop("name", None)
    return redirect(url_for("index"))


@socketio.on("connect")
def connect() -> None:
    """Only signed-in browsers may connect."""
    if "name" not in session:
        raise ConnectionRefusedError("sign in first")


@socketio.on("join")
def join(room: str) -> str:
    """Enter ``room`` (one of ROOMS); the others in it are told."""
    if room not in ROOMS:
        return "no such room"
    join_room(room)
    emit("status", f"{session['name']} joined {room}", to=room)
    return "joined"


@socketio.on("leave")
def leave(room: str) -> None:
    """Leave ``room``."""
    leave_room(room)
    emit("status", f"{session['name']} left {room}", to=room)


@socketio.on("say")
def say(room: str, text: str) -> str:
    """Send ``text`` to everyone in ``room``."""
    emit(
        "message", {"room": room, "name": session["name"], "text": text[:500]}, to=room
    )
    return "sent"


if __name__ == "__main__":
    socketio.run(app, debug=True)
