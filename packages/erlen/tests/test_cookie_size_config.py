"""``MAX_COOKIE_SIZE``: one meaning everywhere; a wrong type is a clear error at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import typing as t
import warnings

import pytest

import erlen
from erlen.asgi import Message
from erlen.checks import run_deploy_checks

#: Through the WSGI and the ASGI entry, the apps made in helpers too.
pytestmark = pytest.mark.usefixtures("any_app_entry")


@contextlib.contextmanager
def erlen_logs_silenced(app: erlen.Erlen) -> t.Iterator[None]:
    """Keep an expected error's traceback out of the test output."""
    level = app.logger.level
    app.logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        app.logger.setLevel(level)


def _app(limit: object) -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.secret_key = "k" * 40
    app.config["MAX_COOKIE_SIZE"] = limit

    @app.route("/login")
    def login() -> str:
        erlen.session["user"] = "ada"
        erlen.session["blob"] = erlen.request.args.get("blob", "")
        return "ok"

    @app.route("/me")
    def me() -> str:
        return str(erlen.session.get("user"))

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    return app


@pytest.mark.parametrize("limit", [0, None])
def test_no_limit_keeps_the_session(limit: object) -> None:
    client = _app(limit).test_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no cookie-size warning either
        client.get("/login", query_string={"blob": "x" * 6000})
    assert client.get("/me").data == b"ada"
    assert client.get("/plain").status_code == 200


@pytest.mark.parametrize("limit", [0, None])
def test_no_limit_keeps_long_cookies(limit: object) -> None:
    app = _app(limit)

    @app.route("/cookie")
    def cookie() -> str:
        return str(len(erlen.request.cookies.get("big", "")))

    response = app.test_client(use_cookies=False).get(
        "/cookie", headers={"Cookie": "big=" + "y" * 5000}
    )
    assert response.data == b"5000"


def test_limit_drops_longer_session_cookies() -> None:
    client = _app(100).test_client()
    with pytest.warns(UserWarning):
        client.get("/login", query_string={"blob": "x" * 200})
    assert client.get("/me").data == b"None"


@pytest.mark.parametrize("limit", ["4093", 4093.0, -1, True])
def test_wrong_type_is_a_clear_error_at_the_first_request(limit: object) -> None:
    app = _app(limit)
    app.testing = True
    client = app.test_client()
    with pytest.raises(TypeError, match="MAX_COOKIE_SIZE must be a whole number"):
        client.get("/plain")
    problems = run_deploy_checks(app, deploy=False)
    assert [p.check for p in problems] == ["limits"]


@pytest.mark.parametrize("limit", ["4093", 4093.0, -1, True])
def test_wrong_type_is_a_clear_error_when_an_async_view_comes_first(
    limit: object,
) -> None:
    """The ASGI entry awaits async views itself: the same check comes first."""
    app = _app(limit)
    app.testing = True

    @app.route("/async")
    async def async_view() -> str:
        return "async"

    client = app.test_client()
    with pytest.raises(TypeError, match="MAX_COOKIE_SIZE must be a whole number"):
        client.get("/async")


@pytest.mark.parametrize("limit", ["1000", 1000.5])
def test_wrong_body_limit_type_is_a_clear_error_before_the_body_is_read(
    limit: object,
) -> None:
    """The ASGI entry reads the body with the limit before the view runs."""
    app = _app(4093)
    app.testing = True
    app.config["MAX_CONTENT_LENGTH"] = limit

    @app.post("/upload")
    def upload() -> str:
        return str(len(erlen.request.get_data()))

    client = app.test_client()
    with pytest.raises(TypeError, match="MAX_CONTENT_LENGTH must be a whole number"):
        client.post("/upload", data=b"x" * 10)


def test_wrong_type_fails_the_asgi_startup() -> None:
    """Under an ASGI server the error comes at startup (lifespan), not per request."""
    app = _app("4093")
    sent: list[Message] = []
    events = [{"type": "lifespan.shutdown"}, {"type": "lifespan.startup"}]

    async def receive() -> Message:
        return events.pop()

    async def send(message: Message) -> None:
        sent.append(message)

    with erlen_logs_silenced(app):
        asyncio.run(asyncio.wait_for(app({"type": "lifespan"}, receive, send), 30))
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "MAX_COOKIE_SIZE must be a whole number" in sent[0]["message"]
