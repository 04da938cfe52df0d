"""Secure defaults: bad input never becomes a 500, safe redirects, headers, checks."""

from __future__ import annotations

import io
import json
import math
import typing as t

import click
import pytest
from werkzeug.exceptions import BadRequest

import erlen
from erlen import request
from erlen import session
from erlen.ext import add_deploy_check
from erlen.ext import DeployProblem
from erlen.ext import Extension
from erlen.security import auth_cookie_options
from erlen.security import is_safe_redirect_url
from erlen.security import no_security_headers
from erlen.security import RedirectLocationError
from erlen.security import security_headers
from erlen.testing import ErlenClient
from erlen.testing_asgi import AsgiClient

MiB = 1024 * 1024


@pytest.fixture
def app(entry: str) -> erlen.Erlen:
    app = erlen.Erlen("erlen_test")
    app.config.update(SECRET_KEY="test key", TESTING=True)
    if entry == "asgi":
        app.test_client_class = AsgiClient

    @app.post("/data")
    def data() -> dict[str, t.Any]:
        return {"len": len(request.get_data())}

    @app.post("/stream")
    def stream() -> dict[str, t.Any]:
        return {"len": len(request.stream.read())}

    @app.post("/form")
    def form() -> dict[str, t.Any]:
        return {"form": request.form.to_dict(), "files": sorted(request.files)}

    @app.post("/json")
    def json_body() -> dict[str, t.Any]:
        return {"got": request.json}

    @app.get("/int/<int:n>")
    def int_view(n: int) -> dict[str, t.Any]:
        return {"n": n}

    @app.get("/signed/<int(signed=True):n>")
    def signed_view(n: int) -> dict[str, t.Any]:
        return {"n": n}

    @app.get("/float/<float:x>")
    def float_view(x: float) -> dict[str, t.Any]:
        return {"x": x}

    @app.get("/path/<path:p>")
    def path_view(p: str) -> dict[str, t.Any]:
        return {"p": p}

    @app.get("/cookies")
    def cookies() -> dict[str, t.Any]:
        return dict(request.cookies)

    @app.get("/go")
    def go() -> t.Any:
        return erlen.redirect(request.args["to"])

    @app.get("/session")
    def read_session() -> dict[str, t.Any]:
        return {"v": session.get("v")}

    @app.post("/session")
    def write_session() -> str:
        session["v"] = request.args.get("v", "1")
        return "saved"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    return app


CHUNKED: dict[str, t.Any] = {
    "headers": {"Transfer-Encoding": "chunked"},
    "environ_overrides": {"wsgi.input_terminated": True},
}


def chunked(client: ErlenClient, path: str, body: bytes, **kwargs: t.Any) -> t.Any:
    """POST a body without Content-Length, as a server passes a chunked one."""
    return client.post(path, input_stream=io.BytesIO(body), **CHUNKED, **kwargs)


def assert_not_5xx(response: t.Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)


# -- reading the body ------------------------------------------------------------


def test_default_body_limit_is_16_mib(app: erlen.Erlen, client: ErlenClient) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * MiB
    assert client.post("/data", data=b"x" * (16 * MiB + 1)).status_code == 413
    assert client.post("/data", data=b"x" * 1000).json == {"len": 1000}


