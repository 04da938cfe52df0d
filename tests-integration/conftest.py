"""Fixtures that serve apps under real servers for the integration tests."""

from __future__ import annotations

import collections.abc as cabc
from pathlib import Path

import pytest
from liveserver import server_starter
from liveserver import StartServer


@pytest.fixture
def gunicorn_server(tmp_path: Path) -> cabc.Iterator[StartServer]:
    """Start WSGI apps under gunicorn: ``gunicorn_server("apps.basic:app")``.

    Call it with gunicorn's app spec, and optionally ``cwd=`` (default: this
    folder, so ``apps.*`` modules import) and ``env=`` (extra environment
    variables). It returns a :class:`liveserver.LiveServer` that already answers
    HTTP; every server started stops when the test ends. Skips when gunicorn is
    not installed, and fails instead under ``CI=true``.
    """
    with server_starter(tmp_path, default_cwd=Path(__file__).parent) as start:
        yield start
