"""Shift a callgrind child's memory layout, so a count can be taken over several layouts.

The instructions a request costs depend by a few per cent on where its objects
land in memory (dict probes on identity hashes, allocator pools): a longer
checkout path alone moves a count by up to 4 %. A child imports this module
before anything else; with ``ERLEN_BENCH_LAYOUT=N`` (N > 0) set, it keeps N
blocks of small objects of assorted sizes alive, which moves every later
allocation. :mod:`harness.callgrind` runs a child under several such layouts
and reports the median.
"""

from __future__ import annotations

import os

#: What keeps the padding alive for the child's lifetime.
HELD: list[object] = []


def shift() -> None:
    """Allocate the padding ``ERLEN_BENCH_LAYOUT`` asks for (none when unset or 0)."""
    blocks = int(os.environ.get("ERLEN_BENCH_LAYOUT", "0") or 0)
    HELD.extend("x" * (i % 97) + str(i) for i in range(blocks * 61))
    HELD.extend({i: i} for i in range(blocks * 13))
