"""Malformed and hostile requests against a real gunicorn: 4xx, never 5xx, and the
worker keeps serving.

These are the requests the test client cannot send (raw malformed HTTP over a
socket): broken chunked encoding, bodies cut short, bytes that are not ASCII,
duplicate headers. After each one the same server must still answer a normal
request, and at the end the log must show one worker, never restarted.
"""

from __future__ import annotations

import random
import time
import urllib.parse

import pytest
from liveserver import LiveServer
from liveserver import Reply
from liveserver import StartServer

pytestmark = pytest.mark.server

LIMIT = 4096
HOST = b"Host: 127.0.0.1\r\n"


@pytest.fixture
def server(gunicorn_server: StartServer) -> LiveServer:
    return gunicorn_server("apps.hardening:app", env={"HARDENING_MAX_BODY": str(LIMIT)})


def post(path: bytes, body: bytes, *headers: bytes) -> bytes:
    """A raw POST with the given extra header lines and body; ``Content-Length``
    is added unless a header line sets it or ``Transfer-Encoding``."""
    if not any(
        h.lower().startswith((b"content-length", b"transfer-encoding")) for h in headers
    ):
        headers = (*headers, b"Content-Length: %d" % len(body))
    lines = b"".join(h + b"\r\n" for h in headers)
    return (
        b"POST "
        + path
        + b" HTTP/1.1\r\n"
        + HOST
        + lines
        + b"Connection: close\r\n\r\n"
        + body
    )


def chunks(body: bytes, size: int = 1000) -> bytes:
    """``body`` in chunked transfer encoding, with the terminating chunk."""
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


CHUNKED = b"Transfer-Encoding: chunked"


def assert_still_serving(server: LiveServer) -> None:
    reply = server.client().get("/items/7")
    assert reply.status == 200
    assert reply.json() == {"id": 7}


def assert_one_worker(server: LiveServer) -> None:
    log = server.log()
    assert log.count("Booting worker") == 1, log
    assert "WORKER TIMEOUT" not in log
    assert "Traceback" not in log, log


# -- reading the body ------------------------------------------------------------

MALFORMED_BODIES = {
    "bad chunk size": post(b"/data", b"zz\r\nabc\r\n0\r\n\r\n", CHUNKED),
    "missing chunk terminator": post(b"/data", b"3\r\nabcX\r\n0\r\n\r\n", CHUNKED),
    "bad chunk size on json": post(
        b"/json", b"zz\r\n[1]\r\n0\r\n\r\n", CHUNKED, b"Content-Type: application/json"
    ),
    "bad chunk size on form": post(
        b"/form",
        b"-1\r\na=1\r\n0\r\n\r\n",
        CHUNKED,
        b"Content-Type: application/x-www-form-urlencoded",
    ),
    "multipart without boundary": post(
        b"/form",
        b"--X\r\n\r\nx",
        b"Content-Type: multipart/form-data",
    ),
    "truncated multipart": post(
        b"/form",
        b'--X\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue',
        b"Content-Type: multipart/form-data; boundary=X",
    ),
    "multipart part without headers": post(
        b"/form",
        b"--X\r\nnothing here\r\n--X--\r\n",
        b"Content-Type: multipart/form-data; boundary=X",
    ),
}


@pytest.mark.parametrize(
    "request_bytes", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES
)
def test_malformed_body_is_a_400_with_a_reason(
    server: LiveServer, request_bytes: bytes
) -> None:
    reply = server.send_raw(request_bytes)
    assert reply.status == 400
    assert (
        "could not be read" in reply.text
        or "could not be parsed" in reply.text
        or "ended before it was complete" in reply.text
    ), reply.text
    assert_still_serving(server)
    assert_one_worker(server)


