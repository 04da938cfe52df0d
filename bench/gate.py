"""Deterministic speed gate: erlen's instructions per request against Flask's.

Counts instructions per request with callgrind (see ``harness/callgrind.py``) for
``hello`` and ``json``, erlen and Flask both with ``SECRET_KEY``, prints the ratios
and exits 1 when either is above the goal (``--max-ratio``, default 0.50), or 2
when something could not be measured. ``nox -s bench-gate`` runs it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from harness import callgrind  # noqa: E402

ENDPOINTS = ("hello", "json")
SUBJECT = "erlen"
REFERENCE = "flask"


def main(argv: list[str]) -> int:
    """Measure, print the ratios and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=0.50,
        help="highest allowed erlen ÷ Flask instructions ratio (default 0.50)",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=500,
        help="measured requests per app and endpoint (default 500)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at once")
    args = parser.parse_args(argv)
    if args.requests < 10:
        parser.error("--requests must be at least 10")
    if callgrind.available() is None:
        print(
            "valgrind is not installed; install it (apt-get install valgrind)"
            " to run the gate.",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    pairs = [(app, endpoint) for endpoint in ENDPOINTS for app in (SUBJECT, REFERENCE)]
    counts = callgrind.measure(pairs, args.requests // 5, args.requests, args.jobs)
    status = 0
    print(f"instructions per request over {args.requests} requests (callgrind)")
    for endpoint in ENDPOINTS:
        subject = counts[SUBJECT, endpoint]
        reference = counts[REFERENCE, endpoint]
        if subject.per_request is None or reference.per_request is None:
            print(
                f"{endpoint:6} not measured: {subject.error or reference.error}",
            )
            status = 2
            continue
        ratio = subject.per_request / reference.per_request
        verdict = "ok" if ratio <= args.max_ratio else "ABOVE GOAL"
        print(
            f"{endpoint:6} erlen {subject.per_request:>10,.0f}"
            f"  flask {reference.per_request:>10,.0f}"
            f"  ratio {ratio:.3f}  (goal <= {args.max_ratio:.2f}) {verdict}"
        )
        if ratio > args.max_ratio and status == 0:
            status = 1
    print(f"gate finished in {time.monotonic() - began:.0f} s; exit {status}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
