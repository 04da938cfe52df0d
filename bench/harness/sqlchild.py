"""Child process of the erlen-sql overhead gate: requests to one variant on SQLite.

``python sqlchild.py requests VARIANT ENDPOINT WARMUP COUNT [--marked]`` (the
arguments of ``child.py``, so :mod:`harness.callgrind` runs it the same way)
creates a SQLite database in a temporary folder, builds the erlen app of
``VARIANT`` (see :mod:`realapps.overhead`), checks its answer to ``ENDPOINT``
(``db``), then makes WARMUP and COUNT more requests (``--marked``: the COUNT
requests inside libffi's ``ffi_call``, which callgrind counts).
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
from realapps import overhead  # noqa: E402
from realapps.common import TEST_TYPES_BY_NAME  # noqa: E402


def run(variant: str, endpoint: str, warmup: int, count: int, marked: bool) -> None:
    """Make ``warmup`` then ``count`` requests of ``endpoint`` to ``variant``."""
    if variant not in overhead.VARIANTS or endpoint != "db":
        raise SystemExit(f"unknown variant {variant!r} or endpoint {endpoint!r}")
    folder = tempfile.mkdtemp(prefix="erlen-bench-sql-")
    try:
        app = overhead.create(variant, overhead.make_database(folder))
        spec = hello_common.Endpoint("db", "GET", "/db", _never)
        environ = base_environ(spec)
        result = call(app, environ, b"")
        problem = TEST_TYPES_BY_NAME["db"].check(
            result.status, result.headers, result.body
        )
        if problem is not None:
            raise SystemExit(f"{variant}: wrong answer: {problem}")
        prepared = Prepared(variant, spec, app, environ, b"")
        # Start the collector's counts from zero, with everything from start-up
        # frozen: the collections during the loop then fall on the same requests
        # whatever the start-up allocated (paths, environment), so two runs of
        # the same code count the same.
        gc.collect()
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
    """Parse ``requests VARIANT ENDPOINT WARMUP COUNT [--marked]`` and run."""
    if len(argv) in (5, 6) and argv[0] == "requests":
        run(argv[1], argv[2], int(argv[3]), int(argv[4]), argv[5:] == ["--marked"])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
