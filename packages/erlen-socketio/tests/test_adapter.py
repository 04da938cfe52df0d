"""Fails loudly when a release changes what ``erlen_socketio._adapter`` relies on."""

from __future__ import annotations

import socketio

from erlen import Erlen
from erlen_socketio import _adapter


def test_engineio_handlers_and_send_functions_exist() -> None:
    server = socketio.Server(async_mode="threading")
    assert set(server.eio.handlers) >= {"connect", "message", "disconnect"}
    assert callable(server.eio.send) and callable(server.eio.send_packet)
    assert callable(server.eio.generate_id)
    assert server.reason.CLIENT_DISCONNECT


def test_routes_deliver_only_fake_sessions() -> None:
    server = socketio.Server(async_mode="threading")
    got: list[object] = []
    _adapter.routes(server)["fake"] = got.append
    server.eio.send("fake", "2probe")
    assert got == ["2probe"]
    assert _adapter.routes(server) is _adapter.routes(server)


def test_test_client_cookies_reach_the_environ() -> None:
    app = Erlen(__name__)
    client = app.test_client()
    client.set_cookie("flavour", "oat")
    from erlen.testing import EnvironBuilder

    builder = EnvironBuilder(app, "/")
    environ = builder.get_environ()
    builder.close()
    _adapter.add_cookies(client, environ)
    assert "flavour=oat" in str(environ.get("HTTP_COOKIE"))