@pytest.mark.parametrize(
    "request_bytes",
    [
        post(b"/data", b"10\r\nabc", CHUNKED),
        post(b"/data", b"abc", b"Content-Length: 100"),
        post(
            b"/form",
            b"a=1&b",
            b"Content-Length: 100",
            b"Content-Type: application/x-www-form-urlencoded",
        ),
    ],
    ids=["chunked", "content-length", "form"],
)
def test_client_that_disconnects_mid_body(
    server: LiveServer, request_bytes: bytes
) -> None:
    reply = server.send_raw(request_bytes, close_write=True)
    assert reply.status == 400
    assert_still_serving(server)
    assert_one_worker(server)


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        (b"/data", None, b"x" * (LIMIT + 1)),
        (b"/stream", None, b"x" * (LIMIT * 2)),
        (b"/form", b"application/x-www-form-urlencoded", b"a=" + b"x" * LIMIT),
        (
            b"/form",
            b"multipart/form-data; boundary=X",
            b'--X\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n'
            + b"x" * LIMIT
            + b"\r\n--X--\r\n",
        ),
        (b"/json", b"application/json", b'"' + b"x" * LIMIT + b'"'),
    ],
    ids=["get_data", "stream", "form", "files", "json"],
)
def test_chunked_body_over_the_limit_is_413(
    server: LiveServer, path: bytes, content_type: bytes | None, body: bytes
) -> None:
    headers = [CHUNKED]
    if content_type is not None:
        headers.append(b"Content-Type: " + content_type)
    reply = server.send_raw(post(path, chunks(body), *headers))
    assert reply.status == 413
    assert_still_serving(server)
    assert_one_worker(server)


def test_chunked_body_within_the_limit_is_read_whole(server: LiveServer) -> None:
    reply = server.send_raw(post(b"/data", chunks(b"x" * LIMIT), CHUNKED))
    assert reply.status == 200
    assert reply.json() == {"len": LIMIT}
    body = b"a=" + b"y" * 3000
    reply = server.send_raw(
        post(
            b"/form",
            chunks(body, 700),
            CHUNKED,
            b"Content-Type: application/x-www-form-urlencoded",
        )
    )
    assert reply.json() == {"form": {"a": "y" * 3000}, "files": {}}


def test_body_over_the_limit_with_content_length_is_413(server: LiveServer) -> None:
    reply = server.client().post("/data", data=b"x" * (LIMIT + 1))
    assert reply.status == 413
    assert_still_serving(server)


# -- JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 300 + b"]" * 300, "nesting is deeper than 256 levels"),
        (b"[NaN]", "NaN is not valid JSON"),
        (b'{"a": -Infinity}', "-Infinity is not valid JSON"),
        (b"{", "Expecting property name"),
    ],
    ids=["deep", "nan", "infinity", "truncated"],
)
def test_bad_json_is_a_400_with_the_parser_reason(
    server: LiveServer, body: bytes, reason: str
) -> None:
    reply = server.client().post(
        "/json", data=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert f"Invalid JSON body: {reason}" in reply.text
    assert_still_serving(server)


def test_json_from_a_form_body_is_a_415(server: LiveServer) -> None:
    assert server.client().post("/json", form={"a": "1"}).status == 415


# -- cookies, URLs, hosts -------------------------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    [b"name=caf\xc3\xa9", b"name=\xff\xfe", b'name="\\377"', b"name=" + b"x" * 5000],
    ids=["non-ascii", "undecodable", "bad escape", "oversized"],
)
def test_bad_cookie_is_absent(server: LiveServer, cookie: bytes) -> None:
    reply = server.send_raw(
        b"GET /cookies HTTP/1.1\r\n"
        + HOST
        + b"Cookie: "
        + cookie
        + b"; good=1\r\nConnection: close\r\n\r\n"
    )
    assert reply.status == 200
    assert reply.json() == {"cookies": {"good": "1"}, "session": None}


