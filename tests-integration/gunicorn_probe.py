"""A gunicorn configuration file for tests: log which worker serves each tagged request.

A request carrying ``X-Probe: <tag>`` makes the worker that accepted it log
``probe <tag> served by worker <pid>`` before the app runs, so a test knows
which process answered an HTTP request or holds a WebSocket. Start gunicorn
with ``--config`` naming this file (``demo_server.PROBE_ENV`` does it through
``GUNICORN_CMD_ARGS``).
"""

from __future__ import annotations

import re
import typing as t

#: What a probe's tag may hold: the tests' own names, nothing to escape.
_TAG = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def pre_request(worker: t.Any, req: t.Any) -> None:
    """gunicorn's hook, called in the worker just before the app gets ``req``."""
    for name, value in req.headers:  # names upper-cased by gunicorn
        if name == "X-PROBE" and _TAG.fullmatch(value):
            worker.log.info("probe %s served by worker %d", value, worker.pid)
