"""The markdown report of the real-application bench (``run.py --realapps``)."""

from __future__ import annotations

import os
import platform
import typing as t

from harness.realapps import CONNECTIONS
from harness.realapps import GROUP_ORDER
from harness.realapps import Measured
from harness.realapps import WIDE_CONNECTIONS
from harness.realapps import WIDE_TEST
from harness.report import cpu_model
from harness.report import format_ratio
from harness.report import Goal
from harness.report import goals_table
from harness.report import markdown_table
from harness.report import ratio_of
from harness.report import sections
from harness.report import shorten
from harness.report import tool_version
from harness.report import versions
from realapps import bare
from realapps import common
from realapps import STACKS_BY_NAME

VERSIONED = (
    "erlen",
    "erlen-sql",
    "flask",
    "flask-sqlalchemy",
    "sqlalchemy",
    "psycopg",
    "asyncpg",
    "fastapi",
    "starlette",
    "gunicorn",
    "uvicorn",
)
SUBJECT = "erlen-orm"
SUBJECT_CORE = "erlen-core"
SUBJECT_ASGI = "erlen-asgi"
REFERENCE = "flask-fsa"
REFERENCE_ASGI = "fastapi-sa"


def _rps(
    data: Measured, stack: str, test: str, conns: int = CONNECTIONS
) -> float | None:
    rate = data.rates.get((stack, test, conns))
    return rate.rps if rate is not None else None


def _count(data: Measured, name: str, test: str) -> float | None:
    count = data.instructions.get((name, test))
    return count.per_request if count is not None else None


def ceiling(data: Measured, subject: str, peer: str, test: str) -> str:
    """The ratio ``subject ÷ peer`` if the framework cost nothing: peer ÷ subject's floor.

    From in-process CPU time, and from instructions on SQLite where counted.
    """
    floor = bare.floor_of(subject)
    if floor is None:
        return "–"
    cpu = ratio_of(
        _median(data.cpu_timings, peer, test), _median(data.cpu_timings, floor, test)
    )
    instructions = ratio_of(_count(data, peer, test), _count(data, floor, test))
    parts = [] if cpu is None else [f"{cpu:.2f} CPU"]
    if instructions is not None:
        parts.append(f"{instructions:.2f} instructions")
    return ", ".join(parts) or "–"


CEILING_NOTE = (
    "ceiling: the ratio a framework and extension adding no cost at all would"
    " reach, the peer's cost per request ÷ that of the subject's floor, the same"
    " work with no framework (`realapps/bare.py`: `sqlalchemy-orm` for"
    f" `{SUBJECT}`, `sqlalchemy-core` for `{SUBJECT_CORE}`,"
    f" `sqlalchemy-async-orm` for `{SUBJECT_ASGI}`); from in-process CPU time"
    " and, where counted (full runs, WSGI), from instructions per request on"
    " SQLite. A target above its ceiling cannot be met by making erlen cheaper:"
    " the rest of the request is SQLAlchemy, the driver, JSON and Jinja2. At"
    f" {WIDE_CONNECTIONS} connections the sync peer's workers also wait for"
    " PostgreSQL while the async server overlaps those waits, so that goal's"
    " measured ratio can pass its CPU ceiling."
)


def goals(data: Measured) -> list[Goal]:
    """The goals of issue 18 with the values measured in this run and their ceilings."""
    rows = []
    for subject in (SUBJECT, SUBJECT_CORE):
        for test in ("fortunes", "db", "queries20"):
            rows.append(
                Goal(
                    f"gunicorn requests/s {test}: {subject} ÷ {REFERENCE}",
                    "≥ 1.25",
                    ratio_of(_rps(data, subject, test), _rps(data, REFERENCE, test)),
                    1.25,
                    upper=False,
                    ceiling=ceiling(data, subject, REFERENCE, test),
                )
            )
    for test in ("fortunes", "db", "queries20"):
        rows.append(
            Goal(
                f"uvicorn requests/s {test}: {SUBJECT_ASGI} ÷ {REFERENCE_ASGI}",
                "≥ 1.20",
                ratio_of(
                    _rps(data, SUBJECT_ASGI, test), _rps(data, REFERENCE_ASGI, test)
                ),
                1.20,
                upper=False,
                ceiling=ceiling(data, SUBJECT_ASGI, REFERENCE_ASGI, test),
            )
        )
    rows.append(
        Goal(
            f"{WIDE_TEST} with {WIDE_CONNECTIONS} connections: {SUBJECT_ASGI} ÷ {REFERENCE}",
            "≥ 3.00",
            ratio_of(
                _rps(data, SUBJECT_ASGI, WIDE_TEST, WIDE_CONNECTIONS),
                _rps(data, REFERENCE, WIDE_TEST, WIDE_CONNECTIONS),
            ),
            3.0,
            upper=False,
            ceiling=ceiling(data, SUBJECT_ASGI, REFERENCE, WIDE_TEST),
        )
    )
    return rows


