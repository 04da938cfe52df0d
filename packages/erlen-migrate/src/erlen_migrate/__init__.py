"""Alembic migrations for erlen: Flask-Migrate's commands without a generated ``env.py``.

.. code-block:: python

    from erlen_migrate import Migrate

    migrate = Migrate(app, db)

Then ``erlen db init``, ``erlen db migrate -m "..."``, ``erlen db upgrade``.
Every command is also a function here (:func:`upgrade`, :func:`migrate`, ...)
that raises :class:`MigrateError` instead of exiting.
"""

from __future__ import annotations

import alembic

from .commands import branches
from .commands import check
from .commands import current
from .commands import downgrade
from .commands import edit
from .commands import heads
from .commands import history
from .commands import init
from .commands import list_templates
from .commands import merge
from .commands import migrate
from .commands import revision
from .commands import show
from .commands import stamp
from .commands import upgrade
from .environment import Database
from .errors import CommandError
from .errors import DatabaseBehindError
from .errors import MigrateError
from .errors import SchemaChangedError
from .extension import Config
from .extension import Migrate
from .extension import MigrateState
from .extension import NAMING_CONVENTION

__all__ = [
    "NAMING_CONVENTION",
    "CommandError",
    "Config",
    "Database",
    "DatabaseBehindError",
    "Migrate",
    "MigrateError",
    "MigrateState",
    "SchemaChangedError",
    "alembic_version",
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "migrate",
    "revision",
    "show",
    "stamp",
    "upgrade",
]
__version__ = "0.1.0"

#: The installed Alembic version as a tuple of ints, e.g. ``(1, 16, 5)``.
alembic_version: tuple[int, ...] = tuple(
    int(part) for part in alembic.__version__.split(".")[:3] if part.isdigit()
)
