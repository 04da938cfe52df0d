"""A bounded WebSocket echo load client (``websockets``) for servers on 127.0.0.1.

``CONNECTIONS`` connections are opened first; then each sends one text message,
waits for its echo and checks it, over and over, until ``seconds`` pass or
``LIMIT`` round trips are done in all. The figure is round trips per second.
Every wait is bounded (opening and closing each connection by ``TIMEOUT``,
the echo loops together by ``seconds + 2 * TIMEOUT``); any failure or wrong
echo raises ``RuntimeError``. Runs on uvloop when it is installed (as uvicorn does), so the
client costs the shared cores as little as a Python client can.
"""

from __future__ import annotations

import asyncio
import time
import typing as t

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from harness import servers

LIMIT = 200_000
TIMEOUT = 5.0
MESSAGE = "echo-0123456789"  # a short chat-like text frame, suffixed per round trip


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


async def _open(url: str) -> ClientConnection:
    # No permessage-deflate: measure the frameworks, not zlib on both sides.
    return await connect(
        url, compression=None, open_timeout=TIMEOUT, close_timeout=TIMEOUT
    )


async def _echo_loop(
    ws: ClientConnection, deadline: float, counts: dict[str, int]
) -> None:
    while time.monotonic() < deadline and counts["done"] < LIMIT:
        message = f"{MESSAGE}-{counts['done']}"
        await ws.send(message)
        reply = await ws.recv()  # bounded by the wait in _run
        if reply != message:
            raise RuntimeError(f"wrong echo {reply!r} for {message!r}")
        counts["done"] += 1


async def _run(url: str, seconds: float, connections: int) -> float:
    sockets: list[ClientConnection] = []
    try:
        for _ in range(connections):
            sockets.append(await _open(url))
        counts = {"done": 0}
        started = time.monotonic()
        deadline = started + seconds
        tasks = [
            asyncio.ensure_future(_echo_loop(ws, deadline, counts)) for ws in sockets
        ]
        done, pending = await asyncio.wait(
            tasks, timeout=seconds + TIMEOUT * 2, return_when=asyncio.FIRST_EXCEPTION
        )
        elapsed = time.monotonic() - started
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            task.result()  # the first failure, if any
        if pending:
            raise RuntimeError(f"echo loops still running after {elapsed:.0f} s")
        return counts["done"] / elapsed
    finally:
        for ws in sockets:
            await ws.close()


def echo_rate(
    port: int,
    seconds: float,
    path: str = "/ws",
    connections: int = servers.CONNECTIONS,
) -> float:
    """Return echo round trips per second on ``ws://127.0.0.1:port/path``.

    :raises RuntimeError: a connection failed, timed out or echoed wrongly.
    """
    url = f"ws://127.0.0.1:{port}{path}"
    loop = _new_loop()
    try:
        return loop.run_until_complete(_run(url, seconds, connections))
    except (OSError, TimeoutError, WebSocketException) as e:
        raise RuntimeError(f"WebSocket echo failed: {type(e).__name__}: {e}") from e
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def check(port: int, path: str = "/ws") -> str | None:
    """Return ``None`` if one connection echoes a few messages, else the reason."""
    try:
        rate = echo_rate(port, 0.2, path, connections=1)
    except RuntimeError as e:
        return str(e)
    return None if rate > 0 else "no echo within 0.2 s"


def _main(argv: t.Sequence[str]) -> None:  # pragma: no cover - manual runs
    port, seconds = int(argv[0]), float(argv[1]) if len(argv) > 1 else 2.0
    print(f"{echo_rate(port, seconds):,.0f} round trips/s")


if __name__ == "__main__":  # pragma: no cover - manual runs
    # From bench/: python -m harness.wsload PORT [SECONDS]
    import sys

    _main(sys.argv[1:])
