"""Smoke tests: every example, served by a real gunicorn, answers as its README says."""

from __future__ import annotations

from pathlib import Path

import pytest
from liveserver import LiveServer
from liveserver import StartServer

EXAMPLES = Path(__file__).parent

pytestmark = pytest.mark.server


def test_hello(serve_example: StartServer) -> None:
    server = serve_example("app:app", cwd=EXAMPLES / "hello")
    reply = server.client().get("/")
    assert reply.status == 200
    assert reply.text == "Hello, World!"
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert server.client().get("/missing").status == 404


@pytest.fixture
def factory(serve_example: StartServer) -> LiveServer:
    """The factory example, configured through ERLEN_* environment variables."""
    return serve_example(
        "factory:create_app()",
        cwd=EXAMPLES / "factory",
        env={"ERLEN_SECRET_KEY": "smoke-test-secret", "ERLEN_SITE_NAME": "Smoke site"},
    )


def test_factory_json_endpoint_reads_config_from_environment(
    factory: LiveServer,
) -> None:
    reply = factory.client().get("/api/status")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"site": "Smoke site", "visits": 0}


def test_factory_session_counter_round_trips_the_cookie(factory: LiveServer) -> None:
    browser = factory.client()
    first = browser.get("/")
    assert first.status == 200
    assert "visited this page 1 time." in first.text
    assert "session" in {cookie.name for cookie in browser.cookies}

    second = browser.get("/")
    assert "visited this page 2 times." in second.text
    assert browser.get("/api/status").json()["visits"] == 2

    stranger = factory.client()
    assert "visited this page 1 time." in stranger.get("/").text


def test_factory_pages_share_the_base_layout(factory: LiveServer) -> None:
    reply = factory.client().get("/greet")
    assert reply.status == 200
    assert "<title>Greet - Smoke site</title>" in reply.text
    assert '<a href="/api/status">' in reply.text
    assert '<form method="post">' in reply.text


def test_factory_flashes_after_post_redirect(factory: LiveServer) -> None:
    browser = factory.client()
    posted = browser.post("/greet", form={"name": "Ada <3"})
    assert posted.status == 302
    assert posted.headers["Location"] == "/"

    landed = browser.get("/")
    assert '<p class="flash success">Hello, Ada &lt;3!</p>' in landed.text
    assert "Hello, Ada" not in browser.get("/").text


def test_factory_rejects_an_empty_name_on_the_same_page(factory: LiveServer) -> None:
    reply = factory.client().post("/greet", form={"name": "  "}, follow_redirects=True)
    assert reply.status == 200
    assert '<p class="flash error">Please enter a name.</p>' in reply.text
    assert '<form method="post">' in reply.text
