"""Entry points for servers: ``realapps.wsgi:app`` (gunicorn) and ``realapps.wsgi:asgi``.

The stack is ``$BENCH_STACK`` and the database ``$BENCH_DATABASE_URL``; servers
are started with ``bench/`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import typing as t

from realapps import load
from realapps import STACKS_BY_NAME

_name = os.environ.get("BENCH_STACK", "")
_url = os.environ.get("BENCH_DATABASE_URL", "")
if _name not in STACKS_BY_NAME or not _url:
    raise RuntimeError(
        "Set BENCH_STACK to a stack of bench/realapps/__init__.py and"
        " BENCH_DATABASE_URL to the database URL."
    )
app: t.Any = load(_name, _url)
asgi = app