def test_body_limit_none_turns_it_off(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = None
    assert client.post("/data", data=b"x" * (16 * MiB + 1)).json == {
        "len": 16 * MiB + 1
    }
    assert chunked(client, "/data", b"y" * 5000).json == {"len": 5000}


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/data", None, b"x" * 2000),
        ("/stream", None, b"x" * 2000),
        ("/form", "application/x-www-form-urlencoded", b"a=" + b"x" * 2000),
        (
            "/form",
            "multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="f"; filename="f.txt"\r\n\r\n'
            + b"x" * 2000
            + b"\r\n--B--\r\n",
        ),
        ("/json", "application/json", b'"' + b"x" * 2000 + b'"'),
    ],
    ids=["get_data", "stream", "form", "files", "json"],
)
def test_chunked_body_over_the_limit_is_413_on_every_path(
    app: erlen.Erlen,
    client: ErlenClient,
    path: str,
    content_type: str | None,
    body: bytes,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    rv = chunked(client, path, body, content_type=content_type)
    assert rv.status_code == 413
    rv = client.post(path, data=body, content_type=content_type)
    assert rv.status_code == 413


def test_chunked_body_at_the_limit_is_read_whole(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1000
    assert chunked(client, "/data", b"x" * 1000).json == {"len": 1000}
    assert chunked(client, "/stream", b"x" * 999).json == {"len": 999}
    rv = chunked(
        client,
        "/form",
        b"a=" + b"x" * 998,
        content_type="application/x-www-form-urlencoded",
    )
    assert rv.json == {"form": {"a": "x" * 998}, "files": []}


class BrokenStream(io.BytesIO):
    """A server's input stream that fails mid-body, like gunicorn on bad chunks."""

    def __init__(self, error: Exception) -> None:
        super().__init__(b"x" * 100)
        self.error = error
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise self.error
        return b"[1,"

    def readinto(self, b: t.Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class ParseError(Exception):
    """Stands in for a server's own parser error (not an OSError)."""


@pytest.mark.parametrize(
    "error", [ParseError("Invalid chunk size: b'zz'"), OSError("connection reset")]
)
@pytest.mark.parametrize("path", ["/data", "/stream", "/json"])
@pytest.mark.wsgi_only(
    "a WSGI server's input stream errors; under ASGI a disconnect ends the request"
)
def test_body_read_error_is_a_400_with_a_reason(
    client: ErlenClient, error: Exception, path: str
) -> None:
    for kwargs in ({}, CHUNKED):
        rv = client.post(
            path,
            input_stream=BrokenStream(error),
            content_type="application/json",
            **kwargs,
        )
        assert rv.status_code == 400
    assert "could not be read" in rv.get_data(as_text=True) or (
        "ended before it was complete" in rv.get_data(as_text=True)
    )


def test_body_shorter_than_content_length_is_a_400(client: ErlenClient) -> None:
    rv = client.post(
        "/data",
        input_stream=io.BytesIO(b"abc"),
        environ_overrides={"CONTENT_LENGTH": "100"},
    )
    assert rv.status_code == 400
    assert "ended before it was complete" in rv.get_data(as_text=True)


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("multipart/form-data", b"--B\r\n\r\nx", "Missing boundary"),
        (
            "multipart/form-data; boundary=B",
            b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue',
            "could not be parsed",
        ),
        (
            "multipart/form-data; boundary=B",
            b"--B\r\nno headers",
            "could not be parsed",
        ),
        ("application/x-www-form-urlencoded", b"a=\xff\xfe", "could not be parsed"),
    ],
    ids=["missing boundary", "truncated", "no part headers", "bad utf-8"],
)
def test_malformed_form_body_is_a_400_with_a_reason(
    client: ErlenClient, content_type: str, body: bytes, reason: str
) -> None:
    rv = client.post("/form", data=body, content_type=content_type)
    assert rv.status_code == 400
    assert reason in rv.get_data(as_text=True)


def test_form_limits_keep_their_meaning(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 10
    rv = client.post("/form", data={"a": "x" * 100, "f": (io.BytesIO(b"x"), "f.txt")})
    assert rv.status_code == 413
    app.config["MAX_FORM_MEMORY_SIZE"] = 500_000
    app.config["MAX_FORM_PARTS"] = 2
    rv = client.post(
        "/form", data={"a": "1", "b": "2", "f": (io.BytesIO(b"x"), "f.txt")}
    )
    assert rv.status_code == 413


# -- JSON --------------------------------------------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nesting_limit(app: erlen.Erlen, client: ErlenClient) -> None:
    assert app.config["MAX_JSON_DEPTH"] == 256
    assert client.post("/json", json=json.loads(nested(256))).status_code == 200
    rv = client.post("/json", data=nested(257), content_type="application/json")
    assert rv.status_code == 400
    assert "Invalid JSON body: nesting is deeper than 256 levels" in rv.text


def test_json_nesting_ignores_brackets_in_strings(client: ErlenClient) -> None:
    body = json.dumps({"s": "[" * 1000, "t": '\\"{' * 500})
    rv = client.post("/json", data=body, content_type="application/json")
    assert rv.status_code == 200
    assert rv.json["got"]["s"] == "[" * 1000


def test_json_nesting_limit_is_configurable(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["MAX_JSON_DEPTH"] = 3
    assert client.post("/json", json=[[[1]]]).status_code == 200
    assert client.post("/json", json=[[[[1]]]]).status_code == 400


def test_huge_nesting_without_limit_is_still_a_400(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["MAX_JSON_DEPTH"] = None
    rv = client.post("/json", data=nested(100_000), content_type="application/json")
    assert rv.status_code == 400
    assert "Invalid JSON body: nesting is too deep" in rv.text


@pytest.mark.parametrize("body", ["[NaN]", '{"a": Infinity}', "-Infinity"])
def test_non_finite_numbers_are_rejected(client: ErlenClient, body: str) -> None:
    rv = client.post("/json", data=body, content_type="application/json")
    assert rv.status_code == 400
    assert "is not valid JSON" in rv.text


@pytest.mark.parametrize("body", ["1e999", "[-1e400]", '{"a": 1.5e309}'])
def test_numbers_too_large_for_a_float_are_rejected(
    client: ErlenClient, body: str
) -> None:
    """``1e999`` would parse as infinity and fail later, when echoed: a 400 now."""
    rv = client.post("/json", data=body, content_type="application/json")
    assert rv.status_code == 400
    assert "is out of range" in rv.text
    ok = client.post("/json", data="[1e308, 2.5]", content_type="application/json")
    assert ok.status_code == 200


def test_non_finite_numbers_are_never_emitted(app: erlen.Erlen) -> None:
    with app.app_context():
        with pytest.raises(ValueError, match="not JSON compliant"):
            erlen.jsonify(math.nan)
        with pytest.raises(ValueError, match="not JSON compliant"):
            app.json.dumps({"a": math.inf})
        app.json.allow_nan = True  # type: ignore[attr-defined]
        assert app.json.dumps(math.inf) == "Infinity"
        assert math.isnan(app.json.loads("NaN"))


def test_invalid_json_reason_is_shown_outside_debug(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    assert not app.debug
    rv = client.post("/json", data="{", content_type="application/json")
    assert rv.status_code == 400
    assert "Invalid JSON body: Expecting property name" in rv.text


def test_json_from_a_non_json_body_is_a_415(client: ErlenClient) -> None:
    rv = client.post(
        "/json", data="a=1", content_type="application/x-www-form-urlencoded"
    )
    assert rv.status_code == 415


# -- cookies -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "name=caf\xc3\xa9",  # raw UTF-8 bytes as a WSGI server passes them
        "name=\xff\xfe",
        'name="\\377\\376"',  # escapes that do not decode as UTF-8
        "name=" + "x" * 5000,
    ],
    ids=["non-ascii", "undecodable bytes", "undecodable escapes", "oversized"],
)
def test_bad_cookie_is_absent(app: erlen.Erlen, header: str) -> None:
    client = app.test_client(use_cookies=False)
    rv = client.get("/cookies", environ_overrides={"HTTP_COOKIE": f"{header}; good=1"})
    assert rv.status_code == 200
    assert rv.json == {"good": "1"}


def test_escaped_unicode_cookie_set_by_the_app_is_kept(app: erlen.Erlen) -> None:
    client = app.test_client(use_cookies=False)
    rv = client.get(
        "/cookies", environ_overrides={"HTTP_COOKIE": 'name="caf\\303\\251"'}
    )
    assert rv.json == {"name": "café"}


@pytest.mark.parametrize(
    "value", ["\xff\xfe", "x" * 5000, "eyJ2IjoiMSJ9.bad.signature"], ids=repr
)
def test_bad_session_cookie_is_an_empty_session(app: erlen.Erlen, value: str) -> None:
    client = app.test_client(use_cookies=False)
    rv = client.get("/session", environ_overrides={"HTTP_COOKIE": f"session={value}"})
    assert rv.status_code == 200
    assert rv.json == {"v": None}


# -- URLs and hosts --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/%zz", "/int/%ff", "/path/%", "/path/a%00b", "/path/%0d%0a", "/" + "a" * 100_000],
)
def test_odd_urls_are_never_a_500(client: ErlenClient, path: str) -> None:
    rv = client.get(path)
    assert_not_5xx(rv)


@pytest.mark.parametrize(
    "path", ["/int/\u0661\u0662", "/int/\uff11", "/int/1_000", "/float/\u0661.5"]
)
def test_number_converters_accept_ascii_digits_only(
    client: ErlenClient, path: str
) -> None:
    assert client.get(path).status_code == 404


def test_number_converters_still_work(client: ErlenClient) -> None:
    assert client.get("/int/12").json == {"n": 12}
    assert client.get("/signed/-7").json == {"n": -7}
    assert client.get("/float/1.5").json == {"x": 1.5}


@pytest.mark.parametrize(
    ("host", "status"),
    [
        (None, 400),
        ("a.example, b.example", 400),
        ("evil.example", 400),
        ("a.example", 200),
    ],
    ids=["missing", "duplicated", "untrusted", "trusted"],
)
def test_trusted_hosts(
    app: erlen.Erlen, client: ErlenClient, host: str | None, status: int
) -> None:
    app.config["TRUSTED_HOSTS"] = ["a.example"]
    environ: dict[str, t.Any] = {"HTTP_HOST": host} if host else {}
    rv = client.get("/plain", environ_overrides=environ)
    if host is None:
        rv = client.get("/plain", environ_overrides={"HTTP_HOST": ""})
    assert rv.status_code == status


# -- safe redirects ----------------------------------------------------------------------

SAFE = [
    "/account",
    "page?x=1",
    "/a/b#c",
    "https://good.example/x",
    "http://GOOD.example:8000/",
    "/%2F%2Fevil",
]
UNSAFE = [
    "",
    "//evil.example",
    "////evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>x</script>",
    "ftp://good.example/",
    "https://evil.example/",
    "http:evil.example",
    "https:/evil.example",
    "http:////evil.example",
    "http://good.example@evil.example/",
    "http://evil.example\\@good.example/",
    "http://good.example\\@evil.example/",
    "http://evil.example#@good.example",
    "http://good.example:bad/",
    "https://sub.good.example/",
]


@pytest.mark.parametrize("url", SAFE)
def test_safe_redirect_urls(url: str) -> None:
    assert is_safe_redirect_url(url, host="good.example")


@pytest.mark.parametrize("url", UNSAFE, ids=repr)
def test_unsafe_redirect_urls(url: str) -> None:
    assert not is_safe_redirect_url(url, host="good.example")


def test_safe_redirect_options() -> None:
    assert is_safe_redirect_url(
        "https://a.sub.good.example/", allowed_hosts=[".good.example"]
    )
    assert is_safe_redirect_url(
        "https://good.example/", allowed_hosts=[".good.example"]
    )
    assert not is_safe_redirect_url(
        "https://notgood.example/", allowed_hosts=[".good.example"]
    )
    assert not is_safe_redirect_url(
        "http://good.example/", host="good.example", require_https=True
    )
    assert not is_safe_redirect_url("/x", require_https=True)
    assert not is_safe_redirect_url(None)
    assert not is_safe_redirect_url("https://good.example/")
    assert is_safe_redirect_url("/x")


def test_safe_redirect_uses_the_request_host(app: erlen.Erlen) -> None:
    with app.test_request_context("/", base_url="http://app.example"):
        assert is_safe_redirect_url("http://app.example/next")
        assert not is_safe_redirect_url("http://other.example/next")


def test_redirect_encodes_control_characters(client: ErlenClient) -> None:
    rv = client.get("/go", query_string={"to": "/x\r\nSet-Cookie: a=b\x00"})
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/x%0D%0ASet-Cookie:%20a=b%00"
    assert "Set-Cookie" not in rv.headers


def test_redirect_to_an_unencodable_url_is_a_400(client: ErlenClient) -> None:
    for target in ("http://a:bad/", "http://[::1/", "http://" + "a" * 64 + ".example/"):
        rv = client.get("/go", query_string={"to": target})
        assert rv.status_code == 400
        assert "is not a valid URL" in rv.text


def test_redirect_error_can_be_caught_in_app_code(app: erlen.Erlen) -> None:
    with app.app_context(), pytest.raises(RedirectLocationError) as info:
        erlen.redirect("http://a:bad/")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, BadRequest)


def test_redirect_outside_an_app_encodes_too() -> None:
    rv = erlen.redirect("/x\ny")
    assert rv.headers["Location"] == "/x%0Ay"


# -- session cookies ------------------------------------------------------------------------


def test_session_cookie_is_lax_and_httponly(client: ErlenClient) -> None:
    rv = client.post("/session")
    cookie = rv.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" not in cookie


def test_secure_setting_covers_session_and_auth_cookies(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Secure" in client.post("/session").headers["Set-Cookie"]
    assert auth_cookie_options(app) == {
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
    }


def test_host_prefixed_session_cookie(app: erlen.Erlen) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="__Host-session",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
    )
    client = app.test_client()
    rv = client.post("/session?v=2", base_url="https://localhost")
    cookie = rv.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie
    assert "Path=/;" in cookie or cookie.endswith("Path=/")
    assert "Domain" not in cookie
    assert client.get("/session", base_url="https://localhost").json == {"v": "2"}


def test_session_use_makes_response_private(client: ErlenClient) -> None:
    rv = client.post("/session")
    assert rv.headers["Vary"] == "Cookie"
    assert rv.headers["Cache-Control"] == "private"
    rv = client.get("/session")
    assert rv.headers["Vary"] == "Cookie"
    assert rv.headers["Cache-Control"] == "private"
    rv = client.get("/plain")
    assert "Vary" not in rv.headers
    assert "Cache-Control" not in rv.headers


def test_session_use_overrides_public_caching(app: erlen.Erlen) -> None:
    @app.get("/public")
    def public() -> t.Any:
        session.get("v")
        return "x", {"Cache-Control": "public, max-age=60"}

    rv = app.test_client().get("/public")
    assert "public" not in rv.headers["Cache-Control"]
    assert "private" in rv.headers["Cache-Control"]
    assert "max-age=60" in rv.headers["Cache-Control"]


# -- security headers ------------------------------------------------------------------------

DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def test_security_headers_on_every_response(client: ErlenClient) -> None:
    for rv in (client.get("/plain"), client.get("/nowhere"), client.post("/plain")):
        for name, value in DEFAULT_HEADERS.items():
            assert rv.headers[name] == value
        assert "Strict-Transport-Security" not in rv.headers


def test_view_headers_win(app: erlen.Erlen) -> None:
    @app.get("/framed")
    def framed() -> t.Any:
        return "x", {"X-Frame-Options": "SAMEORIGIN"}

    rv = app.test_client().get("/framed")
    assert rv.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]


