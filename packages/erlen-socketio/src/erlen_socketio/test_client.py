"""``SocketIOTestClient``: Socket.IO packets to and from the app, in process."""

from __future__ import annotations

import itertools
import typing as t

from socketio import packet

from erlen.testing import EnvironBuilder

from . import _adapter

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

    from .extension import SocketIO


class SocketIOTestClient:
    """A Socket.IO client wired to the app's server without sockets.

    Packets are encoded and decoded as on the wire (so data that cannot be
    serialized raises ``TypeError`` as it would), and handlers run
    synchronously: once :meth:`emit` returns, everything the server sent in
    reply is in :meth:`get_received`.
    """

    def __init__(
        self,
        app: Erlen,
        socketio: SocketIO,
        namespace: str | None = None,
        query_string: str | None = None,
        headers: dict[str, str] | None = None,
        auth: dict[str, t.Any] | None = None,
        flask_test_client: t.Any = None,
    ) -> None:
        self.app = app
        self.socketio = socketio
        self.server = socketio.get_state(app).server
        # Handlers run in the caller's thread so replies are there on return.
        self.server.async_handlers = False
        self.eio_sid: str = self.server.eio.generate_id()
        self.flask_test_client = flask_test_client
        self.queue: dict[str, list[dict[str, t.Any]]] = {}
        self.acks: dict[int, list[t.Any]] = {}
        self.connected: dict[str, bool] = {}
        self._ids = itertools.count(1)
        self._binary: t.Any = None
        self._eio_open = False
        _adapter.routes(self.server)[self.eio_sid] = self._receive
        self.connect(namespace, query_string=query_string, headers=headers, auth=auth)

    def _environ(
        self, query_string: str | None, headers: dict[str, str] | None
    ) -> dict[str, t.Any]:
        query = (query_string or "").lstrip("?")
        builder = EnvironBuilder(
            self.app, f"/{self.socketio.path}/", headers=headers, query_string=query
        )
        try:
            environ: dict[str, t.Any] = builder.get_environ()
        finally:
            builder.close()
        if self.flask_test_client is not None:
            _adapter.add_cookies(self.flask_test_client, environ)
        return environ

    def _receive(self, data: t.Any) -> None:
        if self._binary is not None:
            if self._binary.add_attachment(data):
                pkt, self._binary = self._binary, None
                self._handle(pkt)
            return
        pkt = self.server.packet_class(encoded_packet=data)
        if pkt.attachment_count:
            self._binary = pkt
            return
        self._handle(pkt)

    def _handle(self, pkt: t.Any) -> None:
        namespace = pkt.namespace or "/"
        kind = pkt.packet_type
        if kind in (packet.EVENT, packet.BINARY_EVENT):
            name, *args = pkt.data
            received: dict[str, t.Any] = {"name": name, "namespace": namespace}
            received["args"] = args[0] if name in ("message", "json") else args
            self.queue.setdefault(namespace, []).append(received)
        elif kind in (packet.ACK, packet.BINARY_ACK):
            self.acks[pkt.id] = pkt.data
        elif kind == packet.CONNECT:
            self.connected[namespace] = True
        elif kind in (packet.CONNECT_ERROR, packet.DISCONNECT):
            self.connected[namespace] = False

    def _send(self, pkt: t.Any) -> None:
        encoded = pkt.encode()
        for part in encoded if isinstance(encoded, list) else [encoded]:
            _adapter.eio_message(self.server, self.eio_sid, part)

    def is_connected(self, namespace: str | None = None) -> bool:
        """Whether the client is connected to ``namespace`` (``"/"``)."""
        return self.connected.get(namespace or "/", False)

    def connect(
        self,
        namespace: str | None = None,
        query_string: str | None = None,
        headers: dict[str, str] | None = None,
        auth: dict[str, t.Any] | None = None,
    ) -> None:
        """Connect to ``namespace``; the first call also opens the Engine.IO session."""
        if not self._eio_open:
            environ = self._environ(query_string, headers)
            _adapter.eio_connect(self.server, self.eio_sid, environ)
            self._eio_open = True
        namespace = namespace or "/"
        self.queue.setdefault(namespace, [])
        self._send(
            self.server.packet_class(packet.CONNECT, data=auth, namespace=namespace)
        )

    def disconnect(self, namespace: str | None = None) -> None:
        """Disconnect from ``namespace``; the Engine.IO session closes with the last one."""
        namespace = namespace or "/"
        if not self.is_connected(namespace):
            raise RuntimeError(f"not connected to namespace {namespace!r}")
        self._send(self.server.packet_class(packet.DISCONNECT, namespace=namespace))
        self.connected[namespace] = False
        if not any(self.connected.values()):
            _adapter.eio_disconnect(self.server, self.eio_sid)
            _adapter.routes(self.server).pop(self.eio_sid, None)
            self._eio_open = False

    def emit(
        self,
        event: str,
        *args: t.Any,
        callback: bool = False,
        namespace: str | None = None,
        broadcast: bool = False,
    ) -> t.Any:
        """Emit ``event`` with ``args``; with ``callback=True`` return the server's ack.

        ``broadcast`` is accepted as Flask-SocketIO's client does, and has no
        effect: only the server's handler decides who receives what.
        """
        namespace = namespace or "/"
        if not self.is_connected(namespace):
            raise RuntimeError(f"not connected to namespace {namespace!r}")
        ack_id = next(self._ids) if callback else None
        self._send(
            self.server.packet_class(
                packet.EVENT, data=[event, *args], namespace=namespace, id=ack_id
            )
        )
        if ack_id is None:
            return None
        ack = self.acks.pop(ack_id, None)
        if ack is None:
            return None
        return ack[0] if len(ack) == 1 else ack

    def send(
        self,
        data: t.Any,
        json: bool = False,
        callback: bool = False,
        namespace: str | None = None,
    ) -> t.Any:
        """Send a ``message`` event (``json`` with ``json=True``)."""
        return self.emit(
            "json" if json else "message", data, callback=callback, namespace=namespace
        )

    def get_received(self, namespace: str | None = None) -> list[dict[str, t.Any]]:
        """Return and forget the events received in ``namespace``.

        Each is ``{"name", "args", "namespace"}``; ``args`` is the data itself
        for ``message`` and ``json`` events, else the list of arguments.
        """
        namespace = namespace or "/"
        if not self.is_connected(namespace):
            raise RuntimeError(f"not connected to namespace {namespace!r}")
        received = self.queue.get(namespace, [])
        self.queue[namespace] = []
        return received
