"""SQLAlchemy 2.x for erlen: engines from config, ``db.Model``, a session per app context.

Everything Flask-SQLAlchemy 3.1 offers under the same names, plus typed models,
async sessions, keyset pagination and test isolation. Start with
:class:`SQLAlchemy`.
"""

from __future__ import annotations

from .extension import SQLAlchemy
from .extension import SQLAlchemyState

__all__ = ["SQLAlchemy", "SQLAlchemyState"]
__version__ = "0.1.0"
