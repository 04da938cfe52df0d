"""Turn the measurements of one run into the markdown report and the goals table."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import typing as t
from dataclasses import dataclass
from dataclasses import field
from importlib import metadata

from apps import APPS_BY_NAME
from harness.callgrind import Count
from harness.inproc import Timing
from harness.memory import Memory
from harness.servers import Rate
from harness.startup import ImportCost
from harness.wsgi import Validation

REFERENCE = "flask"
FLOOR = "werkzeug"
SUBJECT = "erlen"
SUBJECT_NOKEY = "erlen-nokey"
VERSIONED = (
    "erlen",
    "flask",
    "werkzeug",
    "jinja2",
    "itsdangerous",
    "bottle",
    "falcon",
    "gunicorn",
    "granian",
)


@dataclass
class RunData:
    """Everything one run measured; a measure that was skipped stays empty."""

    mode: str
    started: dt.datetime
    apps: list[str]
    endpoints: list[str]
    validation: Validation
    settings: dict[str, str] = field(default_factory=dict)
    timings: dict[tuple[str, str], Timing] = field(default_factory=dict)
    instructions: dict[tuple[str, str], Count] = field(default_factory=dict)
    rates: dict[tuple[str, str, str], Rate] = field(default_factory=dict)
    imports: dict[str, ImportCost] = field(default_factory=dict)
    memory: dict[str, Memory] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Goal:
    """One row of the goals table: a measured ratio or size against its bound."""

    name: str
    bound: str
    value: float | None
    limit: float
    upper: bool = True
    unit: str = ""
    #: The best value reachable at all, as a table cell (``None``: no such column).
    ceiling: str | None = None

    @property
    def status(self) -> str:
        """Return ``met``, ``not met`` or ``not measured``."""
        if self.value is None:
            return "not measured"
        ok = self.value <= self.limit if self.upper else self.value >= self.limit
        return "met" if ok else "**not met**"

    def shown(self) -> str:
        """Return the measured value as the table shows it."""
        if self.value is None:
            return "–"
        if self.unit:
            return f"{self.value:,.0f} {self.unit}"
        return f"{self.value:.3f}"


def cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo``, or the platform's guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions(dists: t.Iterable[str]) -> str:
    """Return ``name version`` of each distribution, comma-separated, for the header."""
    found = []
    for dist in dists:
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            found.append(f"{dist} not installed")
    return ", ".join(found)


def tool_version(args: list[str]) -> str:
    """Return the first line a command-line tool prints for ``args`` (its version)."""
    exe = shutil.which(args[0])
    if exe is None:
        return "not installed"
    try:
        proc = subprocess.run(
            [exe, *args[1:]], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def ratio_of(a: float | None, b: float | None) -> float | None:
    """Return ``a ÷ b``, or ``None`` when either was not measured (or ``b`` is 0)."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def format_ratio(value: float | None) -> str:
    """Return a ratio as a table cell: two decimals, ``–`` when not measured."""
    return "–" if value is None else f"{value:.2f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Return the lines of a markdown table."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(" --- " for _ in header) + "|")
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def goals_table(goals: t.Iterable[Goal]) -> list[str]:
    """Return the goals table: each goal's target, measured value and status.

    A ``ceiling`` column follows ``measured`` when any goal has a ceiling.
    """
    goals = list(goals)
    if any(g.ceiling is not None for g in goals):
        return markdown_table(
            ["goal", "target", "measured", "ceiling", "status"],
            [[g.name, g.bound, g.shown(), g.ceiling or "–", g.status] for g in goals],
        )
    return markdown_table(
        ["goal", "target", "measured", "status"],
        [[g.name, g.bound, g.shown(), g.status] for g in goals],
    )


class Skips(t.Protocol):
    """A run's measurements, which name the measures left out and why."""

    skipped: dict[str, str]


D = t.TypeVar("D", bound=Skips)


def sections(
    data: D, parts: t.Sequence[tuple[str, t.Callable[[D], list[str]], bool]]
) -> list[str]:
    """Return each ``(name, render, present)`` part rendered, or why it was skipped."""
    lines: list[str] = []
    for name, render_part, present in parts:
        lines.append("")
        if present:
            lines += render_part(data)
        elif name in data.skipped:
            lines.append(f"_{name}: skipped ({data.skipped[name]})._")
    return lines