def test_security_headers_decorator(app: erlen.Erlen) -> None:
    @app.get("/embed")
    @security_headers(x_frame_options="SAMEORIGIN", referrer_policy=None)
    def embed() -> str:
        return "x"

    @app.get("/csp")
    @security_headers({"Content-Security-Policy": "default-src 'self'"})
    def csp() -> str:
        return "x"

    @app.get("/raw")
    @no_security_headers
    def raw() -> str:
        return "x"

    client = app.test_client()
    rv = client.get("/embed")
    assert rv.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Referrer-Policy" not in rv.headers
    assert rv.headers["X-Content-Type-Options"] == "nosniff"
    rv = client.get("/csp")
    assert rv.headers["Content-Security-Policy"] == "default-src 'self'"
    assert rv.headers["X-Frame-Options"] == "DENY"
    rv = client.get("/raw", base_url="https://localhost")
    assert not set(DEFAULT_HEADERS) & set(rv.headers.keys())
    assert client.get("/plain").headers["X-Frame-Options"] == "DENY"


def test_security_headers_config(app: erlen.Erlen) -> None:
    app.config["SECURITY_HEADERS"]["X-Frame-Options"] = None
    app.config["SECURITY_HEADERS"]["Permissions-Policy"] = "camera=()"
    rv = app.test_client().get("/plain")
    assert "X-Frame-Options" not in rv.headers
    assert rv.headers["Permissions-Policy"] == "camera=()"
    assert erlen.Erlen("other").config["SECURITY_HEADERS"] == DEFAULT_HEADERS


