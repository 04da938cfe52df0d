"""Shell integration: ``db`` and every model class in ``erlen shell``."""

from __future__ import annotations

import typing as t

from erlen import current_app

__all__ = ["add_models_to_shell"]


def add_models_to_shell() -> dict[str, t.Any]:
    """Return ``db`` and each mapped model class by name, for the shell context."""
    db = current_app.extensions["sqlalchemy"].db
    names: dict[str, t.Any] = {"db": db}
    for mapper in db.Model.registry.mappers:
        names[mapper.class_.__name__] = mapper.class_
    return names
