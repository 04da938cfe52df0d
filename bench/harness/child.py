"""Child process entry point for measures that need a process of their own.

``python child.py requests APP ENDPOINT WARMUP COUNT [--marked]`` loads one app,
checks the endpoint's response, then makes WARMUP and COUNT more requests (run
under callgrind by :mod:`harness.callgrind`; ``--marked`` makes the COUNT
requests inside libffi's ``ffi_call``).

``python child.py memory APP FIRST SECOND`` makes FIRST requests cycling through
the app's endpoints, prints the resident set size, makes SECOND more and prints
it again, as JSON (used by :mod:`harness.memory`).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import layout  # noqa: E402

layout.shift()  # first: every later allocation moves with it

from apps import common  # noqa: E402
from apps import load  # noqa: E402
from harness import childloop  # noqa: E402
from harness.inproc import time_batch  # noqa: E402
from harness.wsgi import prepare  # noqa: E402
from harness.wsgi import supported  # noqa: E402


def resident_kib() -> int:
    """Return this process's resident set size in KiB, read from ``/proc``."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS is missing from /proc/self/status; Linux is required")


def run_requests(
    app_name: str, endpoint_name: str, warmup: int, count: int, marked: bool
) -> None:
    """Make ``warmup`` then ``count`` requests to one endpoint of one app.

    :param marked: make the ``count`` requests inside a ctypes callback, so that
        they run within libffi's ``ffi_call``, the marker callgrind's
        ``--toggle-collect`` switches counting on for.
    """
    prepared = prepare(
        app_name, common.ENDPOINTS_BY_NAME[endpoint_name], load(app_name)
    )
    childloop.drive(prepared, warmup, count, marked)


def run_memory(app_name: str, first: int, second: int) -> None:
    """Print RSS after ``first`` requests and after ``second`` more, as JSON."""
    app = load(app_name)
    prepared = [
        prepare(app_name, endpoint, app)
        for endpoint in common.ENDPOINTS
        if supported(app_name, endpoint.name)
    ]
    per_endpoint = max(1, first // len(prepared))
    for item in prepared:
        time_batch(item, per_endpoint)
    after_first = resident_kib()
    per_endpoint = max(1, second // len(prepared))
    for item in prepared:
        time_batch(item, per_endpoint)
    after_second = resident_kib()
    print(
        json.dumps({"rss_kib": after_first, "growth_kib": after_second - after_first})
    )


def main(argv: list[str]) -> int:
    """Dispatch on the first argument; see the module docstring."""
    if len(argv) == 4 and argv[0] == "memory":
        run_memory(argv[1], int(argv[2]), int(argv[3]))
        return 0
    return childloop.main(argv, run_requests, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