def test_security_headers_off(app: erlen.Erlen) -> None:
    app.config["SECURITY_HEADERS"] = {}
    rv = app.test_client().get("/plain")
    assert not set(DEFAULT_HEADERS) & set(rv.headers.keys())


def test_after_request_hook_can_remove_a_header(app: erlen.Erlen) -> None:
    @app.after_request
    def drop(response: erlen.Response) -> erlen.Response:
        del response.headers["Cross-Origin-Opener-Policy"]
        return response

    rv = app.test_client().get("/plain")
    assert "Cross-Origin-Opener-Policy" not in rv.headers


def test_response_replaced_by_a_hook_gets_the_headers(app: erlen.Erlen) -> None:
    @app.after_request
    def maintenance(response: erlen.Response) -> erlen.Response:
        return erlen.Response("down for maintenance", 503)

    rv = app.test_client().get("/plain")
    assert rv.status_code == 503
    assert rv.headers["X-Content-Type-Options"] == "nosniff"
    assert rv.headers["X-Frame-Options"] == "DENY"


def test_hsts_over_https_with_secure_cookies(app: erlen.Erlen) -> None:
    app.config["SESSION_COOKIE_SECURE"] = True
    client = app.test_client()
    rv = client.get("/plain", base_url="https://localhost")
    assert rv.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/plain").headers


