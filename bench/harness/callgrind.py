"""Measure 2: instructions per request, counted by ``valgrind --tool=callgrind``.

Method: a child process loads one app, checks the endpoint's answer, makes 50
warm-up requests, then makes N measured requests from inside a ctypes callback.
Calling a ctypes callback from Python goes through libffi's ``ffi_call``, so
callgrind runs with ``--collect-atstart=no --toggle-collect=ffi_call`` and counts
exactly the measured loop (plus a constant of about 2,000 instructions for the
callback itself), whatever the start-up did. Instructions per request is the
count divided by N.

Fallback (two-point difference): if the marker counted nothing (a libffi without
the ``ffi_call`` symbol), the child runs twice with everything counted, making
``low`` and ``high`` requests, and the start-up cancels out in
``(total(high) - total(low)) / (high - low)``.

A native run first checks the response and warms the bytecode caches.
The child gets a fixed, minimal environment (``PYTHONHASHSEED=0``): runs side
by side, from any shell, give identical counts.

Layouts: the same code in another memory layout (a longer checkout path, say)
counts up to 4 % more or less, enough to flip a gate with a narrow margin. With
``layouts=N`` each pair is counted in N layouts (:mod:`harness.layout`) and
the median is reported, so a count no longer depends on where the repository
happens to be checked out.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
WARMUP = 50
TIMEOUT = 900.0
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


@dataclass(frozen=True)
class Count:
    """Instructions per request, or the reason it could not be measured.

    :param method: ``marker`` or ``difference`` (see the module docstring).
    """

    per_request: float | None
    error: str | None = None
    method: str = ""
    #: Lowest and highest count over the layouts (the median is ``per_request``).
    spread: tuple[float, float] | None = None


def available() -> str | None:
    """Return the path of ``valgrind``, or ``None`` when it is not installed."""
    return shutil.which("valgrind")


#: The child's whole environment. Its size moves the stack and heap, and so
#: the counts (by up to 4 %): the caller's variables must not reach the child.
_CHILD_ENV = {"PYTHONHASHSEED": "0", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


def _env(layout: int = 0) -> dict[str, str]:
    return {**_CHILD_ENV, "ERLEN_BENCH_LAYOUT": str(layout)}


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def _child_args(
    app: str, endpoint: str, count: int, marked: bool, child: str = CHILD
) -> list[str]:
    args = [sys.executable, child, "requests", app, endpoint, str(WARMUP), str(count)]
    return [*args, "--marked"] if marked else args


def _native_check(app: str, endpoint: str, child: str = CHILD) -> str | None:
    proc = subprocess.run(
        _child_args(app, endpoint, 0, True, child),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=TIMEOUT,
    )
    if proc.returncode != 0:
        return f"child failed natively: {_tail(proc.stderr)}"
    return None


def _collected(
    valgrind: str,
    app: str,
    endpoint: str,
    count: int,
    marked: bool,
    child: str = CHILD,
    layout: int = 0,
) -> int:
    options = ["--collect-atstart=no", "--toggle-collect=ffi_call"] if marked else []
    args = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        *options,
        *_child_args(app, endpoint, count, marked, child),
    ]
    proc = subprocess.run(
        args, capture_output=True, text=True, env=_env(layout), timeout=TIMEOUT
    )
    match = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(
            f"callgrind run failed (exit {proc.returncode}): {_tail(proc.stderr)}"
        )
    return int(match.group(1))


def measure_one(
    app: str,
    endpoint: str,
    low: int,
    high: int,
    pool: ThreadPoolExecutor | None = None,
    child: str = CHILD,
    layouts: int = 1,
) -> Count:
    """Return the instructions per request of one app and endpoint.

    :param high: requests counted by the marker method.
    :param low: the shorter run of the difference method, used only as fallback.
    :param pool: when given, the runs after the first go to it and run in parallel.
    :param child: the child script; any script taking ``child.py``'s
        ``requests APP ENDPOINT WARMUP COUNT [--marked]`` arguments.
    :param layouts: memory layouts to count the marker method in; the median
        is returned (the fallback counts the first layout only).
    """
    valgrind = available()
    if valgrind is None:
        return Count(None, "valgrind is not installed (apt-get install valgrind)")

    def collect(requests: int, marked: bool, layout: int = 0) -> int:
        return _collected(valgrind, app, endpoint, requests, marked, child, layout)

    def run_all(runs: list[tuple[int, bool, int]]) -> list[int]:
        """Collected instructions of each ``(requests, marked, layout)`` run."""
        if pool is None:
            return [collect(*run) for run in runs]
        futures = [pool.submit(collect, *run) for run in runs]
        return [future.result() for future in futures]

    try:
        problem = _native_check(app, endpoint, child)
        if problem is not None:
            return Count(None, problem)
        marked = collect(high, True)
        if marked >= high * 1000:
            counts = [marked, *run_all([(high, True, n) for n in range(1, layouts)])]
            return Count(
                statistics.median(counts) / high,
                method="marker",
                spread=(min(counts) / high, max(counts) / high),
            )
        totals = run_all([(low, False, 0), (high, False, 0)])
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        return Count(None, str(e))
    return Count((totals[1] - totals[0]) / (high - low), method="difference")


def measure(
    pairs: t.Sequence[tuple[str, str]],
    low: int,
    high: int,
    jobs: int = 2,
    child: str = CHILD,
    layouts: int = 1,
) -> dict[tuple[str, str], Count]:
    """Measure every ``(app, endpoint)`` pair, ``jobs`` valgrind runs at a time.

    :param layouts: see :func:`measure_one`.
    """
    results: dict[tuple[str, str], Count] = {}
    with (
        ThreadPoolExecutor(max_workers=jobs) as runs,
        ThreadPoolExecutor(max_workers=jobs) as pairs_pool,
    ):
        futures = {
            pair: pairs_pool.submit(
                measure_one, pair[0], pair[1], low, high, runs, child, layouts
            )
            for pair in pairs
        }
        for pair, future in futures.items():
            results[pair] = count = future.result()
            if count.per_request is None:
                shown = f"- ({count.error})"
            elif count.spread is not None and layouts > 1:
                low_count, high_count = count.spread
                shown = (
                    f"{count.per_request:,.0f} (median of {layouts} layouts,"
                    f" {low_count:,.0f}-{high_count:,.0f})"
                )
            else:
                shown = f"{count.per_request:,.0f} ({count.method})"
            print(
                f"  instructions {pair[0]} {pair[1]}: {shown}",
                file=sys.stderr,
                flush=True,
            )
    return results
