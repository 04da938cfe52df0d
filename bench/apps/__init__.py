"""The benchmarked applications: one module per framework, all with the same endpoints.

Each module has ``create(secret: bool) -> WSGIApp``. :data:`APPS` lists the columns
of the report in order; :func:`load` builds one of them.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib
import typing as t
from dataclasses import dataclass
from dataclasses import field

StartResponse = t.Callable[..., t.Any]
WSGIApp = t.Callable[[dict[str, t.Any], StartResponse], cabc.Iterable[bytes]]


@dataclass(frozen=True)
class AppSpec:
    """One column of the report: a framework module and whether it has a secret key.

    :param unsupported: endpoints this app does not implement (reported as n/a).
    """

    name: str
    module: str
    secret: bool
    description: str
    unsupported: frozenset[str] = field(default_factory=frozenset)


_NO_SESSION = frozenset({"session"})

APPS: tuple[AppSpec, ...] = (
    AppSpec("bare", "bare_app", True, "plain WSGI callable (the floor)"),
    AppSpec("werkzeug", "werkzeug_app", True, "Werkzeug Request, Response and Map"),
    AppSpec("flask", "flask_app", True, "Flask with SECRET_KEY"),
    AppSpec("flask-nokey", "flask_app", False, "Flask without SECRET_KEY", _NO_SESSION),
    AppSpec("bottle", "bottle_app", True, "Bottle (signed cookie session)"),
    AppSpec("falcon", "falcon_app", True, "Falcon (itsdangerous session)"),
    AppSpec("erlen", "erlen_app", True, "erlen with SECRET_KEY"),
    AppSpec("erlen-nokey", "erlen_app", False, "erlen without SECRET_KEY", _NO_SESSION),
)
APPS_BY_NAME: dict[str, AppSpec] = {spec.name: spec for spec in APPS}


def load(name: str) -> WSGIApp:
    """Import the framework of app ``name`` and return a fresh WSGI callable.

    :raises KeyError: ``name`` is not one of :data:`APPS`.
    :raises ImportError: the framework is not installed.
    """
    spec = APPS_BY_NAME[name]
    module = importlib.import_module(f"apps.{spec.module}")
    return t.cast(WSGIApp, module.create(spec.secret))
