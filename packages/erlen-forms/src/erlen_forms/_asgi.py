"""The one place erlen-forms looks at how the ASGI entry holds a request body.

Under ASGI the body is read into memory before the hooks run, except for a
view marked ``stream_request_body`` or a body longer than the request's limit:
then ``wsgi.input`` is the core's :class:`erlen.asgi.AsgiInput` and the rest
is still arriving. The core runs hooks in the pool while a body the view does
not stream is arriving, so on the loop only a streamed body is seen here.
tests/test_csrf_asgi.py fails loudly if that changes.
"""

from __future__ import annotations

import asyncio

from erlen import request
from erlen.asgi import AsgiInput


def body_unreadable_here() -> bool:
    """Whether reading the request body now would wait for the client on the event loop.

    True only under ASGI, on the server's loop (a hook marked nonblocking, or
    an ``async def`` view), when the body was not read before the hooks.
    """
    body = request.environ.get("wsgi.input")
    if not isinstance(body, AsgiInput) or body.complete:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # a pool thread (or WSGI): reading waits there, as it may
    return True
