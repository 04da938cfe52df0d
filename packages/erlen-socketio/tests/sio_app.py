"""The app the real-server tests serve (gunicorn, uvicorn): sync and async handlers."""

from __future__ import annotations

import asyncio
import os
import threading
import typing as t

from erlen import Erlen
from erlen import request
from erlen import session
from erlen_socketio import call
from erlen_socketio import emit
from erlen_socketio import join_room
from erlen_socketio import login_required
from erlen_socketio import Namespace
from erlen_socketio import SocketIO

app = Erlen(__name__)
app.config["SECRET_KEY"] = "real-server tests"
socketio = SocketIO(
    app,
    message_queue=os.environ.get("SIO_QUEUE") or None,
    transports=["polling", "websocket"],
    ping_interval=5,
    ping_timeout=5,
)


@app.get("/")
def index() -> str:
    return "ok"


@app.post("/login")
def login() -> str:
    session["user"] = request.form["user"]
    return ""


@app.post("/emit")
def emit_from_view() -> str:
    socketio.emit("news", request.form["text"], to=request.form.get("to"))
    return ""


@socketio.on("connect")
def connect(auth: t.Any) -> None:
    emit("hello", {"pid": os.getpid(), "user": session.get("user")})


@socketio.event
def join(room: str) -> int:
    join_room(room)
    return os.getpid()


@socketio.event
def shout(room: str, text: str) -> None:
    emit("shout", text, to=room)


@socketio.event
def sync_echo(x: t.Any) -> dict[str, t.Any]:
    return {"x": x, "thread": threading.current_thread().name, "sid": request.sid}  # type: ignore[attr-defined]


@socketio.event
async def async_echo(x: t.Any) -> dict[str, t.Any]:
    await asyncio.sleep(0)
    await emit("echoed", x)
    return {"x": x, "thread": threading.current_thread().name, "sid": request.sid}  # type: ignore[attr-defined]


@socketio.event
async def async_join(room: str) -> int:
    await join_room(room)
    return os.getpid()


@socketio.event
def ask(text: str) -> t.Any:
    return call("question", text, timeout=10)


@socketio.event
def whoami() -> t.Any:
    return session.get("user")


@socketio.event
@login_required
def secret() -> str:
    return "secret"


class Rooms(Namespace):
    """A class-based namespace with a sync and an async method."""

    def on_connect(self) -> None:
        emit("ready", request.namespace)  # type: ignore[attr-defined]

    def on_sync_hello(self, name: str) -> str:
        return f"hello {name}"

    async def on_async_hello(self, name: str) -> str:
        await asyncio.sleep(0)
        return f"async hello {name}"


socketio.on_namespace(Rooms("/rooms"))


@socketio.on("fail", namespace="/errors")
def fail() -> None:
    raise ValueError("sync failure")


@socketio.on("async_fail", namespace="/errors")
async def async_fail() -> None:
    raise ValueError("async failure")


@socketio.on_error("/errors")
async def on_errors(error: Exception) -> str:
    await asyncio.sleep(0)
    return f"handled {error}"
