"""Run erlen's benchmarks against its peers and write the markdown report.

Usage: ``python bench/run.py [--quick] [--only hello,json] [--apps erlen,flask]
[--skip servers,instructions]``; ``--realapps`` runs the TechEmpower test types on
PostgreSQL instead (``--stacks``, ``--tests``, ``--skip inproc,servers``). ``nox -s bench`` runs it; see ``bench/README.md``
for what each measure means. The report goes to ``bench/results/<date>-<mode>.md``
and ``bench/results/latest.md``, and is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)

from apps import APPS  # noqa: E402
from apps.common import ENDPOINTS  # noqa: E402
from harness import callgrind  # noqa: E402
from harness import inproc  # noqa: E402
from harness import memory  # noqa: E402
from harness import realapps  # noqa: E402
from harness import realreport  # noqa: E402
from harness import report  # noqa: E402
from harness import servers  # noqa: E402
from harness import startup  # noqa: E402
from harness.wsgi import validate  # noqa: E402

MEASURES = ("inproc", "instructions", "servers", "import", "memory", "asgi")
ALL_APPS = [spec.name for spec in APPS]
ALL_ENDPOINTS = [endpoint.name for endpoint in ENDPOINTS]


@dataclass
class Plan:
    """How much of each measure one run does; ``--quick`` shrinks every part."""

    mode: str
    rounds: int
    batch_seconds: float
    instruction_apps: list[str]
    instruction_endpoints: list[str]
    instruction_all_endpoint_apps: list[str]
    low: int
    high: int
    server_apps: list[str]
    server_endpoints: list[str]
    server_rounds: int
    server_seconds: float
    import_repeat: int


QUICK = Plan(
    mode="quick",
    rounds=20,
    batch_seconds=0.02,
    instruction_apps=["werkzeug", "flask", "erlen"],
    instruction_endpoints=["hello", "json"],
    instruction_all_endpoint_apps=[],
    low=100,
    high=500,
    server_apps=["werkzeug", "flask", "erlen"],
    server_endpoints=["hello"],
    server_rounds=2,
    server_seconds=2.0,
    import_repeat=5,
)
FULL = Plan(
    mode="full",
    rounds=40,
    batch_seconds=0.05,
    instruction_apps=ALL_APPS,
    instruction_endpoints=["hello", "json"],
    instruction_all_endpoint_apps=["werkzeug", "flask", "erlen"],
    low=200,
    high=1000,
    server_apps=ALL_APPS,
    server_endpoints=["hello", "json", "template"],
    server_rounds=3,
    server_seconds=3.0,
    import_repeat=15,
)


def _names(value: str, allowed: list[str], what: str) -> list[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown)}; choose from {', '.join(allowed)}"
        )
    return names


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse the command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, a few minutes on 2 cores"
    )
    parser.add_argument(
        "--only",
        type=lambda v: _names(v, ALL_ENDPOINTS, "endpoint"),
        default=ALL_ENDPOINTS,
        help=f"comma-separated endpoints ({','.join(ALL_ENDPOINTS)})",
    )
    parser.add_argument(
        "--apps",
        type=lambda v: _names(v, ALL_APPS, "app"),
        default=ALL_APPS,
        help=f"comma-separated apps ({','.join(ALL_APPS)})",
    )
    parser.add_argument(
        "--skip",
        type=lambda v: _names(v, [*MEASURES, "profile"], "measure"),
        default=[],
        help=f"comma-separated measures to skip ({','.join(MEASURES)})",
    )
    parser.add_argument(
        "--realapps",
        action="store_true",
        help="the real-application bench: TechEmpower test types on PostgreSQL",
    )
    parser.add_argument(
        "--stacks",
        type=lambda v: _names(v, realapps.ALL_STACKS, "stack"),
        default=realapps.ALL_STACKS,
        help=f"with --realapps: comma-separated stacks ({','.join(realapps.ALL_STACKS)})",
    )
    parser.add_argument(
        "--tests",
        type=lambda v: _names(v, realapps.ALL_TESTS, "test type"),
        default=realapps.ALL_TESTS,
        help=f"with --realapps: comma-separated test types ({','.join(realapps.ALL_TESTS)})",
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="valgrind processes at once (default 2)"
    )
    parser.add_argument(
        "--results-dir",
        default=os.path.join(BENCH_DIR, "results"),
        help="where the report is written (default bench/results)",
    )
    return parser.parse_args(argv)


def _step(title: str) -> float:
    print(f"== {title}", file=sys.stderr, flush=True)
    return time.monotonic()


def _done(started: float) -> None:
    print(f"   ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    """Run the measures the arguments ask for, write and print the report."""
    args = parse_args(argv)
    if args.realapps:
        return main_realapps(args)
    plan = QUICK if args.quick else FULL
    apps = [a for a in ALL_APPS if a in args.apps]
    endpoints = [e for e in ALL_ENDPOINTS if e in args.only]
    skip = set(args.skip)
    began = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    load = f"{os.getloadavg()[0]:.2f}"

    clock = _step(f"validating {len(apps)} apps on {len(endpoints)} endpoints")
    validation = validate(apps, endpoints)
    for (app, endpoint), problem in sorted(validation.problems.items()):
        print(f"  WRONG {app} {endpoint}: {problem}", file=sys.stderr)
    for app, reason in sorted(validation.unavailable.items()):
        print(f"  UNAVAILABLE {app}: {reason}", file=sys.stderr)
    _done(clock)
    ok_apps = [a for a in apps if a not in validation.unavailable]

    def measurable(app: str, endpoint: str) -> bool:
        return (app, endpoint) in validation.prepared

    data = report.RunData(plan.mode, started_at, apps, endpoints, validation)
    data.settings["load"] = load

    if "inproc" in skip:
        data.skipped["inproc"] = "--skip"
    else:
        clock = _step(f"in-process timing: {plan.rounds} rounds")
        data.timings = inproc.measure(
            validation.prepared, endpoints, plan.rounds, plan.batch_seconds
        )
        _done(clock)

    if "instructions" in skip:
        data.skipped["instructions"] = "--skip"
    elif callgrind.available() is None:
        data.skipped["instructions"] = "valgrind is not installed"
    else:
        pairs = [
            (app, endpoint)
            for app in ok_apps
            for endpoint in endpoints
            if measurable(app, endpoint)
            and (
                (
                    app in plan.instruction_apps
                    and endpoint in plan.instruction_endpoints
                )
                or app in plan.instruction_all_endpoint_apps
            )
        ]
        data.settings["instructions"] = (
            f"{plan.high} requests after {callgrind.WARMUP} warm-up requests"
        )
        clock = _step(f"instructions (callgrind): {len(pairs)} app/endpoint pairs")
        data.instructions = callgrind.measure(pairs, plan.low, plan.high, args.jobs)
        _done(clock)

    if "servers" in skip:
        data.skipped["servers"] = "--skip"
    else:
        server_apps = [a for a in ok_apps if a in plan.server_apps]
        server_endpoints = [
            e
            for e in endpoints
            if e in plan.server_endpoints and all(measurable(a, e) for a in server_apps)
        ]
        if not server_apps or not server_endpoints:
            data.skipped["servers"] = "no app/endpoint selected for servers"
        else:
            data.settings["servers"] = (
                f"{servers.WORKERS} workers each; load from {servers.load_generator()}"
                f" with {servers.CONNECTIONS} connections; median of"
                f" {plan.server_rounds} interleaved runs of {plan.server_seconds:.0f} s."
            )
            clock = _step("requests/s behind gunicorn and granian")
            data.rates = servers.measure(
                ["gunicorn", "granian"],
                server_apps,
                server_endpoints,
                plan.server_rounds,
                plan.server_seconds,
            )
            _done(clock)

    if "import" in skip:
        data.skipped["import"] = "--skip"
    else:
        clock = _step("import time")
        data.settings["imports"] = str(plan.import_repeat)
        data.imports = startup.measure(["erlen", "flask"], plan.import_repeat)
        _done(clock)

    if "memory" in skip:
        data.skipped["memory"] = "--skip"
    else:
        clock = _step("memory")
        data.memory = memory.measure(ok_apps)
        _done(clock)

    asgi_text = ""
    if "asgi" not in skip:
        from harness import asgi

        clock = _step("ASGI: in-process and under uvicorn")
        flask_rps = {
            e: rps
            for e in asgi.SERVER_ENDPOINTS
            if (rps := report._rps(data, "gunicorn", "flask", e)) is not None
        }
        asgi_text = asgi.render(
            asgi.measure(
                args.quick,
                with_servers="servers" not in skip,
                with_instructions="instructions" not in skip,
            ),
            flask_rps,
        )
        _done(clock)

    text = report.render(data) + asgi_text
    os.makedirs(args.results_dir, exist_ok=True)
    dated = os.path.join(
        args.results_dir, f"{started_at.strftime('%Y-%m-%d')}-{plan.mode}.md"
    )
    for path in (dated, os.path.join(args.results_dir, "latest.md")):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(text)
    print(
        f"Report written to {dated} and latest.md in {time.monotonic() - began:.0f} s.",
        file=sys.stderr,
    )
    return 0


def main_realapps(args: argparse.Namespace) -> int:
    """Run the real-application bench and write its report (``realapps-*.md``)."""
    plan = realapps.QUICK if args.quick else realapps.FULL
    began = time.monotonic()
    stacks = [s for s in realapps.ALL_STACKS if s in args.stacks]
    tests = [x for x in realapps.ALL_TESTS if x in args.tests]
    data = realapps.run(plan, stacks, tests, set(args.skip))
    text = realreport.render(data)
    os.makedirs(args.results_dir, exist_ok=True)
    dated = os.path.join(
        args.results_dir,
        f"{data.started.strftime('%Y-%m-%d')}-realapps-{plan.mode}.md",
    )
    for path in (dated, os.path.join(args.results_dir, "realapps-latest.md")):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    print(text)
    print(
        f"Report written to {dated} and realapps-latest.md"
        f" in {time.monotonic() - began:.0f} s.",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
