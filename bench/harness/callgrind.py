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
"""

from __future__ import annotations

import os
import re
import shutil
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


def available() -> str | None:
    """Return the path of ``valgrind``, or ``None`` when it is not installed."""
    return shutil.which("valgrind")


#: The child's whole environment. Its size moves the stack and heap, and so
#: the counts (by up to 4 %): the caller's variables must not reach the child.
_CHILD_ENV = {"PYTHONHASHSEED": "0", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"}


def _env() -> dict[str, str]:
    return dict(_CHILD_ENV)


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
        args, capture_output=True, text=True, env=_env(), timeout=TIMEOUT
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
) -> Count:
    """Return the instructions per request of one app and endpoint.

    :param high: requests counted by the marker method.
    :param low: the shorter run of the difference method, used only as fallback.
    :param pool: when given, the two fallback runs go to it and run in parallel.
    :param child: the child script; any script taking ``child.py``'s
        ``requests APP ENDPOINT WARMUP COUNT [--marked]`` arguments.
    """
    valgrind = available()
    if valgrind is None:
        return Count(None, "valgrind is not installed (apt-get install valgrind)")
    try:
        problem = _native_check(app, endpoint, child)
        if problem is not None:
            return Count(None, problem)
        marked = _collected(valgrind, app, endpoint, high, True, child)
        if marked >= high * 1000:
            return Count(marked / high, method="marker")
        if pool is None:
            totals = [
                _collected(valgrind, app, endpoint, n, False, child)
                for n in (low, high)
            ]
        else:
            futures = [
                pool.submit(_collected, valgrind, app, endpoint, n, False, child)
                for n in (low, high)
            ]
            totals = [future.result() for future in futures]
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        return Count(None, str(e))
    return Count((totals[1] - totals[0]) / (high - low), method="difference")


def measure(
    pairs: t.Sequence[tuple[str, str]],
    low: int,
    high: int,
    jobs: int = 2,
    child: str = CHILD,
) -> dict[tuple[str, str], Count]:
    """Measure every ``(app, endpoint)`` pair, ``jobs`` valgrind runs at a time."""
    results: dict[tuple[str, str], Count] = {}
    with (
        ThreadPoolExecutor(max_workers=jobs) as runs,
        ThreadPoolExecutor(max_workers=jobs) as pairs_pool,
    ):
        futures = {
            pair: pairs_pool.submit(
                measure_one, pair[0], pair[1], low, high, runs, child
            )
            for pair in pairs
        }
        for pair, future in futures.items():
            results[pair] = count = future.result()
            shown = (
                f"{count.per_request:,.0f} ({count.method})"
                if count.per_request is not None
                else f"- ({count.error})"
            )
            print(
                f"  instructions {pair[0]} {pair[1]}: {shown}",
                file=sys.stderr,
                flush=True,
            )
    return results
