"""Deterministic speed gates: instructions per request, counted by callgrind.

1. ``hello``: erlen's instructions per request against Flask's for ``hello`` and
   ``json``, both with ``SECRET_KEY``; fails above ``--max-ratio`` (0.50).
2. ``sql``: what erlen-sql adds per request over plain SQLAlchemy. Each variant
   of ``realapps/overhead.py`` (an erlen app reading one row from SQLite
   through erlen-sql) is counted beside its twin that uses plain SQLAlchemy the
   same way, each as the median over ``--sql-layouts`` memory layouts; fails
   when erlen-sql's extra instructions exceed ``--max-sql-overhead`` (a
   fraction of the twin's count) for any pair.
3. ``asgi``: erlen's ASGI entry (an ``async def`` view, in-process) against
   the Werkzeug floor under ASGI (``apps/asgi_apps.py``: Werkzeug's Request,
   Response and Map with no framework) on ``hello`` and ``json``; fails above
   ``--max-asgi-ratio`` (1.25), so what erlen adds over the floor cannot creep
   back.

Exits 1 when a goal is missed, 2 when something could not be measured.
``nox -s bench-gate`` runs it (``-- --part sql`` for one gate).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from harness import callgrind  # noqa: E402
from realapps import overhead  # noqa: E402

ENDPOINTS = ("hello", "json")
SUBJECT = "erlen"
REFERENCE = "flask"
SQL_CHILD = os.path.join(BENCH_DIR, "harness", "sqlchild.py")
ASGI_CHILD = os.path.join(BENCH_DIR, "harness", "asgichild.py")
ASGI_FLOOR = "werkzeug"
#: Highest allowed erlen-sql overhead per pair, as a fraction of the plain twin.
#: Medians over five layouts, 2026-12-07: 3.8 % (ORM), 4.6 % (session; 34 %
#: before issue 18, when every statement's tables were walked) and 2.7 %
#: (engine); single layouts ranged 1.7-7.6 % (ORM), hence the margin.
SQL_LIMITS = {
    "erlen-sql-orm": 0.07,
    "erlen-sql-session": 0.08,
    "erlen-sql-engine": 0.06,
}
PARTS = ("hello", "sql", "asgi")
#: Each erlen-sql count is the median over this many memory layouts: in one
#: layout the ORM pair's overhead ranged from 1.7 % to 7.6 % (the checkout path
#: is enough to move it), which failed the 7 % gate by chance on CI (see
#: harness/layout.py). The hello and ASGI counts move by under 1 % between
#: layouts, far inside their margins, and are counted in one.
SQL_LAYOUTS = 5


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
    parser.add_argument(
        "--sql-requests",
        type=int,
        default=200,
        help="measured requests per erlen-sql variant (default 200)",
    )
    parser.add_argument(
        "--max-sql-overhead",
        type=float,
        default=None,
        help="one bound for every erlen-sql pair instead of the per-pair defaults",
    )
    parser.add_argument(
        "--max-asgi-ratio",
        type=float,
        default=1.25,
        help="highest allowed erlen ASGI ÷ Werkzeug floor ratio (default 1.25)",
    )
    parser.add_argument(
        "--part",
        type=lambda v: [p for p in v.split(",") if p],
        default=list(PARTS),
        help="comma-separated gates to run: hello,sql,asgi (default all)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at once")
    parser.add_argument(
        "--sql-layouts",
        type=int,
        default=SQL_LAYOUTS,
        help="memory layouts each erlen-sql count is the median of"
        f" (default {SQL_LAYOUTS})",
    )
    args = parser.parse_args(argv)
    if args.requests < 10 or args.sql_requests < 10:
        parser.error("--requests and --sql-requests must be at least 10")
    if args.sql_layouts < 1:
        parser.error("--sql-layouts must be at least 1")
    if not set(args.part) <= set(PARTS):
        parser.error(f"--part takes {','.join(PARTS)}")
    if callgrind.available() is None:
        print(
            "valgrind is not installed; install it (apt-get install valgrind)"
            " to run the gate.",
            file=sys.stderr,
        )
        return 2
    began = time.monotonic()
    status = 0
    if "hello" in args.part:
        status = _hello_gate(args)
    for part, gate in (("sql", _sql_gate), ("asgi", _asgi_gate)):
        if part in args.part:
            part_status = gate(args)
            status = 2 if 2 in (status, part_status) else max(status, part_status)
    print(f"gate finished in {time.monotonic() - began:.0f} s; exit {status}")
    return status


def _hello_gate(args: argparse.Namespace) -> int:
    """erlen ÷ Flask instructions on hello and json; the exit status."""
    print(f"instructions per request over {args.requests} requests (callgrind)")
    return _ratio_gate(args, REFERENCE, "flask", args.max_ratio, callgrind.CHILD)


def _asgi_gate(args: argparse.Namespace) -> int:
    """erlen's ASGI entry ÷ the Werkzeug floor under ASGI; the exit status."""
    print(f"ASGI instructions per in-process request over {args.requests} requests")
    return _ratio_gate(
        args, ASGI_FLOOR, "werkzeug floor", args.max_asgi_ratio, ASGI_CHILD
    )


def _ratio_gate(
    args: argparse.Namespace, reference: str, label: str, limit: float, child: str
) -> int:
    """Print erlen ÷ ``reference`` on each endpoint; 1 if one is above ``limit``."""
    pairs = [(app, e) for e in ENDPOINTS for app in (SUBJECT, reference)]
    counts = callgrind.measure(
        pairs, args.requests // 5, args.requests, args.jobs, child
    )
    status = 0
    for endpoint in ENDPOINTS:
        subject, other = counts[SUBJECT, endpoint], counts[reference, endpoint]
        if subject.per_request is None or other.per_request is None:
            print(f"{endpoint:6} not measured: {subject.error or other.error}")
            status = 2
            continue
        ratio = subject.per_request / other.per_request
        verdict = "ok" if ratio <= limit else "ABOVE GOAL"
        print(
            f"{endpoint:6} erlen {subject.per_request:>10,.0f}"
            f"  {label} {other.per_request:>10,.0f}"
            f"  ratio {ratio:.3f}  (goal <= {limit:.2f}) {verdict}"
        )
        if ratio > limit and status == 0:
            status = 1
    return status


def _sql_gate(args: argparse.Namespace) -> int:
    """erlen-sql's instructions over its plain SQLAlchemy twin; the exit status."""
    pairs = [(variant, "db") for variant in overhead.VARIANTS]
    counts = callgrind.measure(
        pairs,
        args.sql_requests // 5,
        args.sql_requests,
        args.jobs,
        SQL_CHILD,
        args.sql_layouts,
    )
    status = 0
    print(
        f"erlen-sql overhead per request over {args.sql_requests} requests on"
        " SQLite (callgrind instructions)"
    )
    for variant, twin in overhead.PAIRS.items():
        subject, plain = counts[variant, "db"], counts[twin, "db"]
        if subject.per_request is None or plain.per_request is None:
            print(f"{variant:18} not measured: {subject.error or plain.error}")
            status = 2
            continue
        extra = subject.per_request - plain.per_request
        share = extra / plain.per_request
        limit = (
            args.max_sql_overhead
            if args.max_sql_overhead is not None
            else SQL_LIMITS[variant]
        )
        verdict = "ok" if share <= limit else "ABOVE GOAL"
        print(
            f"{variant:18} {subject.per_request:>10,.0f}  {twin:18}"
            f" {plain.per_request:>10,.0f}  overhead {extra:>+8,.0f}"
            f" ({share:+.2%}, goal <= {limit:.0%}) {verdict}"
        )
        if share > limit and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
