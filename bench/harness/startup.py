"""Measure 4: import time and modules loaded, in fresh interpreters.

Import time is the cumulative figure ``python -X importtime -c "import NAME"``
reports for the top-level module ``NAME`` (it includes everything that import
pulls in, and excludes the interpreter's own start-up). Runs of the modules
alternate; the median is kept. Modules loaded counts the entries ``import NAME``
adds to ``sys.modules``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from dataclasses import dataclass

_COUNT_MODULES = (
    "import sys; before = set(sys.modules); import {name}; "
    "print(len(set(sys.modules) - before))"
)


@dataclass(frozen=True)
class ImportCost:
    """Median import time in ms and modules loaded, or why it was not measured."""

    ms: float | None
    modules: int | None
    error: str | None = None


def import_time_us(name: str) -> int:
    """Return the cumulative microseconds ``import name`` took in a fresh process.

    :raises RuntimeError: the import failed or ``-X importtime`` printed no line
        for the module.
    """
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {name}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"import {name} failed: {tail[0]}")
    for line in reversed(proc.stderr.splitlines()):
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) == 3 and parts[2].rstrip() == f" {name}":
            return int(parts[1])
    raise RuntimeError(f"-X importtime printed no top-level line for {name}")


def modules_loaded(name: str) -> int:
    """Return how many modules ``import name`` adds to ``sys.modules``."""
    proc = subprocess.run(
        [sys.executable, "-c", _COUNT_MODULES.format(name=name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"import {name} failed: {proc.stderr.strip()[-200:]}")
    return int(proc.stdout.strip())


def measure(names: list[str], repeat: int) -> dict[str, ImportCost]:
    """Return the :class:`ImportCost` of every module in ``names``."""
    samples: dict[str, list[int]] = {name: [] for name in names}
    errors: dict[str, str] = {}
    for name in names:
        try:
            import_time_us(name)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            errors[name] = str(e)
    for _ in range(repeat):
        for name in names:
            if name not in errors:
                samples[name].append(import_time_us(name))
    results: dict[str, ImportCost] = {}
    for name in names:
        if name in errors:
            results[name] = ImportCost(None, None, errors[name])
            continue
        ms = statistics.median(samples[name]) / 1000
        results[name] = ImportCost(ms, modules_loaded(name))
        print(
            f"  import {name}: {ms:.1f} ms, {results[name].modules} modules",
            file=sys.stderr,
            flush=True,
        )
    return results