@pytest.mark.parametrize(
    "session_cookie", [b"\xff\xfe\xfd", b"eyJ2IjoiMSJ9.x.y", b"x" * 5000], ids=repr
)
def test_bad_session_cookie_is_an_empty_session(
    server: LiveServer, session_cookie: bytes
) -> None:
    reply = server.send_raw(
        b"GET /cookies HTTP/1.1\r\n"
        + HOST
        + b"Cookie: session="
        + session_cookie
        + b"\r\nConnection: close\r\n\r\n"
    )
    assert reply.status == 200
    assert reply.json()["session"] is None


def test_tampered_session_cookie_is_an_empty_session(server: LiveServer) -> None:
    browser = server.client()
    browser.post("/session?v=42")
    assert browser.get("/cookies").json()["session"] == "42"
    (cookie,) = browser.cookies
    cookie.value = (cookie.value or "")[:-2] + "xx"
    assert browser.get("/cookies").json()["session"] is None


@pytest.mark.parametrize(
    "target",
    [
        b"/%zz%ff",
        b"/items/%ff",
        b"/items/\xd9\xa1\xd9\xa2",
        b"/items/%D9%A1%D9%A2",
        b"/a%00b%0d%0a",
        b"/" + b"a" * 4000,
        b"/items/1?q=%zz&%ff=%00",
    ],
    ids=[
        "bad percent",
        "bad utf-8",
        "raw arabic digits",
        "arabic digits",
        "controls",
        "long",
        "query",
    ],
)
def test_odd_urls_are_4xx_never_5xx(server: LiveServer, target: bytes) -> None:
    reply = server.send_raw(
        b"GET " + target + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
    )
    assert 400 <= reply.status < 500 or target.startswith(b"/items/1?")
    assert reply.status < 500
    assert_still_serving(server)


def test_int_converter_takes_ascii_digits_only(server: LiveServer) -> None:
    assert server.client().get("/items/%D9%A1%D9%A2").status == 404
    assert server.client().get("/items/12").json() == {"id": 12}


@pytest.mark.parametrize(
    ("host_lines", "status"),
    [
        (b"", 400),
        (b"Host: evil.example\r\n", 400),
        (b"Host: app.example\r\nHost: evil.example\r\n", 400),
        (b"Host: app.example\r\n", 200),
    ],
    ids=["missing", "untrusted", "duplicated", "trusted"],
)
def test_trusted_hosts(
    gunicorn_server: StartServer, host_lines: bytes, status: int
) -> None:
    server = gunicorn_server(
        "apps.hardening:app", env={"HARDENING_TRUSTED_HOSTS": "app.example,127.0.0.1"}
    )
    reply = server.send_raw(
        b"GET / HTTP/1.1\r\n" + host_lines + b"Connection: close\r\n\r\n"
    )
    assert reply.status == status
    reply = server.send_raw(b"GET / HTTP/1.0\r\n\r\n")
    assert reply.status == 400
    assert_still_serving(server)


# -- redirects and headers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "////evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",
    ],
)
def test_login_next_is_never_an_open_redirect(
    server: LiveServer, next_url: str
) -> None:
    query = urllib.parse.urlencode({"next": next_url})
    reply = server.client().get(f"/login?{query}")
    assert reply.status == 302
    assert reply.headers["Location"] == "/"


def test_login_next_keeps_local_urls(server: LiveServer) -> None:
    reply = server.client().get("/login?next=/account%3Ftab%3D2")
    assert reply.headers["Location"] == "/account?tab=2"


def test_redirect_with_crlf_is_encoded(server: LiveServer) -> None:
    reply = server.send_raw(
        b"GET /go?to=/x%0d%0aSet-Cookie:%20evil=1 HTTP/1.1\r\n"
        + HOST
        + b"Connection: close\r\n\r\n"
    )
    assert reply.status == 302
    assert reply.headers["Location"] == "/x%0D%0ASet-Cookie:%20evil=1"
    assert reply.headers.get_all("Set-Cookie") is None
    reply = server.client().get("/go?to=http://a:bad/")
    assert reply.status == 400
    assert_still_serving(server)


