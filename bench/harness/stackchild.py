"""Child process counting a real-application stack's instructions on SQLite.

``python stackchild.py requests STACK TEST WARMUP COUNT [--marked]`` (the
arguments of ``child.py``, so :mod:`harness.callgrind` runs it the same way)
seeds a SQLite file with the ``world`` and ``fortune`` tables, builds the WSGI
stack (see :mod:`realapps`; or a sync floor of :mod:`realapps.bare` in a
minimal WSGI callable), checks its answer to TEST, then makes WARMUP and
COUNT more requests (``--marked``: the COUNT requests inside ``ffi_call``).
SQLite runs in the process, so the count covers the framework, the extension,
SQLAlchemy and the database alike, and does not depend on the machine's load.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import typing as t

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import layout  # noqa: E402

layout.shift()  # first: every later allocation moves with it

from harness import childloop  # noqa: E402
from realapps import bare  # noqa: E402
from realapps import common  # noqa: E402
from realapps import load  # noqa: E402
from realapps import STACKS_BY_NAME  # noqa: E402


def floor_app(runner: bare.Runner, content_type: str) -> t.Any:
    """A minimal WSGI callable around a floor's per-request function.

    Counted with callgrind around a constant runner, it adds about 1,400
    instructions per request to a bare WSGI callable (the harness's call of
    any app costs about 4,000 more), against about a million for the floor's
    database work and output: the floor's count stays its own.
    """

    def app(
        environ: dict[str, t.Any], start_response: t.Callable[..., t.Any]
    ) -> list[bytes]:
        body = runner()
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    return app


def run(stack: str, test: str, warmup: int, count: int, marked: bool) -> None:
    """Make ``warmup`` then ``count`` requests of ``test`` to ``stack`` (or a sync floor)."""
    spec = STACKS_BY_NAME.get(stack)
    floor = bare.FLOORS.get(stack)
    wsgi = (spec is not None and spec.kind == "wsgi") or (
        floor is not None and floor.kind == "floor"
    )
    if not wsgi or test not in common.TEST_TYPES_BY_NAME:
        raise SystemExit(f"unknown WSGI stack or floor {stack!r} or test type {test!r}")
    test_type = common.TEST_TYPES_BY_NAME[test]
    # The same row ids in every run (and every stack): the counts then differ
    # by the code alone, not by which rows the queries happened to touch.
    random.seed(0)
    folder = tempfile.mkdtemp(prefix="erlen-bench-stack-")
    try:
        url = f"sqlite:///{os.path.join(folder, 'world.db')}"
        common.seed(url)
        if floor is not None:
            app = floor_app(floor.build(url)[test], test_type.content_type)
        else:
            app = load(stack, url)
        childloop.check_and_drive(stack, app, test_type, warmup, count, marked)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(childloop.main(sys.argv[1:], run, __doc__))
