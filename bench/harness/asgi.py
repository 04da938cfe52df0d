"""Measure 6: the ASGI entry, beside Starlette, FastAPI and Quart.

In-process: microseconds per request, each an ``await app(scope, receive,
send)`` on one event loop (median over rounds of batches, apps interleaved),
and per WebSocket echo round trip on an open connection. Under uvicorn: requests
per second with ``servers.WORKERS`` workers per app, load from wrk or the
Python generator. Every app's answers are checked first; an app that is not
installed or answers wrongly is reported, not measured.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from apps import common
from apps.asgi_apps import ASGI_APPS
from apps.asgi_apps import create
from harness import servers

ENDPOINTS = ("hello", "json", "params", "routes1", "routes1000", "form")
SERVER_ENDPOINTS = ("hello", "json", "params")


@dataclass
class AsgiData:
    """What the ASGI measure found, by app and endpoint."""

    unavailable: dict[str, str] = field(default_factory=dict)
    problems: dict[tuple[str, str], str] = field(default_factory=dict)
    inproc_us: dict[tuple[str, str], float] = field(default_factory=dict)
    ws_us: dict[str, float] = field(default_factory=dict)
    rps: dict[tuple[str, str], float] = field(default_factory=dict)
    rate_errors: dict[tuple[str, str], str] = field(default_factory=dict)


def _scope(endpoint: common.Endpoint) -> dict[str, t.Any]:
    path, _, query = endpoint.path.partition("?")
    headers = [(b"host", b"127.0.0.1")]
    if endpoint.content_type:
        headers.append((b"content-type", endpoint.content_type.encode()))
    if endpoint.body:
        headers.append((b"content-length", str(len(endpoint.body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": endpoint.method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 40000),
    }


async def _request(
    app: t.Any, scope: dict[str, t.Any], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    sent: list[dict[str, t.Any]] = []
    request = {"type": "http.request", "body": body, "more_body": False}
    given = False

    async def receive() -> dict[str, t.Any]:
        nonlocal given
        if not given:
            given = True
            return request
        await asyncio.sleep(3600)  # a client that waits for the response
        return {"type": "http.disconnect"}  # pragma: no cover

    async def send(message: dict[str, t.Any]) -> None:
        sent.append(message)

    await app(dict(scope), receive, send)
    headers = [(k.decode(), v.decode()) for k, v in sent[0]["headers"]]
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def _batch(app: t.Any, scope: dict[str, t.Any], body: bytes, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        await _request(app, scope, body)
    return (time.perf_counter() - start) / count


async def _echo(app: t.Any, count: int) -> float:
    """Seconds per echo round trip on one open WebSocket connection."""
    to_app: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    from_app: asyncio.Queue[dict[str, t.Any]] = asyncio.Queue()
    scope = {**_scope(common.ENDPOINTS_BY_NAME["hello"]), "type": "websocket"}
    scope["path"] = scope["raw_path"] = "/ws"
    scope["raw_path"] = b"/ws"
    scope["scheme"] = "ws"
    scope["subprotocols"] = []
    task = asyncio.ensure_future(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "websocket.connect"})
    accepted = await asyncio.wait_for(from_app.get(), 10)
    if accepted["type"] != "websocket.accept":
        raise RuntimeError(f"the WebSocket was not accepted: {accepted}")
    start = time.perf_counter()
    for i in range(count):
        await to_app.put({"type": "websocket.receive", "text": f"m{i}"})
        reply = await asyncio.wait_for(from_app.get(), 10)
        if reply.get("text") != f"m{i}":
            raise RuntimeError(f"wrong echo: {reply}")
    elapsed = (time.perf_counter() - start) / count
    await to_app.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 10)
    return elapsed


async def _inproc(
    apps: dict[str, t.Any], data: AsgiData, rounds: int, batch: int
) -> None:
    pairs = [
        (name, e) for name in apps for e in ENDPOINTS if (name, e) not in data.problems
    ]
    samples: dict[tuple[str, str], list[float]] = {p: [] for p in pairs}
    for _ in range(rounds):
        random.shuffle(pairs)
        for name, e in pairs:
            endpoint = common.ENDPOINTS_BY_NAME[e]
            samples[(name, e)].append(
                await _batch(apps[name], _scope(endpoint), endpoint.body, batch)
            )
    for pair, values in samples.items():
        data.inproc_us[pair] = statistics.median(values) * 1e6
    for name, app in apps.items():
        try:
            data.ws_us[name] = (
                statistics.median([await _echo(app, batch * 2) for _ in range(5)]) * 1e6
            )
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            data.problems[(name, "ws echo")] = f"{type(e).__name__}: {e}"


def _uvicorn(name: str, data: AsgiData, seconds: float, rounds: int) -> None:
    port = servers.free_port()
    env = {**os.environ, "BENCH_ASGI_APP": name}
    env["PYTHONPATH"] = servers.BENCH_DIR + os.pathsep + env.get("PYTHONPATH", "")
    log = tempfile.TemporaryFile()
    command = [sys.executable, "-m", "uvicorn", "apps.asgi_apps:app"]
    command += ["--port", str(port), "--workers", str(servers.WORKERS)]
    command += ["--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(
        command,
        cwd=servers.BENCH_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = servers.Server(name, "uvicorn", port, process, log)
    try:
        servers.wait_ready(server, common.ENDPOINTS_BY_NAME["hello"])
        for e in SERVER_ENDPOINTS:
            if server.error is not None:
                data.rate_errors[(name, e)] = server.error
                continue
            path = common.ENDPOINTS_BY_NAME[e].path
            try:
                servers.load(port, path, 1.0)  # warm-up
                data.rps[(name, e)] = statistics.median(
                    servers.load(port, path, seconds) for _ in range(rounds)
                )
            except RuntimeError as err:
                data.rate_errors[(name, e)] = str(err)
    finally:
        server.stop()


def measure(quick: bool, with_servers: bool = True) -> AsgiData:
    """Validate and measure every ASGI app that is installed."""
    data = AsgiData()
    apps: dict[str, t.Any] = {}
    for name in ASGI_APPS:
        try:
            apps[name] = create(name)
        except ImportError as e:
            data.unavailable[name] = f"not installed ({e.name})"

    async def run() -> None:
        for name, app in apps.items():
            for e in ENDPOINTS:
                endpoint = common.ENDPOINTS_BY_NAME[e]
                try:
                    status, headers, body = await _request(
                        app, _scope(endpoint), endpoint.body
                    )
                    problem = endpoint.check(status, headers, body)
                except Exception as err:  # noqa: BLE001 - reported, not fatal
                    problem = f"{type(err).__name__}: {err}"
                if problem is not None:
                    data.problems[(name, e)] = problem
        await _inproc(apps, data, 5 if quick else 15, 100 if quick else 300)

    asyncio.run(run())
    if with_servers:
        for name in apps:
            _uvicorn(name, data, 2.0 if quick else 3.0, 1 if quick else 3)
    return data


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def render(data: AsgiData, flask_gunicorn_rps: dict[str, float] | None = None) -> str:
    """The report's ASGI section, in markdown."""
    names = [n for n in ASGI_APPS if n not in data.unavailable]
    lines = ["", "## ASGI: erlen beside Starlette, FastAPI and Quart", ""]
    lines.append(
        "In-process: µs per request, `await app(scope, receive, send)` on one"
        " loop (lower is better); `ws echo`: µs per WebSocket round trip."
    )
    lines.append("")
    header = ["endpoint", *names, "erlen / fastapi"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for e in (*ENDPOINTS, "ws echo"):
        row = [e]
        for n in names:
            if e == "ws echo":
                value = data.ws_us.get(n)
            else:
                value = data.inproc_us.get((n, e))
            row.append(_fmt(value))
        if e == "ws echo":
            er, fa = data.ws_us.get("erlen"), data.ws_us.get("fastapi")
        else:
            er, fa = (
                data.inproc_us.get(("erlen", e)),
                data.inproc_us.get(("fastapi", e)),
            )
        row.append(_fmt(er / fa, 2) if er and fa else "n/a")
        lines.append("| " + " | ".join(row) + " |")
    if data.rps or data.rate_errors:
        lines += [
            "",
            f"Under uvicorn ({servers.WORKERS} workers): requests/s (higher is better).",
            "",
        ]
        header = ["endpoint", *names, "erlen / fastapi"]
        if flask_gunicorn_rps:
            header.append("erlen / flask (gunicorn)")
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for e in SERVER_ENDPOINTS:
            row = [e, *(_fmt(data.rps.get((n, e)), 0) for n in names)]
            er, fa = data.rps.get(("erlen", e)), data.rps.get(("fastapi", e))
            row.append(_fmt(er / fa, 2) if er and fa else "n/a")
            if flask_gunicorn_rps:
                fl = flask_gunicorn_rps.get(e)
                row.append(_fmt(er / fl, 2) if er and fl else "n/a")
            lines.append("| " + " | ".join(row) + " |")
    for key, problem in sorted({**data.problems, **data.rate_errors}.items()):
        lines.append(f"- {key[0]} {key[1]}: {problem}")
    for name, reason in sorted(data.unavailable.items()):
        lines.append(f"- {name}: {reason}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - manual runs
    # From bench/: python -m harness.asgi [--quick] [--no-servers]
    print(render(measure("--quick" in sys.argv, "--no-servers" not in sys.argv)))
