"""Fixtures that serve the examples under a real gunicorn server."""

from __future__ import annotations

import collections.abc as cabc
import sys
from pathlib import Path

import pytest

# The server helpers are shared with the integration tests.
sys.path.insert(0, str(Path(__file__).parents[1] / "tests-integration"))

from liveserver import server_starter  # noqa: E402
from liveserver import StartServer  # noqa: E402


@pytest.fixture
def serve_example(tmp_path: Path) -> cabc.Iterator[StartServer]:
    """Serve an example: ``serve_example("app:app", cwd=EXAMPLES / "hello")``.

    Returns a :class:`liveserver.LiveServer` that already answers HTTP; every
    server started stops when the test ends.
    """
    with server_starter(tmp_path, default_cwd=Path(__file__).parent) as start:
        yield start
