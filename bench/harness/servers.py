"""Measure 3: requests per second behind real servers on 127.0.0.1.

Each server kind (gunicorn with 2 sync workers, granian's WSGI interface with 2
workers) is started once per app, all apps at the same time on distinct ports.
Each server gets a bounded readiness wait that also checks the response, then a
short warm-up; the measured runs are interleaved across apps. Load comes from
``wrk`` when it is installed, else from a bounded Python generator. Every server
is killed (its whole process group) when measuring ends, whatever happened.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from apps import common

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = 2
CONNECTIONS = 4
READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class Rate:
    """Median requests per second over rounds, or why it was not measured."""

    rps: float | None
    error: str | None = None
    samples: tuple[float, ...] = ()


def _tool(name: str) -> str | None:
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.path.exists(local) else shutil.which(name)


def server_command(
    kind: str, port: int, target: str = "apps.wsgi:app"
) -> list[str] | None:
    """Return the command line that serves ``target`` with ``kind`` on 127.0.0.1.

    :param kind: ``gunicorn`` (sync workers), ``granian`` (WSGI interface) or
        ``uvicorn`` (ASGI); ``WORKERS`` workers each.
    :returns: ``None`` when that server is not installed.
    """
    if kind == "gunicorn":
        options = ["--worker-class", "sync", "--bind", f"127.0.0.1:{port}"]
    elif kind in ("granian", "uvicorn"):
        options = ["--host", "127.0.0.1", "--port", str(port)]
        options += ["--interface", "wsgi"] if kind == "granian" else ["--no-access-log"]
    else:
        raise ValueError(
            f"unknown server {kind!r}; use 'gunicorn', 'granian' or 'uvicorn'"
        )
    exe = _tool(kind)
    if exe is None:
        return None
    return [exe, "--workers", str(WORKERS), *options, "--log-level", "warning", target]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server process (its own process group) and where it listens."""

    app: str
    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log: t.IO[bytes]
    error: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def log_tail(self) -> str:
        """Return the last lines the server wrote, for error messages."""
        self.log.flush()
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return " | ".join(lines[-5:])

    def stop(self) -> None:
        """Terminate the server's process group, then kill it if it lingers."""
        if self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def start(kind: str, app: str) -> Server | None:
    """Start server ``kind`` for ``app``; ``None`` if the server is not installed."""
    port = free_port()
    command = server_command(kind, port)
    if command is None:
        return None
    return launch(app, kind, port, command, {"BENCH_APP": app})


def launch(
    app: str, kind: str, port: int, command: list[str], env: t.Mapping[str, str]
) -> Server:
    """Run ``command`` from bench/ in its own process group, ``env`` added to ours."""
    environ = {**os.environ, **env}
    environ["PYTHONPATH"] = BENCH_DIR + os.pathsep + environ.get("PYTHONPATH", "")
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        command,
        cwd=BENCH_DIR,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Server(app, kind, port, process, log)


