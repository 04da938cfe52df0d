"""Serve WSGI apps under a real gunicorn (other servers with ``run_server``) and
talk to them over HTTP, for tests.

Used by ``tests-integration/conftest.py`` and ``examples/conftest.py``. Servers
listen on 127.0.0.1 on a port the OS picks; every wait is bounded in time.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import email.message
import http.client
import http.cookiejar
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

#: Generous: on a busy CI machine importing an app with every package takes seconds.
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 10.0
MAX_REDIRECTS = 5

_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def in_ci() -> bool:
    """Tell whether the tests run in CI (``CI=true``), where nothing may skip."""
    return os.environ.get("CI", "").lower() in {"true", "1", "yes"}


def require_server(name: str, available: bool, how_to_install: str) -> None:
    """Skip the calling test when a server is missing, or fail it in CI.

    :param name: the server's name, for the message.
    :param available: whether the server can be started.
    :param how_to_install: the command that installs it.
    """
    if available:
        return
    reason = f"{name} is not installed; install it with: {how_to_install}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing server fails the test)")
    pytest.skip(reason)


@dataclasses.dataclass(frozen=True)
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: email.message.Message
    body: bytes

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8")

    def json(self) -> t.Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        return None


class Client:
    """An HTTP client that keeps cookies between requests, like one browser.

    Redirects are returned as they are unless ``follow_redirects=True``.
    4xx and 5xx responses are returned, never raised.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects()
        )

    def get(self, path: str, **kwargs: t.Any) -> Reply:
        """Send a GET request; see :meth:`request`."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: t.Any) -> Reply:
        """Send a POST request; see :meth:`request`."""
        return self.request("POST", path, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        form: cabc.Mapping[str, str] | None = None,
        json_body: t.Any = None,
        headers: cabc.Mapping[str, str] | None = None,
        follow_redirects: bool = False,
    ) -> Reply:
        """Send a request to ``path`` on the server and read the whole response.

        :param data: the raw body; ``form`` and ``json_body`` encode one instead
            and set its ``Content-Type``.
        :param follow_redirects: follow up to ``MAX_REDIRECTS`` redirects, as a
            browser does (301, 302 and 303 continue with a GET).
        """
        all_headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        url = urllib.parse.urljoin(self.base_url, path)
        for _ in range(MAX_REDIRECTS + 1):
            reply = self._send(method, url, data, all_headers)
            location = reply.headers.get("Location")
            if not follow_redirects or reply.status not in {301, 302, 303, 307, 308}:
                return reply
            if location is None:
                return reply
            url = urllib.parse.urljoin(url, location)
            if reply.status in {301, 302, 303}:
                method, data = "GET", None
                all_headers.pop("Content-Type", None)
        raise AssertionError(f"more than {MAX_REDIRECTS} redirects from {path}")

    def _send(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> Reply:
        request = urllib.request.Request(url, data, headers, method=method)
        try:
            with self._opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers, error.read())


@dataclasses.dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL and its log."""

    url: str
    log_file: Path

    def client(self) -> Client:
        """Return a new client, with an empty cookie jar, for this server."""
        return Client(self.url)

    def log(self) -> str:
        """Return everything the server has written so far."""
        return self.log_file.read_text(errors="replace")

    def send_raw(self, request: bytes, *, close_write: bool = False) -> Reply:
        """Send ``request`` as raw bytes on a new connection and read the reply.

        For requests no HTTP client would send (malformed chunked bodies,
        duplicate headers, bytes that are not ASCII). The request should say
        ``Connection: close``; the reply is read until the server closes the
        connection. ``close_write`` shuts down the sending side after the
        request, like a client that disconnects mid-body.
        """
        host, _, port = self.url.rpartition("/")[2].partition(":")
        address = (host, int(port))
        with socket.create_connection(address, timeout=REQUEST_TIMEOUT) as sock:
            sock.sendall(request)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
            chunks = []
            deadline = time.monotonic() + REQUEST_TIMEOUT
            while time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return parse_raw_reply(b"".join(chunks))


def parse_raw_reply(raw: bytes) -> Reply:
    """Parse an HTTP/1.x response read whole from a socket (no chunked bodies)."""
    if not raw:
        raise AssertionError("the server closed the connection without answering")
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, _, header_text = head.partition(b"\r\n")
    status = int(status_line.split()[1])
    headers = email.message_from_bytes(header_text + b"\r\n\r\n")
    return Reply(status, headers, body)


