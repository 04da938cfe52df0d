"""Measure 1: wall-clock microseconds per request, calling WSGI apps in-process.

Every round times one batch of calls of every (app, endpoint) pair, in a shuffled
order, so that a slow moment of the machine hits all pairs alike. The figure kept
is the median over rounds of the per-call time of each batch.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import typing as t
from dataclasses import dataclass
from io import BytesIO
from time import perf_counter

from harness.wsgi import Prepared


@dataclass(frozen=True)
class Timing:
    """Median microseconds per request and the spread (IQR / median) over rounds."""

    median_us: float
    spread: float
    rounds: int
    batch: int


def _start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> t.Callable[[bytes], None]:
    return _write


def _write(data: bytes) -> None:
    return None


def time_batch(prepared: Prepared, count: int) -> float:
    """Return the mean seconds per call over ``count`` fresh calls of the app."""
    app = prepared.app
    copy = prepared.environ.copy
    body = prepared.body
    start_response = _start_response
    start = perf_counter()
    for _ in range(count):
        environ = copy()
        environ["wsgi.input"] = BytesIO(body)
        iterable = app(environ, start_response)
        for _chunk in iterable:
            pass
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return (perf_counter() - start) / count


def calibrate(prepared: Prepared, batch_seconds: float) -> int:
    """Return how many calls make a batch of about ``batch_seconds``."""
    time_batch(prepared, 20)
    count = 10
    while True:
        start = perf_counter()
        time_batch(prepared, count)
        elapsed = perf_counter() - start
        if elapsed >= 0.005 or count >= 100_000:
            break
        count *= 4
    per_call = elapsed / count
    return max(3, int(batch_seconds / per_call))


def measure(
    prepared: t.Mapping[tuple[str, str], Prepared],
    endpoints: t.Sequence[str],
    rounds: int,
    batch_seconds: float,
    seed: int = 1,
) -> dict[tuple[str, str], Timing]:
    """Time every prepared (app, endpoint) pair and return its :class:`Timing`.

    Every round times one batch of every pair, all endpoints and apps shuffled
    together, so ratios between endpoints (``routes1000 ÷ routes1``) are as
    protected from a busy moment as ratios between apps.

    :param rounds: batches per pair; the median over them is reported.
    :param batch_seconds: the target duration of one batch.
    """
    shuffler = random.Random(seed)
    keys = [key for key in prepared if key[1] in endpoints]
    sizes = {key: calibrate(prepared[key], batch_seconds) for key in keys}
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    gc.collect()
    for number in range(rounds):
        shuffler.shuffle(keys)
        for key in keys:
            samples[key].append(time_batch(prepared[key], sizes[key]) * 1e6)
        if (number + 1) % 5 == 0 or number + 1 == rounds:
            print(f"  round {number + 1}/{rounds}", file=sys.stderr, flush=True)
    results: dict[tuple[str, str], Timing] = {}
    for key in keys:
        values = samples[key]
        median = statistics.median(values)
        quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else []
        spread = (quartiles[2] - quartiles[0]) / median if quartiles else 0.0
        results[key] = Timing(median, spread, rounds, sizes[key])
    for endpoint in endpoints:
        done = sorted(
            (key for key in results if key[1] == endpoint),
            key=lambda k: results[k].median_us,
        )
        line = ", ".join(f"{key[0]} {results[key].median_us:.1f}" for key in done)
        print(f"  in-process {endpoint}: {line} µs", file=sys.stderr, flush=True)
    return results
