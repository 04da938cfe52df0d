"""Hostile ``Host`` headers: erlen answers what plain Werkzeug answers, never a 500
(400 where a Werkzeug release fails on it)."""

from __future__ import annotations

import asyncio
import typing as t

import pytest
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse

import erlen
from erlen.inputs import check_host_syntax

#: Host headers a client can send; some are names ``Map.bind`` refuses.
HOSTILE_HOSTS = [
    ".",
    ".example.com",
    ".a:80",
    "a..b",
    "a.",
    "..",
    "[::1",
    "[::1]:80",
    "é.com",
    "\xc3\xa9.example.com",  # UTF-8 bytes as a WSGI server passes them
    "x" * 300,
    "a" * 64 + ".com",
    ".".join(["a" * 63] * 5),
    "a b",
    "a:99999",
    "a:x",
    ":80",
    "",
]

TRUSTED = [None, [".example.com"], ["example.com", "localhost"]]

#: Every hostile host, each its own test.
each_hostile_host = pytest.mark.parametrize(
    "host", HOSTILE_HOSTS, ids=range(len(HOSTILE_HOSTS))
)


def _docs_app(trusted: list[str] | None) -> erlen.Erlen:
    """An app with ``TRUSTED_HOSTS = trusted`` and one route, ``/docs/``."""
    app = erlen.Erlen(__name__)
    app.config["TRUSTED_HOSTS"] = trusted

    @app.route("/docs/")
    def docs() -> str:
        return "docs"

    return app


@pytest.fixture(params=TRUSTED, ids=["unset", "dot-domain", "names"])
def trusted(request: pytest.FixtureRequest) -> list[str] | None:
    """Each ``TRUSTED_HOSTS`` setting: unset, a dot-domain, a list of names."""
    return t.cast("list[str] | None", request.param)


@pytest.fixture
def docs_app(trusted: list[str] | None) -> erlen.Erlen:
    """The ``/docs/`` app with each ``TRUSTED_HOSTS`` setting."""
    return _docs_app(trusted)


def _on_the_wire(host: str) -> bytes:
    """The header's bytes as a server passes them to ASGI."""
    return host.encode("latin-1", "replace")


def _status(app: t.Any, host: str) -> int:
    """Call a WSGI app as a server would, with ``Host: host``; a raised error is 500.

    (Werkzeug 3.1.0's test client cannot send some of these hosts at all.)
    """
    environ = EnvironBuilder("/docs", headers={"Host": host}).get_environ()
    statuses: list[str] = []

    def start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
        statuses.append(status)
        return lambda data: None

    try:
        body = app(environ, start_response)
        try:
            b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
    except Exception:
        return 500
    return int(statuses[-1].split()[0])


def _werkzeug_app(trusted: list[str] | None) -> t.Any:
    """Plain Werkzeug with the same route, validating the host as Flask does."""
    url_map = Map([Rule("/docs/", endpoint="docs")])

    @WerkzeugRequest.application  # type: ignore[arg-type]
    def app(request: WerkzeugRequest) -> WerkzeugResponse:
        try:
            if trusted is not None:
                request.trusted_hosts = trusted
                request.host  # noqa: B018 -- validates it
            url_map.bind_to_environ(request.environ).match()
        except HTTPException as e:
            return e.get_response(request.environ)  # type: ignore[return-value]
        return WerkzeugResponse("docs")

    return app


@each_hostile_host
def test_hostile_host_same_status_as_werkzeug(
    host: str, trusted: list[str] | None, docs_app: erlen.Erlen
) -> None:
    status = _status(docs_app, host)
    werkzeug_status = _status(_werkzeug_app(trusted), host)
    if werkzeug_status == 500:  # a Werkzeug release that fails on this host
        assert status == 400
    else:
        assert status == werkzeug_status


@pytest.mark.usefixtures("any_app_entry")  # through the WSGI and the ASGI entry
@pytest.mark.parametrize("host", [".", ".example.com", ".a:80"])
def test_bad_host_is_400_for_slash_redirect(host: str) -> None:
    app = _docs_app([".example.com"])
    assert app.test_client().get("/docs", headers={"Host": host}).status_code == 400


@pytest.mark.parametrize(
    "host", ["localhost", "a:80", "[::1]", "[::1]:8080", "a:65535", "a:", "", "é.com"]
)
def test_host_syntax_accepts(host: str) -> None:
    check_host_syntax(host)