@contextlib.contextmanager
def run_gunicorn(
    target: str,
    *,
    cwd: Path,
    log_file: Path,
    env: cabc.Mapping[str, str] | None = None,
    workers: int = 1,
    threads: int = 0,
) -> cabc.Iterator[LiveServer]:
    """Serve the WSGI app ``target`` with gunicorn until the block ends.

    :param target: gunicorn's app spec, ``module:name`` or ``module:factory()``,
        importable from ``cwd``.
    :param cwd: the working directory of the server process.
    :param log_file: where gunicorn's output goes.
    :param env: extra environment variables for the server process.
    :param workers: how many worker processes gunicorn starts.
    :param threads: with more than 0, the gthread worker with that many threads
        per process (WebSocket needs it: a sync worker serves one connection at
        a time); else gunicorn's sync worker.
    """
    require_server(
        "gunicorn",
        importlib.util.find_spec("gunicorn") is not None,
        "python -m pip install gunicorn",
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind=127.0.0.1:0",
        f"--workers={workers}",
        *(["--worker-class=gthread", f"--threads={threads}"] if threads else []),
        "--graceful-timeout=5",
        "--log-level=info",
        *_optional_gunicorn_flags("--no-control-socket"),
        target,
    ]
    found: list[int] = []

    def ready() -> bool:
        if not found:
            match = _LISTENING.search(log_file.read_text(errors="replace"))
            found.extend([int(match.group(1))] if match else [])
        return bool(found) and answers(found[0])

    with run_server(
        command,
        name=f"gunicorn serving {target}",
        cwd=cwd,
        log_file=log_file,
        ready=ready,
        env=env,
    ):
        yield LiveServer(f"http://127.0.0.1:{found[0]}", log_file)


def free_port() -> int:
    """Return a port on 127.0.0.1 that is free right now, for servers that need one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_server(
    command: list[str],
    *,
    name: str,
    cwd: Path,
    log_file: Path,
    ready: t.Callable[[], bool],
    env: cabc.Mapping[str, str] | None = None,
) -> cabc.Iterator[subprocess.Popen[bytes]]:
    """Run the server ``command`` until the block ends, entering once ``ready()``.

    Fails the test when the server exits or is not ready within
    ``READY_TIMEOUT``; stops it (terminate, then kill) when the block ends.

    :param name: what the server is, for the messages.
    :param log_file: where its output goes.
    :param env: extra environment variables for the server process.
    """
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, log_file, name, ready)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _optional_gunicorn_flags(*flags: str) -> list[str]:
    """Return those of ``flags`` that the installed gunicorn knows."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {cli for setting in KNOWN_SETTINGS for cli in (setting.cli or ())}
    return [flag for flag in flags if flag in known]


def _wait_until_ready(
    process: subprocess.Popen[bytes],
    log_file: Path,
    name: str,
    ready: t.Callable[[], bool],
) -> None:
    """Wait until ``ready()`` says the server serves, or fail the test."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"{name} exited with status {process.returncode}"
                f" before answering; its output:\n{log_file.read_text()}"
            )
        if ready():
            return
        time.sleep(0.1)
    pytest.fail(
        f"{name} did not answer within {READY_TIMEOUT} s;"
        f" its output:\n{log_file.read_text(errors='replace')}"
    )


def answers(port: int) -> bool:
    """Tell whether an HTTP server on 127.0.0.1:``port`` answers a request now."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("HEAD", "/")
        connection.getresponse().read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True


StartServer = t.Callable[..., LiveServer]


@contextlib.contextmanager
def server_starter(log_dir: Path, default_cwd: Path) -> cabc.Iterator[StartServer]:
    """Yield a function that starts gunicorn servers; all stop when the block ends.

    The function takes the arguments of :func:`run_gunicorn` except ``log_file``;
    ``cwd`` defaults to ``default_cwd``.
    """
    with contextlib.ExitStack() as stack:
        count = 0

        def start(
            target: str,
            *,
            cwd: Path | None = None,
            env: cabc.Mapping[str, str] | None = None,
            workers: int = 1,
            threads: int = 0,
        ) -> LiveServer:
            nonlocal count
            count += 1
            log_file = log_dir / f"gunicorn-{count}.log"
            return stack.enter_context(
                run_gunicorn(
                    target,
                    cwd=cwd or default_cwd,
                    log_file=log_file,
                    env=env,
                    workers=workers,
                    threads=threads,
                )
            )

        yield start
