"""Child process of the erlen-sql overhead gate: requests to one variant on SQLite.

``python sqlchild.py requests VARIANT ENDPOINT WARMUP COUNT [--marked]`` (the
arguments of ``child.py``, so :mod:`harness.callgrind` runs it the same way)
creates a SQLite database in a temporary folder, builds the erlen app of
``VARIANT`` (see :mod:`realapps.overhead`), checks its answer to ``ENDPOINT``
(``db``), then makes WARMUP and COUNT more requests (``--marked``: the COUNT
requests inside libffi's ``ffi_call``, which callgrind counts).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import layout  # noqa: E402

layout.shift()  # first: every later allocation moves with it

from harness import childloop  # noqa: E402
from realapps import overhead  # noqa: E402
from realapps.common import TEST_TYPES_BY_NAME  # noqa: E402


def run(variant: str, endpoint: str, warmup: int, count: int, marked: bool) -> None:
    """Make ``warmup`` then ``count`` requests of ``endpoint`` to ``variant``."""
    if variant not in overhead.VARIANTS or endpoint != "db":
        raise SystemExit(f"unknown variant {variant!r} or endpoint {endpoint!r}")
    folder = tempfile.mkdtemp(prefix="erlen-bench-sql-")
    try:
        app = overhead.create(variant, overhead.make_database(folder))
        childloop.check_and_drive(
            variant, app, TEST_TYPES_BY_NAME["db"], warmup, count, marked
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(childloop.main(sys.argv[1:], run, __doc__))