def _timing_tables(
    data: Measured,
    timings: dict[tuple[str, str], t.Any],
    names: list[str],
    what: str,
) -> list[str]:
    rows = []
    for name in names:
        row = [f"`{name}`"]
        for test in data.tests:
            timing = timings.get((name, test))
            row.append(
                "–"
                if timing is None
                else f"{timing.median_us:,.0f} ±{timing.spread:.0%}"
            )
        rows.append(row)
    lines = markdown_table(["stack", *data.tests], rows)
    lines += ["", f"{what} ÷ `{REFERENCE}` (below 1 is faster):", ""]
    rows = []
    for name in names:
        row = [f"`{name}`"]
        row += [
            format_ratio(
                ratio_of(_median(timings, name, x), _median(timings, REFERENCE, x))
            )
            for x in data.tests
        ]
        rows.append(row)
    return lines + markdown_table(["stack", *data.tests], rows)


def _median(
    timings: dict[tuple[str, str], t.Any], name: str, test: str
) -> float | None:
    timing = timings.get((name, test))
    return timing.median_us if timing is not None else None


def _inproc_section(data: Measured) -> list[str]:
    names = [s for s in data.stacks if any((s, x) in data.timings for x in data.tests)]
    floors = [f for f in bare.FLOORS if any((f, x) in data.timings for x in data.tests)]
    lines = [
        "## In-process time per request (µs, median over rounds)",
        "",
        "Each stack's WSGI or ASGI callable is called in this process (ASGI on one"
        " event loop), against the same PostgreSQL. The `sqlalchemy-*` rows are"
        " the floors: the same queries, JSON and template with no framework and"
        " no extension (`realapps/bare.py`; `sqlalchemy-async-orm`, the floor of"
        " the async ORM stacks, on the same event loop). ± is the spread"
        " (IQR ÷ median) over rounds.",
        "",
        "### CPU time of the process",
        "",
        "Leaves out waiting for PostgreSQL and for other processes on the core, so"
        " it is the steadier measure of what the Python side costs on a shared"
        " machine.",
        "",
    ]
    lines += _timing_tables(data, data.cpu_timings, [*names, *floors], "CPU time")
    lines += [
        "",
        "What the framework and the extension add over their floor (CPU µs, stack"
        " minus floor, and its share of the stack's CPU time; the rest is"
        " SQLAlchemy, the driver, JSON and Jinja2):",
        "",
    ]
    rows = []
    db_tests = [x for x in data.tests if common.TEST_TYPES_BY_NAME[x].database]
    for floor, spec in bare.FLOORS.items():
        for name in spec.stacks:
            if name not in names:
                continue
            row = [f"`{name}` over `{floor}`"]
            for test in db_tests:
                a = _median(data.cpu_timings, name, test)
                b = _median(data.cpu_timings, floor, test)
                row.append(
                    "–"
                    if a is None or b is None
                    else f"{a - b:+,.0f} ({(a - b) / a:+.0%})"
                )
            rows.append(row)
    lines += markdown_table(["stack", *db_tests], rows)
    lines += ["", "### Wall-clock time", ""]
    lines += _timing_tables(data, data.timings, [*names, *floors], "Time")
    return lines


def _profile_section(data: Measured) -> list[str]:
    lines = [
        "## Where the time goes (profile)",
        "",
        "Share of the harness process's CPU time by package, under `cProfile`"
        " with a CPU-time clock (it inflates Python-heavy code: read the split, not"
        " the totals). Waiting for PostgreSQL is not CPU time and is left out;"
        " `cpu µs` and `wall µs` are per request under the profiler. `driver` is"
        " psycopg or asyncpg, `other` the standard library (json, socket calls) and"
        " the views themselves.",
        "",
    ]
    for test in ("queries20", "fortunes"):
        stacks = [s for s in data.stacks if (s, test) in data.shares]
        if not stacks:
            continue
        groups = [
            g
            for g in GROUP_ORDER
            if any(data.shares[s, test].get(g, 0) >= 0.005 for s in stacks)
        ]
        rows = [
            [
                f"`{s}`",
                f"{data.shares[s, test]['cpu µs']:,.0f}",
                f"{data.shares[s, test]['wall µs']:,.0f}",
                *(f"{data.shares[s, test].get(g, 0):.0%}" for g in groups),
            ]
            for s in stacks
        ]
        lines += [f"`{test}`:", ""]
        lines += markdown_table(["stack", "cpu µs", "wall µs", *groups], rows)
        lines.append("")
    return lines