def _time(data: RunData, app: str, endpoint: str) -> float | None:
    timing = data.timings.get((app, endpoint))
    return timing.median_us if timing is not None else None


def _instr(data: RunData, app: str, endpoint: str) -> float | None:
    count = data.instructions.get((app, endpoint))
    return count.per_request if count is not None else None


def _rps(data: RunData, server: str, app: str, endpoint: str) -> float | None:
    rate = data.rates.get((server, app, endpoint))
    return rate.rps if rate is not None else None


def goals(data: RunData) -> list[Goal]:
    """Return the goals of the issue with the values measured in this run."""

    def time_ratio(endpoint: str, other: str = REFERENCE) -> float | None:
        return ratio_of(_time(data, SUBJECT, endpoint), _time(data, other, endpoint))

    imports = data.imports
    mem = data.memory
    rows = [
        Goal("hello time ÷ Flask", "≤ 0.45", time_ratio("hello"), 0.45),
        Goal("hello time ÷ Werkzeug floor", "≤ 1.35", time_ratio("hello", FLOOR), 1.35),
        Goal(
            "hello with SECRET_KEY ÷ without",
            "≤ 1.05",
            ratio_of(
                _time(data, SUBJECT, "hello"), _time(data, SUBJECT_NOKEY, "hello")
            ),
            1.05,
        ),
        Goal("json time ÷ Flask", "≤ 0.50", time_ratio("json"), 0.50),
        Goal("params time ÷ Flask", "≤ 0.50", time_ratio("params"), 0.50),
        Goal("form time ÷ Flask", "≤ 0.65", time_ratio("form"), 0.65),
        Goal("session time ÷ Flask", "≤ 0.60", time_ratio("session"), 0.60),
        Goal("template time ÷ Flask", "≤ 0.85", time_ratio("template"), 0.85),
        Goal(
            "routes1000 ÷ routes1 (erlen)",
            "≤ 1.05",
            ratio_of(
                _time(data, SUBJECT, "routes1000"), _time(data, SUBJECT, "routes1")
            ),
            1.05,
        ),
    ]
    for endpoint in ("hello", "json"):
        rows.append(
            Goal(
                f"instructions {endpoint} ÷ Flask",
                "≤ 0.50",
                ratio_of(
                    _instr(data, SUBJECT, endpoint), _instr(data, REFERENCE, endpoint)
                ),
                0.50,
            )
        )
    for server, limit in (("gunicorn", 1.25), ("granian", 1.8)):
        rows.append(
            Goal(
                f"{server} requests/s (hello) ÷ Flask",
                f"≥ {limit:.2f}",
                ratio_of(
                    _rps(data, server, SUBJECT, "hello"),
                    _rps(data, server, REFERENCE, "hello"),
                ),
                limit,
                upper=False,
            )
        )
    subject_import = imports.get(SUBJECT)
    reference_import = imports.get(REFERENCE)
    rows.append(
        Goal(
            "import time ÷ Flask",
            "≤ 1.00",
            ratio_of(
                subject_import.ms if subject_import else None,
                reference_import.ms if reference_import else None,
            ),
            1.0,
        )
    )
    subject_mem = mem.get(SUBJECT)
    reference_mem = mem.get(REFERENCE)
    rows.append(
        Goal(
            "RSS after 10,000 requests ÷ Flask",
            "≤ 1.00",
            ratio_of(
                float(subject_mem.rss_kib)
                if subject_mem and subject_mem.rss_kib is not None
                else None,
                float(reference_mem.rss_kib)
                if reference_mem and reference_mem.rss_kib is not None
                else None,
            ),
            1.0,
        )
    )
    rows.append(
        Goal(
            "RSS growth over the next 5,000 requests",
            "≤ 64 KiB",
            float(subject_mem.growth_kib)
            if subject_mem and subject_mem.growth_kib is not None
            else None,
            64.0,
            unit="KiB",
        )
    )
    return rows


def _cell(data: RunData, app: str, endpoint: str, value: str | None) -> str:
    if (app, endpoint) in data.validation.problems:
        return "wrong"
    if app in data.validation.unavailable:
        return "unavailable"
    if value is None:
        spec = APPS_BY_NAME.get(app)
        if spec is not None and endpoint in spec.unsupported:
            return "n/a"
        return "–"
    return value


