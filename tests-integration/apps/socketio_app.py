"""An app with Socket.IO for the multi-process tests: ``SIO_QUEUE`` names the Redis queue."""

from __future__ import annotations

import importlib
import os
import typing as t

from erlen import Erlen
from erlen import session
from erlen_socketio import emit
from erlen_socketio import join_room
from erlen_socketio import login_required
from erlen_socketio import SocketIO

app = Erlen(__name__)
app.config["SECRET_KEY"] = "integration-test-secret"
socketio = SocketIO(
    app,
    message_queue=os.environ.get("SIO_QUEUE") or None,
    channel=os.environ.get("SIO_CHANNEL", "erlen-tests"),
)

try:  # erlen-login is optional: detected at run time, as erlen-socketio does
    erlen_login: t.Any = importlib.import_module("erlen_login")
except ImportError:  # pragma: no cover - depends on the installed packages
    erlen_login = None

if erlen_login is not None:
    login_manager = erlen_login.LoginManager(app)

    class User(erlen_login.UserMixin):  # type: ignore[misc]
        """A user known by name only."""

        def __init__(self, user_id: str) -> None:
            self.id = user_id

    @login_manager.user_loader  # type: ignore[untyped-decorator]
    def load_user(user_id: str) -> User:
        return User(user_id)

    @app.post("/login/<name>")
    def login(name: str) -> str:
        """Log ``name`` in (no password: a test app)."""
        erlen_login.login_user(User(name))
        return name

    @app.post("/logout")
    def logout() -> str:
        """Log out: erlen-socketio disconnects the user's sockets in every process."""
        erlen_login.logout_user()
        return ""


@socketio.on("connect", namespace="/private")
@login_required
def private_connect() -> None:
    emit("hello", {"pid": os.getpid()})


@app.get("/")
def index() -> str:
    """Answer health checks."""
    return "socketio app"


@socketio.on("connect")
def connect(auth: t.Any) -> None:
    emit("hello", {"pid": os.getpid(), "user": session.get("_user_id")})


@socketio.event
def join(room: str) -> int:
    join_room(room)
    return os.getpid()


@socketio.event
def shout(room: str, text: str) -> None:
    emit("shout", {"text": text, "pid": os.getpid()}, to=room)


@socketio.event
@login_required
def secret() -> str:
    return "secret"
