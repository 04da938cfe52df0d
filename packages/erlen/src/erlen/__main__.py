"""``python -m erlen``: run the ``erlen`` command line."""

from __future__ import annotations

from .cli import main

main()
