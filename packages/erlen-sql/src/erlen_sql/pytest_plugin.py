"""A pytest plugin with the ``isolated_db`` fixture.

Enable it in ``conftest.py`` and define ``app`` and ``db`` fixtures:

.. code-block:: python

    pytest_plugins = ["erlen_sql.pytest_plugin"]

    @pytest.fixture(scope="session")
    def app():
        app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg:///test"})
        with app.app_context():
            db.create_all()
        return app

    @pytest.fixture(scope="session")
    def db():
        return my_app.db

Each test that asks for ``isolated_db`` runs inside
:func:`erlen_sql.testing.isolate` with an app context pushed, and gets ``db``.
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import pytest

from .testing import isolate

if t.TYPE_CHECKING:  # pragma: no cover
    from .extension import SQLAlchemy


@pytest.fixture
def isolated_db(request: pytest.FixtureRequest) -> cabc.Iterator[SQLAlchemy]:
    """The ``db`` fixture, with every change the test makes rolled back after it."""
    app = request.getfixturevalue("app")
    db: SQLAlchemy = request.getfixturevalue("db")
    with isolate(db, app), app.app_context():
        yield db