def _instructions_section(data: Measured) -> list[str]:
    lines = [
        "## Instructions per request on SQLite (callgrind)",
        "",
        "The WSGI stacks with SQLite in the process instead of PostgreSQL"
        " (`harness/stackchild.py`): framework, extension, SQLAlchemy and database"
        " counted alike, independent of the machine's load. The `sqlalchemy-*`"
        " rows are the sync floors (no framework), each in a minimal WSGI"
        " callable.",
        "",
    ]
    tests = sorted({k[1] for k in data.instructions}, key=data.tests.index)
    names = [
        s
        for s in [*data.stacks, *bare.FLOORS]
        if any((s, x) in data.instructions for x in tests)
    ]
    rows = []
    for name in names:
        row = [f"`{name}`"]
        for test in tests:
            count = data.instructions.get((name, test))
            reference = data.instructions.get((REFERENCE, test))
            if count is None or count.per_request is None:
                row.append("–")
                continue
            ratio = ratio_of(
                count.per_request, reference.per_request if reference else None
            )
            row.append(f"{count.per_request:,.0f} ({format_ratio(ratio)})")
        rows.append(row)
    lines += markdown_table(["stack (÷ flask-fsa)", *tests], rows)
    errors = [(k, c.error) for k, c in sorted(data.instructions.items()) if c.error]
    if errors:
        lines.append("")
        lines += [f"- {k[0]} {k[1]}: {shorten(e)}" for k, e in errors]
    return lines


def _servers_section(data: Measured) -> list[str]:
    lines = [
        "## Requests per second",
        "",
        data.settings.get("servers", ""),
        "",
    ]
    loads = [(x, CONNECTIONS) for x in data.tests]
    if any(key[2] == WIDE_CONNECTIONS for key in data.rates):
        loads.append((WIDE_TEST, WIDE_CONNECTIONS))
    header = [f"{x}" if c == CONNECTIONS else f"{x} c{c}" for x, c in loads]
    rows = []
    for name in data.stacks:
        row = [
            f"`{name}` ({'gunicorn' if STACKS_BY_NAME[name].kind == 'wsgi' else 'uvicorn'})"
        ]
        for test, conns in loads:
            rate = data.rates.get((name, test, conns))
            if rate is None:
                row.append("–")
            elif rate.rps is None:
                row.append("error")
            else:
                row.append(f"{rate.rps:,.0f}")
        rows.append(row)
    lines += markdown_table(["stack", *header], rows)
    for reference in (REFERENCE, REFERENCE_ASGI):
        lines += ["", f"÷ `{reference}` (above 1 is faster):", ""]
        rows = []
        for name in data.stacks:
            row = [f"`{name}`"]
            row += [
                format_ratio(
                    ratio_of(_rps(data, name, x, c), _rps(data, reference, x, c))
                )
                for x, c in loads
            ]
            rows.append(row)
        lines += markdown_table(["stack", *header], rows)
    errors = sorted((k, r.error) for k, r in data.rates.items() if r.error)
    if errors:
        lines += ["", "Errors:", ""]
        lines += [f"- {k[0]} {k[1]} c{k[2]}: {shorten(e or '')}" for k, e in errors]
    return lines


def render(data: Measured) -> str:
    """The whole markdown report of one run."""
    stamp = data.started.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# erlen real-application benchmark ({data.mode} run, {stamp})",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()}"
        f" {platform.release()}; load average {data.settings.get('load', '?')} at"
        " start (the cores are shared: ratios in one run are what counts)",
        f"- Python {platform.python_version()}; {versions(VERSIONED)}",
        f"- PostgreSQL {data.settings.get('postgresql', '?')} (throwaway cluster,"
        f" fsync off); wrk: {tool_version(['wrk', '--version'])}",
        "- Test types: TechEmpower's JSON, single query (`db`), multiple queries"
        " with 1 and 20 rows, fortunes, updates with 20 rows, plaintext.",
        "",
        "## Goals (issue 18)",
        "",
    ]
    lines += goals_table(goals(data))
    lines += ["", CEILING_NOTE]
    lines += ["", "## Validation", ""]
    if not data.problems and not data.unavailable:
        lines.append("Every stack answered every test type correctly in-process.")
    for (name, test), problem in sorted(data.problems.items()):
        lines.append(f"- {name} {test}: {shorten(problem)}")
    for name, reason in sorted(data.unavailable.items()):
        lines.append(f"- {name} is unavailable: {shorten(reason)}")
    lines += sections(
        data,
        [
            ("inproc", _inproc_section, bool(data.timings)),
            ("profile", _profile_section, bool(data.shares)),
            ("instructions", _instructions_section, bool(data.instructions)),
            ("servers", _servers_section, bool(data.rates)),
        ],
    )
    return "\n".join(lines) + "\n"
