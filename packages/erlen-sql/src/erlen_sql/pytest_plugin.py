"""A pytest plugin: database isolation and a throwaway PostgreSQL server.

Enable it in the top-level ``conftest.py``:

.. code-block:: python

    pytest_plugins = ["erlen_sql.pytest_plugin"]

It provides these fixtures:

``isolated_db``
    Needs ``app`` and ``db`` fixtures that you define. Each test that asks for it
    runs inside :func:`erlen_sql.testing.isolate` with an app context pushed, and
    gets ``db``.

``postgresql_url`` (session)
    Starts a PostgreSQL server with :func:`erlen_sql.testing.postgresql_server`
    once per test run and gives the URL of its ``postgres`` database. When the
    server programs are missing or the server does not start, the tests that use
    it are skipped, or fail when the environment variable ``CI`` is ``true`` so
    that a CI run cannot pass by skipping them. Define your own ``postgresql_url``
    fixture to use an existing server instead.

``postgresql_database_url``
    An empty database on that server for one test, dropped afterwards
    (:func:`erlen_sql.testing.postgresql_database`); gives its URL.

To use only some fixtures, import them into ``conftest.py`` instead, e.g.
``from erlen_sql.pytest_plugin import postgresql_url as postgresql_url``.
The module has no asserts to rewrite (PYTEST_DONT_REWRITE), so importing it
before pytest loads it as a plugin does not warn.
"""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import os
import typing as t

import pytest

from .testing import isolate
from .testing import postgresql_database
from .testing import postgresql_server
from .testing import PostgreSQLUnavailable

if t.TYPE_CHECKING:  # pragma: no cover
    from .extension import SQLAlchemy

__all__ = ["isolated_db", "postgresql_database_url", "postgresql_url"]


@pytest.fixture
def isolated_db(request: pytest.FixtureRequest) -> cabc.Iterator[SQLAlchemy]:
    """The ``db`` fixture, with every change the test makes rolled back after it."""
    app = request.getfixturevalue("app")
    db: SQLAlchemy = request.getfixturevalue("db")
    with isolate(db, app), app.app_context():
        yield db


@pytest.fixture(scope="session")
def postgresql_url() -> cabc.Iterator[str]:
    """The URL of a throwaway PostgreSQL server's ``postgres`` database.

    Skips the test when PostgreSQL cannot be started, or fails it when the
    environment variable ``CI`` is ``true``.
    """
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(postgresql_server())
        except PostgreSQLUnavailable as e:
            if os.environ.get("CI") == "true":
                pytest.fail(
                    f"{e}\n(CI=true: the PostgreSQL tests must run, not be skipped.)",
                    pytrace=False,
                )
            pytest.skip(str(e))
        yield server.url


@pytest.fixture
def postgresql_database_url(postgresql_url: str) -> cabc.Iterator[str]:
    """The URL of a new, empty database on the ``postgresql_url`` server."""
    with postgresql_database(postgresql_url) as url:
        yield url
