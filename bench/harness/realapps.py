"""The real-application bench (``run.py --realapps``): TechEmpower test types on PostgreSQL.

Steps: start a throwaway PostgreSQL (``erlen_sql.testing.postgresql_server``),
seed ``world`` (10,000 rows) and ``fortune`` (12 rows); load every stack of
:mod:`realapps` in-process and check every test type's answer; time requests
in-process (and the no-framework floors of :mod:`realapps.bare`); profile one
batch per stack to split the time by package; then serve every stack (gunicorn
for WSGI, uvicorn for ASGI, the same worker count) and load it with wrk. With 2
or more cores the servers run on core 1 and wrk, PostgreSQL and this process on
core 0 (``taskset``). Everything measured in one run; the report shows ratios.
"""

from __future__ import annotations

import asyncio
import cProfile
import datetime as dt
import gc
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass
from dataclasses import field
from io import BytesIO

from apps import common as hello_common
from harness import asgi_call as asgi
from harness import callgrind
from harness import servers
from harness.inproc import Timing
from harness.wsgi import call as wsgi_call
from realapps import bare
from realapps import common
from realapps import load
from realapps import STACKS
from realapps import STACKS_BY_NAME

CONNECTIONS = 32
#: The extra run of the issue's goal: 20 queries with 256 connections.
WIDE_TEST = "queries20"
WIDE_CONNECTIONS = 256
#: The instruction count (full mode): WSGI stacks and sync floors on SQLite, these test types.
INSTRUCTION_TESTS = ("db", "queries20", "fortunes")
INSTRUCTION_REQUESTS = 60
STACK_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stackchild.py")
SERVER_CORE = 1
LOAD_CORE = 0


@dataclass(frozen=True)
class Plan:
    """How much one run measures; ``--quick`` keeps it under 5 minutes."""

    mode: str
    rounds: int
    batch_seconds: float
    profile_requests: int
    server_rounds: int
    server_seconds: float


QUICK = Plan(
    "quick",
    rounds=5,
    batch_seconds=0.05,
    profile_requests=60,
    server_rounds=1,
    server_seconds=2.0,
)
FULL = Plan(
    "full",
    rounds=25,
    batch_seconds=0.1,
    profile_requests=300,
    server_rounds=3,
    server_seconds=4.0,
)


