"""A chat room over WebSockets: one page, one WebSocket route, served by uvicorn.

Run it with ``erlen --app app run --asgi`` (or ``uvicorn app:app``) and open
http://127.0.0.1:5000/ in two browser windows.
"""

from __future__ import annotations

import asyncio

from erlen import Erlen
from erlen import render_template
from erlen import websocket
from erlen.sockets import WebSocketDisconnect

app = Erlen(__name__)

#: One queue per connected browser; a message is put in every queue.
listeners: set[asyncio.Queue[str]] = set()


@app.get("/")
def index() -> str:
    return render_template("index.html")


@app.get("/health")
async def health() -> dict[str, int]:
    return {"listeners": len(listeners)}


@app.websocket("/chat")
async def chat() -> None:
    name = websocket.args.get("name", "guest")[:20] or "guest"
    # Accept before the forwarding task can send: the task's first send and
    # this handler's first receive would otherwise both start the handshake.
    await websocket.accept()
    queue: asyncio.Queue[str] = asyncio.Queue()
    listeners.add(queue)
    forward = asyncio.create_task(_forward(queue))
    try:
        await _broadcast(f"{name} joined")
        while True:
            message = await websocket.receive()
            if isinstance(message, str) and message.strip():
                await _broadcast(f"{name}: {message.strip()[:500]}")
    except WebSocketDisconnect:
        pass
    finally:
        listeners.discard(queue)
        forward.cancel()
        await _broadcast(f"{name} left")


async def _forward(queue: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send(await queue.get())


async def _broadcast(message: str) -> None:
    for queue in listeners:
        queue.put_nowait(message)
