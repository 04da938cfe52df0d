"""Child process counting an ASGI app's instructions per in-process request.

``python asgichild.py requests APP ENDPOINT WARMUP COUNT [--marked]`` (the
arguments of ``child.py``, so :mod:`harness.callgrind` runs it the same way)
builds the ASGI app APP (:mod:`apps.asgi_apps`), checks its answer to ENDPOINT
(for ``session``, with the cookie a first request got), then awaits WARMUP and
COUNT more requests on one event loop (``--marked``: the COUNT requests inside
``ffi_call``). The count covers the app, the event loop's steps for the
request and the harness's ``receive``/``send``, the same for every app.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import layout  # noqa: E402

layout.shift()  # first: every later allocation moves with it

from apps import common  # noqa: E402
from apps.asgi_apps import create  # noqa: E402
from harness import childloop  # noqa: E402
from harness.asgi import prepare_request  # noqa: E402
from harness.asgi import request_batch  # noqa: E402


def run(name: str, endpoint_name: str, warmup: int, count: int, marked: bool) -> None:
    """Make ``warmup`` then ``count`` requests to one endpoint of one ASGI app."""
    endpoint = common.ENDPOINTS_BY_NAME[endpoint_name]
    app = create(name)
    loop = asyncio.new_event_loop()
    try:
        scope, _ = loop.run_until_complete(prepare_request(app, endpoint))
    except ValueError as e:
        raise SystemExit(f"{name} {endpoint_name}: wrong answer: {e}") from None
    body = endpoint.body
    loop.run_until_complete(request_batch(app, scope, body, warmup))
    gc.collect()
    gc.freeze()  # as childloop does: collections fall on the same requests

    def measured() -> None:
        if count:
            loop.run_until_complete(request_batch(app, scope, body, count))

    if marked:
        import ctypes

        ctypes.CFUNCTYPE(None)(measured)()
    else:
        measured()
    loop.close()


if __name__ == "__main__":
    sys.exit(childloop.main(sys.argv[1:], run, __doc__))
