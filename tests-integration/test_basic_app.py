"""The core's behaviour through a real gunicorn server and real HTTP."""

from __future__ import annotations

import pytest
from liveserver import LiveServer
from liveserver import StartServer

pytestmark = pytest.mark.server


@pytest.fixture
def server(gunicorn_server: StartServer) -> LiveServer:
    return gunicorn_server("apps.basic:app")


def test_text_route(server: LiveServer) -> None:
    reply = server.client().get("/")
    assert reply.status == 200
    assert reply.text == "basic app"
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"


def test_json_route_with_converter(server: LiveServer) -> None:
    reply = server.client().get("/users/42")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json() == {"id": 42, "name": "user 42"}


def test_unknown_url_gets_the_404_page(server: LiveServer) -> None:
    for path in ("/nowhere", "/users/not-a-number"):
        reply = server.client().get(path)
        assert reply.status == 404
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "Not Found" in reply.text


def test_wrong_method_gets_405_with_allow(server: LiveServer) -> None:
    reply = server.client().get("/echo")
    assert reply.status == 405
    assert "POST" in reply.headers["Allow"]


def test_session_cookie_round_trip(server: LiveServer) -> None:
    browser = server.client()
    assert browser.post("/counter").json() == {"count": 1}
    assert browser.post("/counter").json() == {"count": 2}
    assert [cookie.name for cookie in browser.cookies] == ["session"]

    assert server.client().post("/counter").json() == {"count": 1}


def test_tampered_session_cookie_starts_a_new_session(server: LiveServer) -> None:
    browser = server.client()
    browser.post("/counter")
    browser.post("/counter")
    (cookie,) = browser.cookies
    cookie.value = "x" + (cookie.value or "")
    assert browser.post("/counter").json() == {"count": 1}


def test_json_body_is_echoed(server: LiveServer) -> None:
    reply = server.client().post("/echo", json_body={"a": [1, 2, None]})
    assert reply.status == 200
    assert reply.json() == {"received": {"a": [1, 2, None]}}


@pytest.mark.parametrize("body", [b"{not json", b'{"a": 1', b"\xff\xfe", b""], ids=repr)
def test_malformed_json_is_a_400_and_the_server_keeps_serving(
    server: LiveServer, body: bytes
) -> None:
    reply = server.client().post(
        "/echo", data=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert "Bad Request" in reply.text

    assert server.client().get("/users/7").json()["id"] == 7
