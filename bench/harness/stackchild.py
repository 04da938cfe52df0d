"""Child process counting a real-application stack's instructions on SQLite.

``python stackchild.py requests STACK TEST WARMUP COUNT [--marked]`` (the
arguments of ``child.py``, so :mod:`harness.callgrind` runs it the same way)
seeds a SQLite file with the ``world`` and ``fortune`` tables, builds the WSGI
stack (see :mod:`realapps`), checks its answer to TEST, then makes WARMUP and
COUNT more requests (``--marked``: the COUNT requests inside ``ffi_call``).
SQLite runs in the process, so the count covers the framework, the extension,
SQLAlchemy and the database alike, and does not depend on the machine's load.
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from apps import common as hello_common  # noqa: E402
from harness.inproc import time_batch  # noqa: E402
from harness.wsgi import base_environ  # noqa: E402
from harness.wsgi import call  # noqa: E402
from harness.wsgi import Prepared  # noqa: E402
from realapps import common  # noqa: E402
from realapps import load  # noqa: E402
from realapps import STACKS_BY_NAME  # noqa: E402


def run(stack: str, test: str, warmup: int, count: int, marked: bool) -> None:
    """Make ``warmup`` then ``count`` requests of ``test`` to ``stack``."""
    spec = STACKS_BY_NAME.get(stack)
    if spec is None or spec.kind != "wsgi" or test not in common.TEST_TYPES_BY_NAME:
        raise SystemExit(f"unknown WSGI stack {stack!r} or test type {test!r}")
    folder = tempfile.mkdtemp(prefix="erlen-bench-stack-")
    try:
        url = f"sqlite:///{os.path.join(folder, 'world.db')}"
        common.seed(url)
        app = load(stack, url)
        test_type = common.TEST_TYPES_BY_NAME[test]
        path, _, query = test_type.path.partition("?")
        endpoint = hello_common.Endpoint(test, "GET", path, _never)
        environ = base_environ(endpoint)
        environ["QUERY_STRING"] = query
        result = call(app, environ, b"")
        problem = test_type.check(result.status, result.headers, result.body)
        if problem is not None:
            raise SystemExit(f"{stack} {test}: wrong answer: {problem}")
        prepared = Prepared(stack, endpoint, app, environ, b"")
        gc.collect()  # see sqlchild.py: collections fall on the same requests
        gc.freeze()
        time_batch(prepared, warmup)

        def measured() -> None:
            if count:
                time_batch(prepared, count)

        if marked:
            import ctypes

            ctypes.CFUNCTYPE(None)(measured)()
        else:
            measured()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _never(status: int, headers: object, body: bytes) -> str | None:
    return None


def main(argv: list[str]) -> int:
    """Parse ``requests STACK TEST WARMUP COUNT [--marked]`` and run."""
    if len(argv) in (5, 6) and argv[0] == "requests":
        run(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5:] == ["--marked"])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
