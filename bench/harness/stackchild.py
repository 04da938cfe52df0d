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

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import childloop  # noqa: E402
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
        childloop.check_and_drive(
            stack, app, common.TEST_TYPES_BY_NAME[test], warmup, count, marked
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(childloop.main(sys.argv[1:], run, __doc__))
