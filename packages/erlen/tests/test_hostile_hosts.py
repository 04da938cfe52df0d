"""Hostile ``Host`` headers: erlen answers what plain Werkzeug answers, never a 500
(400 where a Werkzeug release fails on it)."""

from __future__ import annotations

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


@pytest.mark.parametrize("trusted", TRUSTED, ids=["unset", "dot-domain", "names"])
@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=range(len(HOSTILE_HOSTS)))
def test_hostile_host_same_status_as_werkzeug(
    host: str, trusted: list[str] | None
) -> None:
    app = erlen.Erlen(__name__)
    app.config["TRUSTED_HOSTS"] = trusted

    @app.route("/docs/")
    def docs() -> str:
        return "docs"

    status = _status(app, host)
    werkzeug_status = _status(_werkzeug_app(trusted), host)
    if werkzeug_status == 500:  # a Werkzeug release that fails on this host
        assert status == 400
    else:
        assert status == werkzeug_status


@pytest.mark.parametrize("host", [".", ".example.com", ".a:80"])
def test_bad_host_is_400_for_slash_redirect(host: str) -> None:
    app = erlen.Erlen(__name__)
    app.config["TRUSTED_HOSTS"] = [".example.com"]

    @app.route("/docs/")
    def docs() -> str:
        return "docs"

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
