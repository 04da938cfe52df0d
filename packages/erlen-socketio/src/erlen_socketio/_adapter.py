"""The few places the in-process test client reaches past python-socketio's API.

Everything here is checked by ``tests/test_adapter.py``, which fails loudly if
a python-socketio or Engine.IO release changes it.

* Engine.IO events reach the Socket.IO server through the handlers it
  registered with the public ``eio.on()`` (``eio.handlers``).
* Packets leave through ``eio.send`` and ``eio.send_packet``; the client
  replaces them on the server's ``eio`` with functions that deliver the
  packets of its own (fake) Engine.IO sessions and pass the others on.
* The test client's cookies come from the erlen test client's jar, as
  ``ErlenClient.session_transaction`` reads them.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
import weakref

Deliver = cabc.Callable[[t.Any], None]

_routes: weakref.WeakKeyDictionary[t.Any, dict[str, Deliver]] = (
    weakref.WeakKeyDictionary()
)


def routes(server: t.Any) -> dict[str, Deliver]:
    """Fake Engine.IO sessions of ``server``, by eio sid; installed on first use."""
    table = _routes.get(server)
    if table is not None:
        return table
    table = _routes[server] = {}
    eio = server.eio
    send, send_packet = eio.send, eio.send_packet

    def routed_send(eio_sid: str, data: t.Any) -> None:
        deliver = table.get(eio_sid)
        if deliver is None:
            send(eio_sid, data)
        else:
            deliver(data)

    def routed_send_packet(eio_sid: str, pkt: t.Any) -> None:
        deliver = table.get(eio_sid)
        if deliver is None:
            send_packet(eio_sid, pkt)
        else:
            deliver(pkt.data)

    eio.send = routed_send
    eio.send_packet = routed_send_packet
    return table


def eio_connect(server: t.Any, eio_sid: str, environ: dict[str, t.Any]) -> None:
    """Tell ``server`` that an Engine.IO client connected with ``environ``."""
    server.eio.handlers["connect"](eio_sid, environ)


def eio_message(server: t.Any, eio_sid: str, data: t.Any) -> None:
    """Hand ``server`` one Engine.IO message (an encoded Socket.IO packet part)."""
    server.eio.handlers["message"](eio_sid, data)


def eio_disconnect(server: t.Any, eio_sid: str) -> None:
    """Tell ``server`` that the Engine.IO client left."""
    server.eio.handlers["disconnect"](eio_sid, server.reason.CLIENT_DISCONNECT)


def add_cookies(test_client: t.Any, environ: dict[str, t.Any]) -> None:
    """Put ``test_client``'s cookies into ``environ`` (the erlen test client's jar)."""
    test_client._add_cookies_to_wsgi(environ)