def test_no_hsts_without_secure_cookies(client: ErlenClient) -> None:
    rv = client.get("/plain", base_url="https://localhost")
    assert "Strict-Transport-Security" not in rv.headers


def test_hsts_value_is_configurable(app: erlen.Erlen) -> None:
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        STRICT_TRANSPORT_SECURITY="max-age=63072000; includeSubDomains; preload",
    )
    rv = app.test_client().get("/plain", base_url="https://localhost")
    assert rv.headers["Strict-Transport-Security"].endswith("preload")


@pytest.mark.parametrize("secure_cookies", [False, True])
def test_view_hsts_only_over_https_and_once(
    app: erlen.Erlen, secure_cookies: bool
) -> None:
    app.config["SESSION_COOKIE_SECURE"] = secure_cookies

    @app.get("/strict")
    @security_headers(strict_transport_security="max-age=600")
    def strict() -> str:
        return "strict"

    @app.get("/nohsts")
    @security_headers(strict_transport_security=None)
    def nohsts() -> str:
        return "no"

    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/strict").headers
    https = client.get("/strict", base_url="https://localhost")
    assert https.headers.getlist("Strict-Transport-Security") == ["max-age=600"]
    https = client.get("/nohsts", base_url="https://localhost")
    assert "Strict-Transport-Security" not in https.headers


