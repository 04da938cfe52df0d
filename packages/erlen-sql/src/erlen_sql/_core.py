"""The one private name erlen-sql takes from the core, behind this adapter.

``db.session`` is scoped to the app context and looks the scope up several
times per request; reading the core's context variable directly costs one call
instead of a proxy's four. ``tests/test_core_adapter.py`` fails loudly if a
release of erlen renames or retypes it; until then nothing else here needs it.
"""

from __future__ import annotations

import typing as t
from contextvars import ContextVar

import erlen.globals

__all__ = ["app_context_var"]


def app_context_var() -> ContextVar[t.Any] | None:
    """The context variable holding the active app context, or ``None`` if it moved."""
    var = getattr(erlen.globals, "_cv_app", None)
    return var if isinstance(var, ContextVar) else None
