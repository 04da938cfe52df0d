"""Socket.IO for erlen on python-socketio, with Flask-SocketIO's API.

.. code-block:: python

    from erlen import Erlen
    from erlen_socketio import SocketIO, emit

    app = Erlen(__name__)
    socketio = SocketIO(app)

    @socketio.on("chat")
    def chat(text):
        emit("chat", text, broadcast=True)
"""

from socketio.exceptions import ConnectionRefusedError as ConnectionRefusedError

from ._context import Pending as Pending
from .extension import ManagedSession as ManagedSession
from .extension import SocketIO as SocketIO
from .extension import SocketIOState as SocketIOState
from .extension import user_room as user_room
from .helpers import call as call
from .helpers import close_room as close_room
from .helpers import disconnect as disconnect
from .helpers import emit as emit
from .helpers import join_room as join_room
from .helpers import leave_room as leave_room
from .helpers import rooms as rooms
from .helpers import send as send
from .login import login_required as login_required
from .namespace import Namespace as Namespace
from .test_client import SocketIOTestClient as SocketIOTestClient

__all__ = [
    "ConnectionRefusedError",
    "ManagedSession",
    "Namespace",
    "Pending",
    "SocketIO",
    "SocketIOState",
    "SocketIOTestClient",
    "call",
    "close_room",
    "disconnect",
    "emit",
    "join_room",
    "leave_room",
    "login_required",
    "rooms",
    "send",
    "user_room",
]