def _inproc_section(data: RunData) -> list[str]:
    apps = data.apps
    rounds = next(iter(data.timings.values())).rounds if data.timings else 0
    lines = [
        "## In-process time per request",
        "",
        f"Median µs per request over {rounds} interleaved rounds (spread = IQR ÷ median"
        " in parentheses).",
        "",
    ]
    rows = []
    for endpoint in data.endpoints:
        row = [endpoint]
        for app in apps:
            timing = data.timings.get((app, endpoint))
            shown = (
                f"{timing.median_us:.1f} ({timing.spread * 100:.0f}%)"
                if timing is not None
                else None
            )
            row.append(_cell(data, app, endpoint, shown))
        rows.append(row)
    lines += markdown_table(["endpoint", *apps], rows)
    worst = max(timing.spread for timing in data.timings.values())
    if worst > 0.15:
        lines += [
            "",
            f"Some spreads reach {worst * 100:.0f}%: the machine was busy during this"
            " run. Medians resist that, but rerun before trusting a close call.",
        ]
    for title, base in (
        ("Ratio to Flask (time ÷ Flask's time; below 1 is faster)", REFERENCE),
        ("Ratio to the Werkzeug floor (time ÷ Werkzeug's time)", FLOOR),
    ):
        others = [app for app in apps if app != base]
        rows = []
        for endpoint in data.endpoints:
            row = [endpoint]
            for app in others:
                value = ratio_of(
                    _time(data, app, endpoint), _time(data, base, endpoint)
                )
                row.append(
                    _cell(
                        data, app, endpoint, None if value is None else f"{value:.2f}"
                    )
                )
            rows.append(row)
        lines += ["", f"### {title}", ""]
        lines += markdown_table(["endpoint", *others], rows)
    return lines


def _methods(data: RunData) -> str:
    methods = sorted({c.method for c in data.instructions.values() if c.method})
    return " and ".join(methods) if methods else "–"


def shorten(text: str | None, limit: int = 240) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _instructions_section(data: RunData) -> list[str]:
    apps = [app for app in data.apps if any(k[0] == app for k in data.instructions)]
    endpoints = [e for e in data.endpoints if any(k[1] == e for k in data.instructions)]
    lines = [
        "## Instructions per request (callgrind)",
        "",
        f"Counted over {data.settings.get('instructions', '?')}, method"
        f" {_methods(data)} (see README); repeats within about 1%.",
        "",
    ]
    rows = []
    for endpoint in endpoints:
        row = [endpoint]
        for app in apps:
            value = _instr(data, app, endpoint)
            row.append(
                _cell(data, app, endpoint, None if value is None else f"{value:,.0f}")
            )
        row.append(
            format_ratio(
                ratio_of(
                    _instr(data, SUBJECT, endpoint), _instr(data, REFERENCE, endpoint)
                )
            )
        )
        rows.append(row)
    lines += markdown_table(["endpoint", *apps, "erlen ÷ flask"], rows)
    errors = [
        f"- {app} {endpoint}: {shorten(count.error)}"
        for (app, endpoint), count in data.instructions.items()
        if count.error
    ]
    if errors:
        lines += ["", "Errors:", "", *errors]
    return lines


def _servers_section(data: RunData) -> list[str]:
    servers = sorted({k[0] for k in data.rates})
    apps = [app for app in data.apps if any(k[1] == app for k in data.rates)]
    endpoints = [e for e in data.endpoints if any(k[2] == e for k in data.rates)]
    lines = [
        "## Requests per second behind real servers",
        "",
        f"{data.settings.get('servers', '')}",
        "",
    ]
    rows = []
    for server in servers:
        for endpoint in endpoints:
            row = [server, endpoint]
            for app in apps:
                rate = data.rates.get((server, app, endpoint))
                value = rate.rps if rate is not None else None
                shown = None if value is None else f"{value:,.0f}"
                if rate is not None and rate.error:
                    shown = "error"
                row.append(_cell(data, app, endpoint, shown))
            row.append(
                format_ratio(
                    ratio_of(
                        _rps(data, server, SUBJECT, endpoint),
                        _rps(data, server, REFERENCE, endpoint),
                    )
                )
            )
            rows.append(row)
    lines += markdown_table(["server", "endpoint", *apps, "erlen ÷ flask"], rows)
    errors = sorted(
        {
            f"- {k[0]} {k[1]}: {shorten(rate.error)}"
            for k, rate in data.rates.items()
            if rate.error
        }
    )
    if errors:
        lines += ["", "Errors:", "", *errors]
    return lines


