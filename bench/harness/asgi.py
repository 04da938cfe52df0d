"""Measure 6: the ASGI entry, beside the Werkzeug floor, Starlette, FastAPI and Quart.

In-process: microseconds per request, each an ``await app(scope, receive,
send)`` on one event loop (median over rounds of batches, apps interleaved),
and per WebSocket echo round trip on an open connection. Under uvicorn (all apps
started at once, ``servers.WORKERS`` workers each): requests per second from wrk
or the Python generator, and WebSocket echo round trips per second from a
bounded ``websockets`` client (:mod:`harness.wsload`), runs interleaved across
apps. Every app's answers are checked first, in-process and through its server
(the ``session`` request sends back the cookie a first request got); an app
that is not installed or answers wrongly is reported, not measured. The apps in
``NO_WEBSOCKET`` (the Werkzeug floor) have no echo: ``n/a`` in its rows.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib.metadata
import os
import random
import statistics
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from apps import common
from apps.asgi_apps import ASGI_APPS
from apps.asgi_apps import create
from apps.asgi_apps import NO_WEBSOCKET
from harness import callgrind
from harness import servers
from harness import wsload
from harness.report import format_ratio
from harness.report import markdown_table
from harness.report import ratio_of

ENDPOINTS = ("hello", "json", "params", "routes1", "routes1000", "form", "session")
SERVER_ENDPOINTS = ("hello", "json", "params", "routes1000", "form", "session")
WS_ECHO = "ws echo"


@dataclass
class AsgiData:
    """What the ASGI measure found, by app and endpoint."""

    unavailable: dict[str, str] = field(default_factory=dict)
    problems: dict[tuple[str, str], str] = field(default_factory=dict)
    inproc_us: dict[tuple[str, str], float] = field(default_factory=dict)
    ws_us: dict[str, float] = field(default_factory=dict)
    rps: dict[tuple[str, str], float] = field(default_factory=dict)
    rate_errors: dict[tuple[str, str], str] = field(default_factory=dict)
    server_settings: str = ""
    instructions: dict[tuple[str, str], callgrind.Count] = field(default_factory=dict)


def _scope(endpoint: common.Endpoint, cookie: str | None = None) -> dict[str, t.Any]:
    path, _, query = endpoint.path.partition("?")
    headers = [(b"host", b"127.0.0.1")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
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


async def request_batch(
    app: t.Any, scope: dict[str, t.Any], body: bytes, count: int
) -> float:
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


def _cookie(headers: list[tuple[str, str]]) -> str | None:
    """Return ``name=value`` of the session cookie in ``headers``, if any."""
    prefix = f"{common.SESSION_COOKIE}="
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(prefix):
            return value.split(";", 1)[0]
    return None


async def prepare_request(
    app: t.Any, endpoint: common.Endpoint
) -> tuple[dict[str, t.Any], str | None]:
    """Return the scope measured for ``endpoint`` and the cookie it carries.

    For ``session`` a first request gets the cookie, which the measured requests
    send back (they all answer ``count=2``).

    :raises ValueError: a wrong answer; the message says how.
    """
    cookie = None
    if endpoint.uses_session:
        status, headers, body = await _request(app, _scope(endpoint), endpoint.body)
        problem = common.FIRST_SESSION_CHECK(status, headers, body)
        if problem is not None:
            raise ValueError(f"first request: {problem}")
        cookie = _cookie(headers)
    scope = _scope(endpoint, cookie)
    problem = endpoint.check(*await _request(app, scope, endpoint.body))
    if problem is not None:
        raise ValueError(problem)
    return scope, cookie


async def _inproc(
    apps: dict[str, t.Any],
    scopes: dict[tuple[str, str], dict[str, t.Any]],
    data: AsgiData,
    rounds: int,
    batch: int,
) -> None:
    pairs = list(scopes)
    samples: dict[tuple[str, str], list[float]] = {p: [] for p in pairs}
    for _ in range(rounds):
        random.shuffle(pairs)
        for name, e in pairs:
            body = common.ENDPOINTS_BY_NAME[e].body
            samples[(name, e)].append(
                await request_batch(apps[name], scopes[(name, e)], body, batch)
            )
    for pair, values in samples.items():
        data.inproc_us[pair] = statistics.median(values) * 1e6
    for name, app in apps.items():
        if name in NO_WEBSOCKET:
            continue
        try:
            data.ws_us[name] = (
                statistics.median([await _echo(app, batch * 2) for _ in range(5)]) * 1e6
            )
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            data.problems[(name, WS_ECHO)] = f"{type(e).__name__}: {e}"


def _start_uvicorn(name: str) -> servers.Server:
    port = servers.free_port()
    command = [sys.executable, "-m", "uvicorn", "apps.asgi_apps:app"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(servers.WORKERS)]
    command += ["--log-level", "warning", "--no-access-log"]
    return servers.launch(name, "uvicorn", port, command, {"BENCH_ASGI_APP": name})


def _check_server(server: servers.Server) -> None:
    """Check every endpoint and the echo through ``server``; keep session cookies.

    Sets ``server.error`` at the first problem.
    """
    servers.wait_ready(server, common.ENDPOINTS_BY_NAME["hello"])
    for e in SERVER_ENDPOINTS:
        if server.error is not None:
            return
        endpoint = common.ENDPOINTS_BY_NAME[e]
        try:
            cookie = None
            if endpoint.uses_session:
                first = servers.fetch(server.port, endpoint)
                problem = common.FIRST_SESSION_CHECK(*first)
                if problem is not None:
                    server.error = f"{e}: first request: {problem}"
                    return
                cookie = _cookie(first[1])
                if cookie is not None:
                    server.cookies[e] = cookie
            problem = endpoint.check(*servers.fetch(server.port, endpoint, cookie))
        except (OSError, http.client.HTTPException) as err:
            problem = f"{type(err).__name__}: {err}"
        if problem is not None:
            server.error = f"{e}: {problem}"
    if server.error is None and server.app not in NO_WEBSOCKET:
        problem = wsload.check(server.port)
        if problem is not None:
            server.error = f"{WS_ECHO}: {problem}"


def _load(server: servers.Server, e: str, seconds: float) -> float:
    """Return requests/s (echo round trips/s for ``ws echo``) on one endpoint."""
    if e == WS_ECHO:
        return wsload.echo_rate(server.port, seconds)
    endpoint = common.ENDPOINTS_BY_NAME[e]
    headers = {}
    if endpoint.content_type:
        headers["Content-Type"] = endpoint.content_type
    if e in server.cookies:
        headers["Cookie"] = server.cookies[e]
    return servers.load(
        server.port, endpoint.path, seconds, endpoint.method, endpoint.body, headers
    )


def _uvicorn(
    names: t.Sequence[str], data: AsgiData, seconds: float, rounds: int
) -> None:
    """Serve every app under uvicorn at once and load them in shuffled turns."""
    started: list[servers.Server] = []
    measured = (*SERVER_ENDPOINTS, WS_ECHO)
    samples: dict[tuple[str, str], list[float]] = {}
    try:
        for name in names:
            started.append(_start_uvicorn(name))
        for server in started:
            _check_server(server)
            if server.error is None:
                try:
                    servers.load(server.port, "/", 1.0)  # warm-up
                except (RuntimeError, OSError, subprocess.SubprocessError) as err:
                    server.error = f"warm-up failed: {err}"
            if server.error is not None:
                for e in measured:
                    data.rate_errors[(server.app, e)] = server.error
        for _ in range(rounds):
            for e in measured:
                order = [s for s in started if s.error is None]
                random.shuffle(order)
                for server in order:
                    key = (server.app, e)
                    if key in data.rate_errors or (
                        e == WS_ECHO and server.app in NO_WEBSOCKET
                    ):
                        continue
                    try:
                        samples.setdefault(key, []).append(_load(server, e, seconds))
                    except (RuntimeError, OSError, subprocess.SubprocessError) as err:
                        data.rate_errors[key] = str(err)
    finally:
        for server in started:
            server.stop()
    for key, values in samples.items():
        if key not in data.rate_errors:
            data.rps[key] = statistics.median(values)
            shown = f"{data.rps[key]:,.0f}/s"
            print(f"  uvicorn {key[0]} {key[1]}: {shown}", file=sys.stderr, flush=True)


#: The apps and endpoints whose instructions are counted (quick: hello only).
INSTRUCTION_APPS = ("werkzeug", "erlen", "starlette", "fastapi")
INSTRUCTION_ENDPOINTS = ("hello", "json", "params", "form", "session")
ASGI_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "asgichild.py")


def measure_instructions(data: AsgiData, quick: bool, jobs: int = 2) -> None:
    """Count instructions per in-process request with callgrind (:mod:`harness.asgichild`).

    Deterministic where the timings are not: the ratios between apps hold on
    a busy machine. Apps or endpoints that failed validation are left out.
    """
    endpoints = ("hello",) if quick else INSTRUCTION_ENDPOINTS
    pairs = [
        (name, e)
        for e in endpoints
        for name in INSTRUCTION_APPS
        if name not in data.unavailable and (name, e) not in data.problems
    ]
    count = 200 if quick else 500
    data.instructions = callgrind.measure(pairs, count // 5, count, jobs, ASGI_CHILD)
    for (name, e), result in data.instructions.items():
        shown = f"{result.per_request:,.0f}" if result.per_request else result.error
        print(f"  instructions {name} {e}: {shown}", file=sys.stderr, flush=True)


def measure(
    quick: bool, with_servers: bool = True, with_instructions: bool = False
) -> AsgiData:
    """Validate and measure every ASGI app that is installed."""
    data = AsgiData()
    apps: dict[str, t.Any] = {}
    for name in ASGI_APPS:
        try:
            apps[name] = create(name)
        except ImportError as e:
            data.unavailable[name] = f"not installed ({e.name})"

    async def run() -> None:
        scopes: dict[tuple[str, str], dict[str, t.Any]] = {}
        for name, app in apps.items():
            for e in ENDPOINTS:
                try:
                    scopes[(name, e)], _ = await prepare_request(
                        app, common.ENDPOINTS_BY_NAME[e]
                    )
                except Exception as err:  # noqa: BLE001 - reported, not fatal
                    data.problems[(name, e)] = f"{type(err).__name__}: {err}"
        await _inproc(apps, scopes, data, 5 if quick else 15, 100 if quick else 300)

    asyncio.run(run())
    if with_instructions and callgrind.available() is not None:
        measure_instructions(data, quick)
    if with_servers:
        # Quick: one run of 1 s per app and endpoint after one 1 s warm-up per
        # server, which keeps measure 6 at its former length with twice the rows.
        seconds, rounds = (1.0, 1) if quick else (3.0, 3)
        data.server_settings = (
            f"uvicorn, {servers.WORKERS} workers per app, all apps started at once;"
            f" HTTP load from {servers.load_generator()} with"
            f" {servers.CONNECTIONS} connections; `{WS_ECHO}`: {servers.CONNECTIONS}"
            " connections from a Python `websockets` client on uvloop, each sending"
            " one text message and awaiting its echo, without compression; median"
            f" of {rounds} run(s) of {seconds:.0f} s, interleaved across apps."
        )
        _uvicorn(list(apps), data, seconds, rounds)
    return data


def _versions() -> str:
    found = []
    dists = ("werkzeug", "starlette", "fastapi", "quart", "uvicorn", "websockets")
    for dist in (*dists, "uvloop"):
        try:
            found.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{dist} not installed")
    return ", ".join(found)


def _cell(value: float | None, name: str, e: str, digits: int = 1) -> str:
    """A measured figure; ``n/a`` for an echo the app lacks, ``–`` if not measured."""
    if value is not None:
        return f"{value:,.{digits}f}"
    return "n/a" if e == WS_ECHO and name in NO_WEBSOCKET else "–"


def render(data: AsgiData, flask_gunicorn_rps: dict[str, float] | None = None) -> str:
    """The report's ASGI section, in markdown."""
    names = [n for n in ASGI_APPS if n not in data.unavailable]
    lines = [
        "",
        "## ASGI: erlen beside the Werkzeug floor, Starlette, FastAPI and Quart",
    ]
    lines += ["", f"Versions: {_versions()}.", ""]
    lines.append(
        "In-process: µs per request, `await app(scope, receive, send)` on one"
        " loop (lower is better); `ws echo`: µs per WebSocket round trip."
        " `werkzeug`: Werkzeug's Request, Response and routing Map alone, the floor"
        " for a framework built on them."
    )
    lines.append("")
    pairs = [("erlen", "fastapi"), ("erlen", "werkzeug"), ("werkzeug", "fastapi")]
    rows = []
    for e in (*ENDPOINTS, WS_ECHO):
        us = {
            n: data.ws_us.get(n) if e == WS_ECHO else data.inproc_us.get((n, e))
            for n in names
        }
        row = [e, *(_cell(us[n], n, e) for n in names)]
        row += [format_ratio(ratio_of(us.get(a), us.get(b))) for a, b in pairs]
        rows.append(row)
    lines += markdown_table(
        ["endpoint", *names, *(f"{a} / {b}" for a, b in pairs)], rows
    )
    if data.instructions:
        lines += [
            "",
            "Instructions per in-process request (callgrind; deterministic, so the"
            " ratios hold on a busy machine):",
            "",
        ]
        counted = [n for n in INSTRUCTION_APPS if n in names]
        rows = []
        for e in INSTRUCTION_ENDPOINTS:
            counts = {n: data.instructions.get((n, e)) for n in counted}
            per = {n: c.per_request if c else None for n, c in counts.items()}
            if not any(per.values()):
                continue
            row = [e, *(_cell(per[n], n, e, 0) for n in counted)]
            row += [format_ratio(ratio_of(per.get(a), per.get(b))) for a, b in pairs]
            rows.append(row)
        lines += markdown_table(
            ["endpoint", *counted, *(f"{a} / {b}" for a, b in pairs)], rows
        )
        for (name, e), result in sorted(data.instructions.items()):
            if result.per_request is None:
                lines.append(f"- instructions {name} {e}: {result.error}")
    if data.rps or data.rate_errors:
        lines += [
            "",
            "Under uvicorn: requests/s; `ws echo`: WebSocket echo round trips/s"
            " (higher is better).",
            "",
        ]
        if data.server_settings:
            lines += [data.server_settings, ""]
        header = ["endpoint", *names, "erlen / fastapi", "erlen / werkzeug"]
        if flask_gunicorn_rps:
            header.append("erlen / flask (gunicorn)")
        rows = []
        for e in (*SERVER_ENDPOINTS, WS_ECHO):
            rps = {n: data.rps.get((n, e)) for n in names}
            row = [e, *(_cell(rps[n], n, e, 0) for n in names)]
            for other in ("fastapi", "werkzeug"):
                row.append(format_ratio(ratio_of(rps.get("erlen"), rps.get(other))))
            if flask_gunicorn_rps:
                fl = flask_gunicorn_rps.get(e)
                row.append(format_ratio(ratio_of(rps.get("erlen"), fl)))
            rows.append(row)
        lines += markdown_table(header, rows)
    for key, problem in sorted({**data.problems, **data.rate_errors}.items()):
        lines.append(f"- {key[0]} {key[1]}: {problem}")
    for name, reason in sorted(data.unavailable.items()):
        lines.append(f"- {name}: {reason}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - manual runs
    # From bench/: python -m harness.asgi [--quick] [--no-servers]
    print(render(measure("--quick" in sys.argv, "--no-servers" not in sys.argv)))