# -- the development server -------------------------------------------------------------------


def run_and_capture(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch, **kwargs: t.Any
) -> dict[str, t.Any]:
    seen: dict[str, t.Any] = {}

    def fake_run_simple(
        host: str, port: int, application: t.Any, **options: t.Any
    ) -> None:
        seen.update(host=host, **options)

    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    app.run(load_dotenv=False, **kwargs)
    return seen


def test_debugger_binds_to_localhost_and_says_so(
    app: erlen.Erlen,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen = run_and_capture(app, monkeypatch, debug=True)
    assert seen["host"] == "127.0.0.1"
    assert seen["use_debugger"] is True
    assert "Debugger bound to 127.0.0.1" in capsys.readouterr().out


def test_debugger_on_a_public_address_warns(
    app: erlen.Erlen,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_and_capture(app, monkeypatch, debug=True, host="0.0.0.0")
    assert "WARNING: the debugger is on and the server listens on 0.0.0.0" in (
        capsys.readouterr().err
    )


def test_erlen_run_says_where_the_debugger_listens(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    from erlen import cli

    monkeypatch.setattr(cli, "run_simple", lambda *a, **k: None)
    runner = app.test_cli_runner()
    result = runner.invoke(cli.run_command, ["--debugger"])
    assert "Debugger bound to 127.0.0.1" in result.output
    result = runner.invoke(cli.run_command, ["--debugger", "--host", "0.0.0.0"])
    assert "WARNING: the debugger is on" in result.output


# -- erlen check --deploy ---------------------------------------------------------------------


def check(app: erlen.Erlen, *args: str) -> click.testing.Result:
    from erlen.cli import check_command

    return app.test_cli_runner().invoke(check_command, list(args))


def production_ready(app: erlen.Erlen) -> None:
    app.config.update(
        SECRET_KEY="a" * 16 + "fe3c1c8d2b4e6f7091ab",
        TESTING=False,
        DEBUG=False,
        TRUSTED_HOSTS=["app.example"],
        SESSION_COOKIE_SECURE=True,
    )


def test_check_deploy_passes_on_a_production_config(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importlib.metadata.version", lambda name: "999.0")
    production_ready(app)
    result = check(app, "--deploy")
    assert result.exit_code == 0, result.output
    assert "No problems found" in result.output


@pytest.mark.parametrize(
    ("config", "check_id", "text"),
    [
        ({"SECRET_KEY": None}, "secret_key", "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "secret_key", "SECRET_KEY is not set"),
        ({"SECRET_KEY": "dev"}, "secret_key", "well-known"),
        (
            {"SECRET_KEY_FALLBACKS": ["dev"]},
            "secret_key",
            "FALLBACKS[0] is a well-known",
        ),
        (
            {"SECRET_KEY": "change me: use secrets.token_hex()"},
            "secret_key",
            "placeholder",
        ),
        ({"SECRET_KEY": "ab" * 20}, "secret_key", "only 2 different characters"),
        ({"SECRET_KEY": "Xk29sLq0"}, "secret_key", "only 8 characters"),
        ({"MAX_CONTENT_LENGTH": None}, "max_content_length", "any size"),
        ({"TRUSTED_HOSTS": None}, "trusted_hosts", "any Host header"),
        ({"TRUSTED_HOSTS": []}, "trusted_hosts", "any Host header"),
        ({"SESSION_COOKIE_SECURE": False}, "session_cookie_secure", "plain HTTP"),
    ],
)
def test_check_deploy_reports_each_problem_with_a_fix(
    app: erlen.Erlen,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, t.Any],
    check_id: str,
    text: str,
) -> None:
    monkeypatch.setattr("importlib.metadata.version", lambda name: "999.0")
    production_ready(app)
    app.config.update(config)
    result = check(app, "--deploy")
    assert result.exit_code == 1
    assert f"[{check_id}]" in result.output
    assert text in result.output
    assert "Fix:" in result.output
    assert "found 1 problem:" in result.output


def test_check_deploy_reports_debug_mode(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importlib.metadata.version", lambda name: "999.0")
    production_ready(app)
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    result = check(app, "--deploy")
    assert result.exit_code == 1
    assert "[debug] DEBUG is on" in result.output
    monkeypatch.setenv("ERLEN_RUN_HOST", "0.0.0.0")
    assert (
        "[debugger] ERLEN_RUN_HOST=0.0.0.0 with debug on"
        in check(app, "--deploy").output
    )


def test_check_deploy_reports_a_reachable_debugger(app: erlen.Erlen) -> None:
    from werkzeug.debug import DebuggedApplication

    production_ready(app)
    app.wsgi_app = DebuggedApplication(app.wsgi_app)  # type: ignore[method-assign]
    result = check(app, "--deploy")
    assert result.exit_code == 1
    assert "[debugger]" in result.output


def test_check_deploy_reports_outdated_dependencies(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = {"werkzeug": "3.0.1", "jinja2": "3.1.6", "gunicorn": "21.2.0"}

    def version(name: str) -> str:
        return versions.get(name, "999.0")

    monkeypatch.setattr("importlib.metadata.version", version)
    production_ready(app)
    result = check(app, "--deploy")
    assert result.exit_code == 1
    assert "werkzeug 3.0.1 is installed; versions before 3.1.6" in result.output
    assert "gunicorn 21.2.0" in result.output
    assert "jinja2" not in result.output
    assert "pip install 'werkzeug>=3.1.6'" in result.output


def test_check_without_deploy_skips_deploy_checks(app: erlen.Erlen) -> None:
    app.config["SECRET_KEY"] = None
    result = check(app)
    assert result.exit_code == 0
    app.config["TRUSTED_HOSTS"] = "app.example"
    result = check(app)
    assert result.exit_code == 1
    assert "TRUSTED_HOSTS is a string" in result.output


def test_extensions_add_deploy_checks(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importlib.metadata.version", lambda name: "999.0")

    class Remember(Extension[dict[str, t.Any]]):
        name = "remember"
        config_defaults = {"REMEMBER_COOKIE_SECURE": False}

        def create_state(self, app: erlen.Erlen) -> dict[str, t.Any]:
            return {}

        def deploy_problems(
            self, app: erlen.Erlen, state: dict[str, t.Any]
        ) -> t.Iterable[DeployProblem]:
            if not app.config["REMEMBER_COOKIE_SECURE"]:
                yield DeployProblem(
                    "remember_cookie", "The remember cookie is not secure.", "Set it."
                )

    production_ready(app)
    Remember(app)
    add_deploy_check(
        app,
        lambda a: [DeployProblem("csrf", "CSRF protection is off.", "Turn it on.")],
    )
    result = check(app, "--deploy")
    assert result.exit_code == 1
    assert "[remember_cookie] The remember cookie is not secure." in result.output
    assert "[csrf] CSRF protection is off." in result.output
    other = erlen.Erlen("other")
    production_ready(other)
    assert check(other, "--deploy").exit_code == 0


def test_check_is_a_default_command() -> None:
    from erlen.cli import ErlenGroup

    assert "check" in ErlenGroup().commands


@pytest.mark.parametrize(
    "key",
    [
        "change me: use secrets.token_hex()",
        "replace-with-a-long-random-value-0123456789",
        "my example key for the tutorial, 1234567890",
        "Placeholder!Placeholder!Placeholder!Placeholder!",
        "x" * 64,
    ],
)
def test_placeholder_keys_are_rejected_as_key_and_fallback(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setattr("importlib.metadata.version", lambda name: "999.0")
    production_ready(app)
    app.config["SECRET_KEY"] = key
    assert "[secret_key] SECRET_KEY " in check(app, "--deploy").output
    production_ready(app)
    app.config["SECRET_KEY_FALLBACKS"] = ["9b1e0c7d4f2a8e63b5d1907c4a2f6e8d", key]
    output = check(app, "--deploy").output
    assert "SECRET_KEY_FALLBACKS[1]" in output
    assert "SECRET_KEY_FALLBACKS[0]" not in output


def test_random_keys_pass(app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
    import secrets

    monkeypatch.setattr("importlib.metadata.version", lambda name: "999.0")
    production_ready(app)
    app.config["SECRET_KEY"] = secrets.token_hex()
    app.config["SECRET_KEY_FALLBACKS"] = [
        secrets.token_urlsafe(),
        secrets.token_bytes(32),
    ]
    result = check(app, "--deploy")
    assert result.exit_code == 0, result.output
