"""Call ASGI apps in-process: one HTTP GET through ``app(scope, receive, send)``."""

from __future__ import annotations

import asyncio
import typing as t

_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"erlen-bench/1"),
    (b"accept", b"*/*"),
]


def scope(path: str) -> dict[str, t.Any]:
    """The HTTP scope a server would pass for ``GET path`` (with its query string)."""
    bare, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": bare,
        "raw_path": bare.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": list(_HEADERS),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(
    app: t.Any, base: dict[str, t.Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request to ``app`` and return status, headers and body."""
    done = asyncio.Event()
    request_sent = False
    status = 0
    headers: list[tuple[str, str]] = []
    body: list[bytes] = []

    async def receive() -> dict[str, t.Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, t.Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers[:] = [(k.decode(), v.decode()) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    scope_copy = dict(base)
    scope_copy["headers"] = list(base["headers"])
    scope_copy["state"] = {}
    await app(scope_copy, receive, send)
    return status, headers, b"".join(body)


async def batch(app: t.Any, base: dict[str, t.Any], count: int) -> None:
    """Make ``count`` requests one after another."""
    for _ in range(count):
        await call(app, base)