@dataclass
class Measured:
    """Everything one run measured."""

    mode: str
    started: dt.datetime
    stacks: list[str]
    tests: list[str]
    settings: dict[str, str] = field(default_factory=dict)
    problems: dict[tuple[str, str], str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    timings: dict[tuple[str, str], Timing] = field(default_factory=dict)
    cpu_timings: dict[tuple[str, str], Timing] = field(default_factory=dict)
    shares: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    rates: dict[tuple[str, str, int], servers.Rate] = field(default_factory=dict)
    instructions: dict[tuple[str, str], callgrind.Count] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


# -- pinning ----------------------------------------------------------------------


def pinning() -> bool:
    """Tell whether servers and load go to separate cores (2+ cores and taskset)."""
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def _pin_self(core: int) -> None:
    if pinning() and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def _on_core(core: int, command: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *command] if pinning() else command


# -- in-process calls ----------------------------------------------------------------


class Caller:
    """Makes requests of one test type to one loaded stack (or floor), in-process.

    :param kind: ``"wsgi"``, ``"asgi"``, ``"floor"`` (a function returning the
        body) or ``"async-floor"`` (a coroutine function, awaited on ``loop``).
    """

    def __init__(
        self,
        app: t.Any,
        kind: str,
        test: common.TestType,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.app = app
        self.kind = kind
        self.test = test
        self.loop = loop
        self.cpu = 0.0
        if kind == "wsgi":
            from harness.wsgi import base_environ

            self.environ = _environ(base_environ, test.path)
        elif kind == "asgi":
            self.scope = asgi.scope(test.path)

    def once(self) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request; the answer as status, headers and body."""
        if self.kind == "wsgi":
            result = wsgi_call(self.app, self.environ, b"")
            return result.status, result.headers, result.body
        if self.kind == "asgi":
            return self.loop.run_until_complete(asgi.call(self.app, self.scope))
        if self.kind == "async-floor":
            body = self.loop.run_until_complete(self.app())
        else:
            body = self.app()
        kind = self.test.content_type
        return 200, [("Content-Type", kind)], body

    def batch(self, count: int) -> float:
        """Mean seconds per request over ``count`` requests (wall clock).

        The mean CPU seconds of this process per request are left in :attr:`cpu`.
        """
        cpu = time.process_time()
        start = time.perf_counter()
        if self.kind == "wsgi":
            app = self.app
            copy = self.environ.copy
            for _ in range(count):
                environ = copy()
                environ["wsgi.input"] = BytesIO(b"")
                iterable = app(environ, _start_response)
                for _chunk in iterable:
                    pass
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        elif self.kind == "asgi":
            self.loop.run_until_complete(asgi.batch(self.app, self.scope, count))
        elif self.kind == "async-floor":
            self.loop.run_until_complete(_await_each(self.app, count))
        else:
            run = self.app
            for _ in range(count):
                run()
        wall = (time.perf_counter() - start) / count
        self.cpu = (time.process_time() - cpu) / count
        return wall


async def _await_each(run: bare.AsyncRunner, count: int) -> None:
    for _ in range(count):
        await run()


def _environ(base_environ: t.Any, path: str) -> dict[str, t.Any]:
    bare_path, _, query = path.partition("?")
    endpoint = t.cast(t.Any, _Endpoint(bare_path))
    environ: dict[str, t.Any] = base_environ(endpoint)
    environ["QUERY_STRING"] = query
    return environ


@dataclass
class _Endpoint:
    path: str
    method: str = "GET"
    body: bytes = b""
    content_type: str | None = None


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> t.Callable[[bytes], None]:
    return lambda data: None


def prepare(
    url: str,
    stacks: list[str],
    tests: list[str],
    data: Measured,
    loop: asyncio.AbstractEventLoop,
) -> dict[tuple[str, str], Caller]:
    """Load every stack and floor, check every answer; return the callers that passed."""
    callers: dict[tuple[str, str], Caller] = {}
    for name in stacks:
        spec = STACKS_BY_NAME[name]
        try:
            app = load(name, url)
        except Exception as e:
            data.unavailable[name] = f"{type(e).__name__}: {e}"
            continue
        for test_name in tests:
            caller = Caller(app, spec.kind, common.TEST_TYPES_BY_NAME[test_name], loop)
            _check(caller, name, test_name, data, callers)
    for floor, floor_spec in bare.FLOORS.items():
        runners = floor_spec.build(url)
        for test_name in tests:
            if test_name in runners:
                caller = Caller(
                    runners[test_name],
                    floor_spec.kind,
                    common.TEST_TYPES_BY_NAME[test_name],
                    loop,
                )
                _check(caller, floor, test_name, data, callers)
    return callers


def _check(
    caller: Caller,
    name: str,
    test: str,
    data: Measured,
    callers: dict[tuple[str, str], Caller],
) -> None:
    try:
        problem = caller.test.check(*caller.once())
    except Exception as e:
        problem = f"{type(e).__name__}: {e}"
    if problem is None:
        callers[name, test] = caller
    else:
        data.problems[name, test] = problem
        print(f"  WRONG {name} {test}: {problem}", file=sys.stderr, flush=True)


def time_inproc(
    callers: dict[tuple[str, str], Caller], plan: Plan, seed: int = 1
) -> tuple[dict[tuple[str, str], Timing], dict[tuple[str, str], Timing]]:
    """Median µs per request over shuffled rounds (see ``harness/inproc.py``).

    Returns the wall-clock timings and the CPU timings of this process (which
    leave out waiting for PostgreSQL and for other processes on the core).
    """
    shuffler = random.Random(seed)
    keys = list(callers)
    sizes: dict[tuple[str, str], int] = {}
    for key in keys:
        per_call = callers[key].batch(5)
        sizes[key] = max(3, int(plan.batch_seconds / max(per_call, 1e-7)))
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    cpu: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    gc.collect()
    for number in range(plan.rounds):
        shuffler.shuffle(keys)
        for key in keys:
            samples[key].append(callers[key].batch(sizes[key]) * 1e6)
            cpu[key].append(callers[key].cpu * 1e6)
        print(f"  round {number + 1}/{plan.rounds}", file=sys.stderr, flush=True)
    return _timings(samples, plan, sizes), _timings(cpu, plan, sizes)


def _timings(
    samples: dict[tuple[str, str], list[float]],
    plan: Plan,
    sizes: dict[tuple[str, str], int],
) -> dict[tuple[str, str], Timing]:
    results = {}
    for key, values in samples.items():
        median = statistics.median(values)
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else []
        spread = (quartiles[2] - quartiles[0]) / median if median and quartiles else 0.0
        results[key] = Timing(median, spread, plan.rounds, sizes[key])
    return results


#: Package groups of the profile, first match wins (by path fragment).
_GROUPS = (
    ("erlen_sql", "erlen-sql"),
    ("flask_sqlalchemy", "Flask-SQLAlchemy"),
    ("/erlen/", "erlen"),
    ("/flask/", "Flask"),
    ("/werkzeug/", "Werkzeug"),
    ("/fastapi/", "FastAPI"),
    ("/starlette/", "Starlette"),
    ("/pydantic", "pydantic"),
    ("/sqlalchemy/orm/", "SQLAlchemy ORM"),
    ("/sqlalchemy/", "SQLAlchemy Core"),
    ("/psycopg", "driver"),
    ("/asyncpg/", "driver"),
    ("/jinja2/", "Jinja2"),
    ("/markupsafe/", "Jinja2"),
    ("/asyncio/", "asyncio"),
)
GROUP_ORDER = [
    "erlen",
    "erlen-sql",
    "Flask",
    "Flask-SQLAlchemy",
    "Werkzeug",
    "FastAPI",
    "Starlette",
    "pydantic",
    "SQLAlchemy ORM",
    "SQLAlchemy Core",
    "driver",
    "Jinja2",
    "asyncio",
    "other",
]


def _group(filename: str) -> str:
    for fragment, name in _GROUPS:
        if fragment in filename:
            return name
    return "other"


def profile(caller: Caller, requests: int) -> dict[str, float]:
    """Share of this process's CPU time per package group over ``requests`` requests.

    The profiler's clock is :func:`time.process_time`, so waiting for PostgreSQL
    (and for other processes on a shared core) is left out. The result also has
    ``"cpu µs"`` and ``"wall µs"`` per request under the profiler.
    """
    profiler = cProfile.Profile(time.process_time)
    wall = time.perf_counter()
    profiler.enable()
    caller.batch(requests)
    profiler.disable()
    wall = time.perf_counter() - wall
    stats = pstats.Stats(profiler)
    totals: dict[str, float] = {}
    for (filename, _line, _name), row in stats.stats.items():  # type: ignore[attr-defined]
        totals[_group(filename)] = totals.get(_group(filename), 0.0) + row[2]
    whole = sum(totals.values()) or 1.0
    shares = {name: value / whole for name, value in totals.items()}
    shares["cpu µs"] = whole / requests * 1e6
    shares["wall µs"] = wall / requests * 1e6
    return shares


# -- servers ------------------------------------------------------------------------


def start(stack: str, url: str) -> servers.Server | None:
    """Start the server of ``stack``; ``None`` if its server is not installed."""
    wsgi = STACKS_BY_NAME[stack].kind == "wsgi"
    kind = "gunicorn" if wsgi else "uvicorn"
    port = servers.free_port()
    command = servers.server_command(
        kind, port, "realapps.wsgi:app" if wsgi else "realapps.wsgi:asgi"
    )
    if command is None:
        return None
    env = {"BENCH_STACK": stack, "BENCH_DATABASE_URL": url}
    return servers.launch(stack, kind, port, _on_core(SERVER_CORE, command), env)


def _endpoint(test: common.TestType) -> hello_common.Endpoint:
    """The GET of ``test``, as :mod:`harness.servers` checks endpoints."""
    return hello_common.Endpoint(test.name, "GET", test.path, test.check)


def run_load(port: int, path: str, seconds: float, connections: int) -> float:
    """Requests/s from wrk on the load core (or the Python generator without wrk)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return servers.run_python_load(port, path, seconds)
    duration = max(1, round(seconds))
    proc = subprocess.run(
        _on_core(
            LOAD_CORE,
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                f"http://127.0.0.1:{port}{path}",
            ],
        ),
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    return servers.wrk_rate(proc)


def measure_servers(
    url: str, stacks: list[str], tests: list[str], plan: Plan, seed: int = 1
) -> dict[tuple[str, str, int], servers.Rate]:
    """Requests/s keyed by ``(stack, test, connections)``; one server kind at a time."""
    shuffler = random.Random(seed)
    results: dict[tuple[str, str, int], servers.Rate] = {}
    loads = [(name, CONNECTIONS) for name in tests]
    if WIDE_TEST in tests:
        loads.append((WIDE_TEST, WIDE_CONNECTIONS))
    for kind in ("wsgi", "asgi"):
        running: list[servers.Server] = []
        try:
            for name in (s for s in stacks if STACKS_BY_NAME[s].kind == kind):
                server = start(name, url)
                if server is None:
                    for test, conns in loads:
                        results[name, test, conns] = servers.Rate(
                            None, f"the {kind} server is not installed"
                        )
                    continue
                running.append(server)
            for server in running:
                servers.check_endpoints(
                    server, [_endpoint(common.TEST_TYPES_BY_NAME[x]) for x in tests]
                )
                if server.error is None:
                    try:
                        run_load(
                            server.port,
                            common.TEST_TYPES_BY_NAME[tests[0]].path,
                            1.0,
                            CONNECTIONS,
                        )
                    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                        server.error = f"warm-up failed: {e}"
                if server.error is not None:
                    print(
                        f"  {server.app}: {server.error}", file=sys.stderr, flush=True
                    )
            samples: dict[tuple[str, str, int], list[float]] = {}
            errors: dict[tuple[str, str, int], str] = {}
            for _ in range(plan.server_rounds):
                for test, conns in loads:
                    order = [s for s in running if s.error is None]
                    shuffler.shuffle(order)
                    for server in order:
                        key = (server.app, test, conns)
                        if key in errors:
                            continue
                        try:
                            rps = run_load(
                                server.port,
                                common.TEST_TYPES_BY_NAME[test].path,
                                plan.server_seconds,
                                conns,
                            )
                            samples.setdefault(key, []).append(rps)
                        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                            errors[key] = str(e)[:300]
            for server in running:
                for test, conns in loads:
                    key = (server.app, test, conns)
                    if server.error is not None:
                        results[key] = servers.Rate(None, server.error)
                    elif key in errors:
                        results[key] = servers.Rate(None, errors[key])
                    elif key in samples:
                        values = tuple(samples[key])
                        results[key] = servers.Rate(
                            statistics.median(values), None, values
                        )
                    rate = results.get(key)
                    if rate is not None:
                        shown = (
                            f"{rate.rps:,.0f}/s" if rate.rps is not None else rate.error
                        )
                        print(
                            f"  {server.kind} {server.app} {test} c{conns}: {shown}",
                            file=sys.stderr,
                            flush=True,
                        )
        finally:
            for server in running:
                server.stop()
    return results


# -- the run --------------------------------------------------------------------------


def run(plan: Plan, stacks: list[str], tests: list[str], skip: set[str]) -> Measured:
    """Start PostgreSQL, seed it, measure, stop it; return what was measured."""
    from erlen_sql.testing import postgresql_database
    from erlen_sql.testing import postgresql_server

    data = Measured(plan.mode, dt.datetime.now(dt.timezone.utc), stacks, tests)
    data.settings["load"] = f"{os.getloadavg()[0]:.2f}"
    _pin_self(LOAD_CORE)  # PostgreSQL inherits the load generator's core
    with (
        postgresql_server(driver="psycopg") as server,
        postgresql_database(server.url, "bench") as url,
    ):
        clock = _step("seeding world (10,000 rows) and fortune (12 rows)")
        common.seed(url)
        data.settings["postgresql"] = _server_version(url)
        _done(clock)
        loop = asyncio.new_event_loop()
        try:
            _pin_self(SERVER_CORE)  # in-process requests run where the servers will
            clock = _step(
                f"loading and checking {len(stacks)} stacks on {len(tests)} test types"
            )
            callers = prepare(url, stacks, tests, data, loop)
            _done(clock)
            if "inproc" in skip:
                data.skipped["inproc"] = "--skip"
            else:
                clock = _step(f"in-process timing: {plan.rounds} rounds")
                data.timings, data.cpu_timings = time_inproc(callers, plan)
                _done(clock)
            if "inproc" not in skip and "profile" not in skip:
                clock = _step("profiles")
                for test in ("queries20", "fortunes"):
                    for name in stacks:
                        if (name, test) in callers:
                            data.shares[name, test] = profile(
                                callers[name, test], plan.profile_requests
                            )
                _done(clock)
            if "instructions" in skip or plan.mode == "quick":
                data.skipped["instructions"] = (
                    "--skip" if "instructions" in skip else "quick mode"
                )
            elif callgrind.available() is None:
                data.skipped["instructions"] = "valgrind is not installed"
            else:
                clock = _step("instructions per request on SQLite (callgrind)")
                pairs = [
                    (name, test)
                    for test in INSTRUCTION_TESTS
                    if test in tests
                    for name in [*stacks, *instruction_floors(stacks)]
                    if name in bare.FLOORS or STACKS_BY_NAME[name].kind == "wsgi"
                ]
                data.instructions = callgrind.measure(
                    pairs, 10, INSTRUCTION_REQUESTS, 2, STACK_CHILD
                )
                _done(clock)
            callers.clear()
            gc.collect()
            _pin_self(LOAD_CORE)
            if "servers" in skip:
                data.skipped["servers"] = "--skip"
            else:
                clock = _step("requests/s behind gunicorn and uvicorn")
                data.settings["servers"] = (
                    f"gunicorn (sync) and uvicorn, {servers.WORKERS} workers each"
                    + (
                        f", pinned to core {SERVER_CORE}; wrk, PostgreSQL and the harness on core {LOAD_CORE}"
                        if pinning()
                        else ", not pinned (fewer than 2 cores or no taskset)"
                    )
                    + f"; load from {servers.load_generator()} -t1 -c{CONNECTIONS} (and -c{WIDE_CONNECTIONS} for {WIDE_TEST});"
                    f" median of {plan.server_rounds} interleaved runs of {plan.server_seconds:.0f} s"
                )
                ok = [s for s in stacks if s not in data.unavailable]
                data.rates = measure_servers(url, ok, tests, plan)
                _done(clock)
        finally:
            loop.close()
    return data


def instruction_floors(stacks: list[str]) -> list[str]:
    """The sync floors whose instructions are counted: those of the chosen stacks."""
    return [
        name
        for name, floor in bare.FLOORS.items()
        if floor.kind == "floor" and any(s in floor.stacks for s in stacks)
    ]


def _server_version(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar())
    finally:
        engine.dispose()


def _step(title: str) -> float:
    print(f"== {title}", file=sys.stderr, flush=True)
    return time.monotonic()


def _done(started: float) -> None:
    print(f"   ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)


ALL_STACKS = [spec.name for spec in STACKS]
ALL_TESTS = [test.name for test in common.TEST_TYPES]
