"""The request loop of the callgrind children (``child.py``, ``sqlchild.py``, ``stackchild.py``).

A child gets ``requests NAME TEST WARMUP COUNT [--marked]``, makes WARMUP
requests, then COUNT more; ``--marked`` makes those COUNT requests inside
libffi's ``ffi_call``, which callgrind counts (see :mod:`harness.callgrind`).
"""

from __future__ import annotations

import gc
import sys
import typing as t

from apps import common
from harness.inproc import time_batch
from harness.wsgi import base_environ
from harness.wsgi import call
from harness.wsgi import Prepared

if t.TYPE_CHECKING:
    from apps import WSGIApp
    from realapps.common import TestType


def drive(prepared: Prepared, warmup: int, count: int, marked: bool) -> None:
    """Make ``warmup`` requests, then ``count`` more (inside ``ffi_call`` if ``marked``)."""
    time_batch(prepared, warmup)

    def measured() -> None:
        if count:
            time_batch(prepared, count)

    if marked:
        import ctypes

        ctypes.CFUNCTYPE(None)(measured)()
    else:
        measured()


def check_and_drive(
    name: str, app: WSGIApp, test: TestType, warmup: int, count: int, marked: bool
) -> None:
    """Check ``app``'s answer to ``test`` (exit if wrong), then :func:`drive` it."""
    path, _, query = test.path.partition("?")
    endpoint = common.Endpoint(test.name, "GET", path, _never)
    environ = base_environ(endpoint)
    environ["QUERY_STRING"] = query
    result = call(app, environ, b"")
    problem = test.check(result.status, result.headers, result.body)
    if problem is not None:
        raise SystemExit(f"{name} {test.name}: wrong answer: {problem}")
    prepared = Prepared(name, endpoint, app, environ, b"")
    # Start the collector's counts from zero, with everything from start-up
    # frozen: the collections during the loop then fall on the same requests
    # whatever the start-up allocated (paths, environment), so two runs of
    # the same code count the same.
    gc.collect()
    gc.freeze()
    drive(prepared, warmup, count, marked)


def _never(status: int, headers: object, body: bytes) -> str | None:
    return None


def main(
    argv: list[str],
    run: t.Callable[[str, str, int, int, bool], None],
    usage: str | None,
) -> int:
    """Call ``run`` with ``requests NAME TEST WARMUP COUNT [--marked]``, else print ``usage``."""
    if len(argv) in (5, 6) and argv[0] == "requests":
        run(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5:] == ["--marked"])
        return 0
    print(usage, file=sys.stderr)
    return 2