def fetch(
    port: int, endpoint: common.Endpoint, cookie: str | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Make one request to ``endpoint`` on 127.0.0.1 and return the response."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Connection": "close"}
        if endpoint.content_type:
            headers["Content-Type"] = endpoint.content_type
        if cookie:
            headers["Cookie"] = cookie
        conn.request(endpoint.method, endpoint.path, endpoint.body or None, headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def wait_ready(server: Server, endpoint: common.Endpoint) -> None:
    """Wait (bounded) until ``server`` answers ``endpoint`` correctly.

    Sets ``server.error`` when it exits, answers wrongly, or is not ready in time.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            server.error = (
                f"exited with {server.process.returncode}: {server.log_tail()}"
            )
            return
        try:
            status, headers, body = fetch(server.port, endpoint)
        except OSError as e:
            last = str(e)
            time.sleep(0.1)
            continue
        problem = endpoint.check(status, headers, body)
        if problem is None:
            return
        last = problem
        time.sleep(0.1)
    server.error = f"not ready within {READY_TIMEOUT:.0f}s: {last}"


_RPS = re.compile(r"Requests/sec:\s*([0-9.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")


def _wrk_script(method: str, body: bytes) -> str:
    """Return a wrk Lua script that sends ``method`` with ``body`` (bytes escaped)."""
    escaped = "".join(f"\\{b:03d}" for b in body)
    return f'wrk.method = "{method}"\nwrk.body = "{escaped}"\n'


def run_wrk(
    wrk: str,
    url: str,
    seconds: float,
    method: str = "GET",
    body: bytes = b"",
    headers: t.Mapping[str, str] | None = None,
) -> float:
    """Return requests/s that ``wrk`` measured against ``url`` for ``seconds``.

    A method other than GET or a body goes through a small Lua script; headers
    (a cookie, a content type) through ``-H``.

    :raises RuntimeError: wrk failed or saw non-2xx answers.
    """
    duration = max(1, round(seconds))
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{duration}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if method != "GET" or body:
            script.write(_wrk_script(method, body))
            script.flush()
            command += ["-s", script.name]
        proc = subprocess.run(
            [*command, url],
            capture_output=True,
            text=True,
            timeout=duration + 30,
        )
    return wrk_rate(proc)


def wrk_rate(proc: subprocess.CompletedProcess[str]) -> float:
    """Return the requests/s a finished wrk run printed.

    :raises RuntimeError: wrk failed or saw non-2xx answers.
    """
    match = _RPS.search(proc.stdout)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed: {proc.stdout.strip()} {proc.stderr.strip()}")
    bad = _NON_2XX.search(proc.stdout)
    if bad is not None and int(bad.group(1)):
        raise RuntimeError(f"{bad.group(1)} responses were not 2xx")
    return float(match.group(1))


def run_python_load(
    port: int,
    path: str,
    seconds: float,
    method: str = "GET",
    body: bytes = b"",
    headers: t.Mapping[str, str] | None = None,
) -> float:
    """Return requests/s from a bounded Python load generator (wrk's stand-in).

    ``CONNECTIONS`` threads send requests on keep-alive connections until
    ``seconds`` pass or 200,000 requests are done, reconnecting when closed.
    """
    deadline = time.monotonic() + seconds
    limit = 200_000
    lock = threading.Lock()
    counts = {"ok": 0, "bad": 0}

    def worker() -> None:
        conn: http.client.HTTPConnection | None = None
        while time.monotonic() < deadline:
            with lock:
                if counts["ok"] + counts["bad"] >= limit:
                    return
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request(method, path, body or None, dict(headers or {}))
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                ok = False
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                counts["ok" if ok else "bad"] += 1
        if conn is not None:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 10)
    elapsed = time.monotonic() - started
    if counts["bad"]:
        raise RuntimeError(f"{counts['bad']} requests failed or were not 200")
    return counts["ok"] / elapsed


def load(
    port: int,
    path: str,
    seconds: float,
    method: str = "GET",
    body: bytes = b"",
    headers: t.Mapping[str, str] | None = None,
) -> float:
    """Return the requests/s measured on ``path`` with wrk or the Python generator."""
    wrk = shutil.which("wrk")
    if wrk is not None:
        url = f"http://127.0.0.1:{port}{path}"
        return run_wrk(wrk, url, seconds, method, body, headers)
    return run_python_load(port, path, seconds, method, body, headers)


def load_generator() -> str:
    """Name the load generator :func:`load` uses on this machine."""
    return "wrk" if shutil.which("wrk") else "python (wrk not installed)"


def check_endpoints(server: Server, endpoints: t.Sequence[common.Endpoint]) -> None:
    """Wait for ``server`` on the first endpoint, then check every one through it.

    Sets ``server.error`` at the first problem.
    """
    wait_ready(server, endpoints[0])
    for endpoint in endpoints:
        if server.error is not None:
            return
        try:
            status, headers, body = fetch(server.port, endpoint)
        except (OSError, http.client.HTTPException) as e:
            server.error = f"{endpoint.name}: {e}"
            return
        problem = endpoint.check(status, headers, body)
        if problem is not None:
            server.error = f"{endpoint.name}: {problem}"


def _prepare(server: Server, endpoints: t.Sequence[str]) -> None:
    """Wait for ``server``, check every endpoint through it, and warm it up.

    Sets ``server.error`` at the first problem.
    """
    check_endpoints(server, [common.ENDPOINTS_BY_NAME[name] for name in endpoints])
    if server.error is None:
        try:
            load(server.port, common.ENDPOINTS_BY_NAME[endpoints[0]].path, 1.0)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            server.error = f"warm-up failed: {e}"


def _rounds(
    servers: list[Server],
    endpoints: t.Sequence[str],
    rounds: int,
    seconds: float,
    shuffler: random.Random,
) -> dict[tuple[str, str], Rate]:
    """Load every ready server in shuffled order, ``rounds`` times per endpoint."""
    samples: dict[tuple[str, str], list[float]] = {}
    errors: dict[tuple[str, str], str] = {}
    for _ in range(rounds):
        for name in endpoints:
            path = common.ENDPOINTS_BY_NAME[name].path
            order = [s for s in servers if s.error is None]
            shuffler.shuffle(order)
            for server in order:
                key = (server.app, name)
                if key in errors:
                    continue
                try:
                    samples.setdefault(key, []).append(load(server.port, path, seconds))
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    errors[key] = str(e)
    rates: dict[tuple[str, str], Rate] = {}
    for server in servers:
        for name in endpoints:
            key = (server.app, name)
            if server.error is not None:
                rates[key] = Rate(None, server.error)
            elif key in errors:
                rates[key] = Rate(None, errors[key])
            elif key in samples:
                values = tuple(samples[key])
                rates[key] = Rate(statistics.median(values), None, values)
    return rates


def measure(
    kinds: t.Sequence[str],
    apps: t.Sequence[str],
    endpoints: t.Sequence[str],
    rounds: int,
    seconds: float,
    seed: int = 1,
) -> dict[tuple[str, str, str], Rate]:
    """Return requests/s keyed by ``(server, app, endpoint)``.

    Only endpoints answered by a plain GET without a cookie can be loaded here.
    """
    shuffler = random.Random(seed)
    results: dict[tuple[str, str, str], Rate] = {}
    for kind in kinds:
        servers: list[Server] = []
        try:
            for app in apps:
                server = start(kind, app)
                if server is None:
                    break
                servers.append(server)
            if not servers:
                for app in apps:
                    for name in endpoints:
                        results[kind, app, name] = Rate(
                            None, f"{kind} is not installed"
                        )
                continue
            for server in servers:
                _prepare(server, endpoints)
            rates = _rounds(servers, endpoints, rounds, seconds, shuffler)
        finally:
            for server in servers:
                server.stop()
        for (app, name), rate in rates.items():
            results[kind, app, name] = rate
            shown = f"{rate.rps:,.0f}/s" if rate.rps is not None else rate.error
            print(f"  {kind} {app} {name}: {shown}", file=sys.stderr, flush=True)
    return results