def test_security_headers_and_session_cookie_defaults(server: LiveServer) -> None:
    reply = server.client().post("/session")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Referrer-Policy"] == "same-origin"
    assert reply.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in reply.headers
    assert reply.headers["Vary"] == "Cookie"
    assert reply.headers["Cache-Control"] == "private"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# -- the fault test ------------------------------------------------------------------------

FAULT_REQUESTS = 2000
FAULT_DEADLINE = 180.0


def _good_requests() -> list[tuple[bytes, int, object]]:
    """Normal requests with the status and JSON each must get."""
    return [
        (
            b"GET /items/%d HTTP/1.1\r\n" % 5 + HOST + b"Connection: close\r\n\r\n",
            200,
            {"id": 5},
        ),
        (
            post(
                b"/json",
                b'{"a": [1, 2]}',
                b"Content-Type: application/json",
            ),
            200,
            {"got": {"a": [1, 2]}},
        ),
        (
            post(
                b"/json",
                chunks(b'{"b": null}', 4),
                b"Content-Type: application/json",
                CHUNKED,
            ),
            200,
            {"got": {"b": None}},
        ),
        (
            post(
                b"/form",
                b"x=1&y=2",
                b"Content-Type: application/x-www-form-urlencoded",
            ),
            200,
            {"form": {"x": "1", "y": "2"}, "files": {}},
        ),
        (post(b"/data", chunks(b"z" * 3000), CHUNKED), 200, {"len": 3000}),
    ]


def _bad_requests() -> list[tuple[bytes, bool]]:
    """Malformed requests, with whether to close the sending side after them."""
    too_big = chunks(b"x" * (LIMIT + 10))
    return [
        *((r, False) for r in MALFORMED_BODIES.values()),
        (post(b"/data", too_big, CHUNKED), False),
        (post(b"/json", too_big, CHUNKED, b"Content-Type: application/json"), False),
        (
            post(
                b"/json",
                b"[" * 2000,
                b"Content-Type: application/json",
            ),
            False,
        ),
        (
            post(
                b"/json",
                b"[NaN]",
                b"Content-Type: application/json",
            ),
            False,
        ),
        (post(b"/data", b"abc", b"Content-Length: 50"), True),
        (post(b"/data", b"20\r\nab", CHUNKED), True),
        (
            b"GET /items/%ff%zz HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n",
            False,
        ),
        (
            b"GET /cookies HTTP/1.1\r\n"
            + HOST
            + b"Cookie: session=\xff\xfe; a=\x00\r\nConnection: close\r\n\r\n",
            False,
        ),
        (
            b"GET /go?to=http://%5B::1/ HTTP/1.1\r\n"
            + HOST
            + b"Connection: close\r\n\r\n",
            False,
        ),
        (b"GARBAGE\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n", False),
    ]


def test_fault_mixed_malformed_and_good_requests(server: LiveServer) -> None:
    rng = random.Random(4)
    good, bad = _good_requests(), _bad_requests()
    deadline = time.monotonic() + FAULT_DEADLINE
    answered_good = 0
    statuses: dict[int, int] = {}
    for i in range(FAULT_REQUESTS):
        assert time.monotonic() < deadline, f"only {i} requests in {FAULT_DEADLINE} s"
        reply: Reply
        if rng.random() < 0.5:
            raw, status, expected = rng.choice(good)
            reply = server.send_raw(raw)
            assert reply.status == status, (raw, reply.status, reply.body)
            assert reply.json() == expected
            answered_good += 1
        else:
            raw, close_write = rng.choice(bad)
            reply = server.send_raw(raw, close_write=close_write)
            assert reply.status < 500, (raw, reply.status, reply.body)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
    assert answered_good > FAULT_REQUESTS // 3
    assert not any(status >= 500 for status in statuses), statuses
    assert_one_worker(server)
