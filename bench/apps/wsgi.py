"""The WSGI entry point for real servers: ``apps.wsgi:app`` builds ``$BENCH_APP``.

Servers are started with the ``bench/`` folder on ``PYTHONPATH``, for example
``BENCH_APP=erlen gunicorn apps.wsgi:app``.
"""

from __future__ import annotations

import os

from apps import load
from apps import WSGIApp

_name = os.environ.get("BENCH_APP", "")
if not _name:
    raise RuntimeError(
        "BENCH_APP is not set; set it to an app name from bench/apps/__init__.py,"
        " for example BENCH_APP=erlen."
    )
app: WSGIApp = load(_name)
