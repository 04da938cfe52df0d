"""Data and request specifications shared by every benchmarked application.

Every app in this package implements the same endpoints from these constants, so
the validation pass can check all of them against one expected response.
"""

from __future__ import annotations

import hashlib
import json
import os
import typing as t
from dataclasses import dataclass
from urllib.parse import urlencode

import itsdangerous
import jinja2

SECRET_KEY = "bench-secret-key-not-for-production"
SESSION_COOKIE = "session"
ROUTE_COUNT = 1000
TEMPLATES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE_NAME = "table.html"

HELLO_TEXT = "Hello, World!"
JSON_PAYLOAD: dict[str, t.Any] = {
    "message": "Hello, World!",
    "id": 1,
    "ok": True,
    "tags": ["fast", "typed"],
}
PARAMS_USER_ID = 42
PARAMS_SLUG = "hello-world"
ROUTE_ITEM = 7
TEMPLATE_TITLE = "Items & <things>"
TEMPLATE_ROWS: list[dict[str, t.Any]] = [
    {"id": i, "name": f'Item <{i}> & "co"', "price": f"{i * 1.5:.2f}"}
    for i in range(20)
]
FORM_FIELDS: dict[str, str] = {f"field{i}": f"value {i} & more" for i in range(10)}
FORM_BODY = urlencode(FORM_FIELDS).encode("ascii")
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def route_rule_prefix(index: int) -> str:
    """Return the literal part of the ``index``-th filler route, ``/r/<index>/item``.

    Each app registers ``ROUTE_COUNT`` routes ``/r/<index>/item/<int:n>`` after its
    other endpoints; ``routes1`` requests the first, ``routes1000`` the last.
    """
    return f"/r/{index}/item"


def route_text(index: int, n: int) -> str:
    """Return the body every app sends for route ``index`` with item ``n``."""
    return f"route {index} item {n}"


def form_result(fields: t.Mapping[str, str]) -> dict[str, t.Any]:
    """Return the JSON document the ``form`` endpoint echoes for ``fields``."""
    return {"count": len(fields), "fields": dict(fields)}


def session_text(count: int) -> str:
    """Return the body of the ``session`` endpoint after counting to ``count``."""
    return f"count={count}"


def jinja_environment() -> jinja2.Environment:
    """Return an autoescaping Jinja environment for apps without their own."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True
    )


def template_context() -> dict[str, t.Any]:
    """Return the context every app renders ``table.html`` with."""
    return {"title": TEMPLATE_TITLE, "rows": TEMPLATE_ROWS}


EXPECTED_TEMPLATE = (
    jinja_environment().get_template(TEMPLATE_NAME).render(template_context())
)


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked request and the response every app must give to it.

    :param name: the column name used in reports and on the command line.
    :param check: returns ``None`` for a correct response or a reason otherwise.
    :param uses_session: the request sends back the cookie a first request set.
    """

    name: str
    method: str
    path: str
    check: t.Callable[[int, list[tuple[str, str]], bytes], str | None]
    body: bytes = b""
    content_type: str | None = None
    uses_session: bool = False


def _header(headers: list[tuple[str, str]], name: str) -> str:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return ""


def _expect_text(
    expected: str,
) -> t.Callable[[int, list[tuple[str, str]], bytes], str | None]:
    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
        if status != 200:
            return f"status {status}, expected 200"
        if body.decode("utf-8", "replace") != expected:
            return f"body {body[:120]!r}, expected {expected[:120]!r}"
        return None

    return check


def _expect_json(
    expected: t.Any,
) -> t.Callable[[int, list[tuple[str, str]], bytes], str | None]:
    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
        if status != 200:
            return f"status {status}, expected 200"
        content_type = _header(headers, "Content-Type")
        if not content_type.startswith("application/json"):
            return f"Content-Type {content_type!r}, expected application/json"
        try:
            data = json.loads(body)
        except ValueError:
            return f"body {body[:120]!r} is not JSON"
        if data != expected:
            return f"JSON {data!r}, expected {expected!r}"
        return None

    return check


def _expect_html(
    expected: str,
) -> t.Callable[[int, list[tuple[str, str]], bytes], str | None]:
    text_check = _expect_text(expected)

    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
        content_type = _header(headers, "Content-Type")
        if status == 200 and not content_type.startswith("text/html"):
            return f"Content-Type {content_type!r}, expected text/html"
        return text_check(status, headers, body)

    return check


def _expect_session(
    expected: str,
) -> t.Callable[[int, list[tuple[str, str]], bytes], str | None]:
    text_check = _expect_text(expected)

    def check(status: int, headers: list[tuple[str, str]], body: bytes) -> str | None:
        problem = text_check(status, headers, body)
        if problem is None and f"{SESSION_COOKIE}=" not in _header(
            headers, "Set-Cookie"
        ):
            return "no session cookie was set"
        return problem

    return check


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("hello", "GET", "/", _expect_text(HELLO_TEXT)),
    Endpoint("json", "GET", "/json", _expect_json(JSON_PAYLOAD)),
    Endpoint(
        "params",
        "GET",
        f"/users/{PARAMS_USER_ID}/posts/{PARAMS_SLUG}",
        _expect_json({"user_id": PARAMS_USER_ID, "slug": PARAMS_SLUG}),
    ),
    Endpoint(
        "routes1",
        "GET",
        f"{route_rule_prefix(0)}/{ROUTE_ITEM}",
        _expect_text(route_text(0, ROUTE_ITEM)),
    ),
    Endpoint(
        "routes1000",
        "GET",
        f"{route_rule_prefix(ROUTE_COUNT - 1)}/{ROUTE_ITEM}",
        _expect_text(route_text(ROUTE_COUNT - 1, ROUTE_ITEM)),
    ),
    Endpoint("template", "GET", "/template", _expect_html(EXPECTED_TEMPLATE)),
    Endpoint(
        "form",
        "POST",
        "/form",
        _expect_json(form_result(FORM_FIELDS)),
        body=FORM_BODY,
        content_type=FORM_CONTENT_TYPE,
    ),
    Endpoint(
        "session",
        "GET",
        "/session",
        _expect_session(session_text(2)),
        uses_session=True,
    ),
)
ENDPOINTS_BY_NAME: dict[str, Endpoint] = {e.name: e for e in ENDPOINTS}
FIRST_SESSION_CHECK = _expect_session(session_text(1))


class SessionCodec:
    """Sign and verify session cookies the way Flask-style frameworks do.

    Used by the peers without a session system (bare WSGI, Werkzeug, Falcon): an
    ``itsdangerous`` timed serializer over JSON with HMAC-SHA1, built once.
    """

    max_age = 31 * 24 * 3600

    def __init__(self) -> None:
        self._serializer = itsdangerous.URLSafeTimedSerializer(
            SECRET_KEY,
            salt="cookie-session",
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
        )

    def load(self, value: str | None) -> dict[str, t.Any]:
        """Return the session stored in cookie ``value``, or an empty one."""
        if not value:
            return {}
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except itsdangerous.BadSignature:
            return {}
        return data if isinstance(data, dict) else {}

    def dump(self, data: dict[str, t.Any]) -> str:
        """Return the signed cookie value for ``data``."""
        return self._serializer.dumps(data)
