"""Measure 5: resident memory after 10,000 requests and its growth over 5,000 more.

Each app runs in a child process of its own (``child.py memory``) that cycles
through the app's endpoints in-process, reads ``VmRSS`` from ``/proc``, makes the
further requests and reads it again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from harness.callgrind import CHILD

FIRST = 10_000
SECOND = 5_000


@dataclass(frozen=True)
class Memory:
    """RSS in KiB after the first requests and its growth, or an error."""

    rss_kib: int | None
    growth_kib: int | None
    error: str | None = None


def measure_one(app: str, first: int = FIRST, second: int = SECOND) -> Memory:
    """Return the :class:`Memory` figures of ``app`` from a fresh child process."""
    try:
        proc = subprocess.run(
            [sys.executable, CHILD, "memory", app, str(first), str(second)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        return Memory(None, None, "timed out after 600 s")
    if proc.returncode != 0:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        return Memory(None, None, f"child failed: {tail}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return Memory(int(data["rss_kib"]), int(data["growth_kib"]))


def measure(apps: list[str]) -> dict[str, Memory]:
    """Return the :class:`Memory` of every app, one child process each."""
    results: dict[str, Memory] = {}
    for app in apps:
        results[app] = result = measure_one(app)
        shown = (
            f"{result.rss_kib / 1024:.1f} MiB, +{result.growth_kib} KiB"
            if result.rss_kib is not None
            else result.error
        )
        print(f"  memory {app}: {shown}", file=sys.stderr, flush=True)
    return results