@pytest.mark.parametrize(
    "host", ["[::1", "a:99999", "a:65536", "a:x", "a:1:2", "[::1]x", "a]", "a:١٢"]
)
def test_host_syntax_refuses_hosts_that_cannot_form_a_url(host: str) -> None:
    with pytest.raises(BadRequest, match="is not a valid host"):
        check_host_syntax(host)


@pytest.mark.parametrize(
    "name",
    [
        ".",
        "..",
        "a.",
        ".a",
        "a..b",
        "a" * 63,
        "a" * 64,
        "b." + "a" * 63 + ".",
        "",
        "x.y",
    ],
)
def test_fast_binding_refuses_what_the_idna_codec_refuses(name: str) -> None:
    """The fast path checks ASCII names as the codec Werkzeug's Map.bind uses."""
    app = erlen.Erlen(__name__)
    app.add_url_rule("/", "index", lambda: "index")
    try:
        name.encode("idna")
    except UnicodeError:
        codec_ok = False
    else:
        codec_ok = True
    with app.test_request_context("/", headers={"Host": name}) as ctx:
        error = ctx.request.routing_exception
        if codec_ok:
            assert error is None
        else:
            assert error is not None and error.code == 400


def _scope(
    kind: str, path: str, headers: list[tuple[bytes, bytes]]
) -> dict[str, t.Any]:
    """An ASGI ``http`` or ``websocket`` scope for ``path`` as a server sends it."""
    return {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http" if kind == "http" else "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


def _asgi_status(app: erlen.Erlen, headers: list[tuple[bytes, bytes]]) -> int:
    """Call the ASGI entry as a server would; a raised error is 500."""
    sent: list[t.Any] = []

    async def receive() -> t.Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: t.Any) -> None:
        sent.append(message)

    scope = {**_scope("http", "/docs", headers), "method": "GET"}
    try:
        asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    except Exception:
        return 500
    return int(sent[0]["status"])


@each_hostile_host
def test_hostile_host_same_status_under_asgi(host: str, docs_app: erlen.Erlen) -> None:
    """The ASGI entry builds the environ from the scope's headers: same answer."""
    # A server passes the header's bytes; the WSGI environ holds them as latin-1.
    status = _asgi_status(docs_app, [(b"host", _on_the_wire(host))])
    assert status != 500
    assert status == _status(docs_app, _on_the_wire(host).decode("latin-1"))


@pytest.mark.parametrize(
    "headers",
    [
        [(b"host", b"a.example.com"), (b"host", b"b.example.com")],
        [(b"host", b".")] * 2,
        [(b"host", b"\xff\xfe.example.com")],
        [(b"host", b"a\x00b.example.com")],
        [(b"host", "ä.example.com".encode())],
        [],
    ],
    ids=["two-hosts", "two-bad-hosts", "bytes", "nul", "utf-8", "no-host"],
)
def test_host_headers_only_asgi_can_carry_are_never_a_500(
    headers: list[tuple[bytes, bytes]], docs_app: erlen.Erlen
) -> None:
    assert _asgi_status(docs_app, headers) in {308, 400}


def _websocket_messages(app: erlen.Erlen, host: str) -> list[str]:
    """Open a WebSocket to ``/ws/`` as a server would; the types of what the app sent."""
    sent: list[str] = []
    connect = [{"type": "websocket.connect"}]

    async def receive() -> t.Any:
        if connect:
            return connect.pop()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: t.Any) -> None:
        sent.append(f"{message['type']} {message.get('code', '')}".strip())

    scope = _scope("websocket", "/ws/", [(b"host", _on_the_wire(host))])
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    return sent


@each_hostile_host
def test_hostile_host_refuses_the_websocket_handshake(
    host: str, docs_app: erlen.Erlen
) -> None:
    """A host an HTTP request answers 400 for closes the handshake (1008), no error."""

    @docs_app.websocket("/ws/")
    async def ws() -> None:
        await erlen.websocket.send("hi")

    sent = _websocket_messages(docs_app, host)
    bad_host = _status(docs_app, _on_the_wire(host).decode("latin-1")) == 400
    if bad_host:
        assert sent == ["websocket.close 1008"]
    else:
        assert sent[0] == "websocket.accept"