def _imports_section(data: RunData) -> list[str]:
    reference = data.imports.get(REFERENCE)
    rows = []
    for name, cost in data.imports.items():
        if cost.ms is None:
            rows.append([name, "error", "–", "–"])
            continue
        rows.append(
            [
                name,
                f"{cost.ms:.1f}",
                format_ratio(ratio_of(cost.ms, reference.ms if reference else None)),
                str(cost.modules),
            ]
        )
    lines = [
        "## Import",
        "",
        "Cumulative `-X importtime` of the top-level module (median of"
        f" {data.settings.get('imports', '?')} fresh processes) and the modules"
        " the import adds to `sys.modules`.",
        "",
    ]
    lines += markdown_table(["module", "import ms", "÷ flask", "modules loaded"], rows)
    errors = [f"- {n}: {shorten(c.error)}" for n, c in data.imports.items() if c.error]
    if errors:
        lines += ["", "Errors:", "", *errors]
    return lines


def _memory_section(data: RunData) -> list[str]:
    reference = data.memory.get(REFERENCE)
    rows = []
    for app, mem in data.memory.items():
        if mem.rss_kib is None or mem.growth_kib is None:
            rows.append([app, "error", "–", "–"])
            continue
        rows.append(
            [
                app,
                f"{mem.rss_kib / 1024:.1f}",
                format_ratio(
                    ratio_of(
                        float(mem.rss_kib),
                        float(reference.rss_kib)
                        if reference and reference.rss_kib
                        else None,
                    )
                ),
                f"{mem.growth_kib:+d}",
            ]
        )
    lines = [
        "## Memory",
        "",
        "Resident set size of a fresh process after 10,000 in-process requests"
        " (cycling through the endpoints), and its growth over the next 5,000.",
        "",
    ]
    lines += markdown_table(["app", "RSS MiB", "÷ flask", "growth KiB"], rows)
    errors = [f"- {a}: {shorten(m.error)}" for a, m in data.memory.items() if m.error]
    if errors:
        lines += ["", "Errors:", "", *errors]
    return lines


def render(data: RunData) -> str:
    """Return the whole markdown report of one run."""
    stamp = data.started.strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"# erlen benchmark ({data.mode} run, {stamp})",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores,"
        f" {platform.system()} {platform.release()}; load average"
        f" {data.settings.get('load', f'{load:.2f}')} at start",
        f"- Python {platform.python_version()} ({platform.python_implementation()});"
        f" {versions(VERSIONED)}",
        f"- valgrind: {tool_version(['valgrind', '--version'])};"
        f" wrk: {tool_version(['wrk', '--version'])}",
        "- Every figure is a ratio measured in this run against peers on this machine;"
        " absolute numbers only compare within one report.",
        "",
        "## Goals (erlen with SECRET_KEY unless stated)",
        "",
    ]
    lines += goals_table(goals(data))
    lines += ["", "## Validation", ""]
    checked = len(data.validation.prepared) + len(data.validation.problems)
    if not data.validation.problems:
        lines.append(f"All {checked} app/endpoint pairs answered correctly.")
    else:
        lines.append(
            f"{len(data.validation.problems)} of {checked} app/endpoint pairs answered"
            " wrongly and were not measured:"
        )
        lines.append("")
        lines += [
            f"- {app} {endpoint}: {shorten(problem)}"
            for (app, endpoint), problem in sorted(data.validation.problems.items())
        ]
    for app, reason in sorted(data.validation.unavailable.items()):
        lines.append(f"- {app} is unavailable: {shorten(reason)}")
    lines += sections(
        data,
        [
            ("inproc", _inproc_section, bool(data.timings)),
            ("instructions", _instructions_section, bool(data.instructions)),
            ("servers", _servers_section, bool(data.rates)),
            ("import", _imports_section, bool(data.imports)),
            ("memory", _memory_section, bool(data.memory)),
        ],
    )
    return "\n".join(lines) + "\n"
