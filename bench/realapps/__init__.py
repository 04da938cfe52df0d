"""The real-application stacks: the TechEmpower test types on PostgreSQL.

Each module has ``create(url: str)`` returning a WSGI or ASGI callable serving
every test type of :mod:`realapps.common` from the database at ``url`` (a
``postgresql+psycopg://`` URL; async stacks pick their own driver from it).
:data:`STACKS` lists the report's columns in order. To add a stack, write
``realapps/<name>.py`` with ``create`` and add one :class:`StackSpec` here.
"""

from __future__ import annotations

import importlib
import typing as t
from dataclasses import dataclass


@dataclass(frozen=True)
class StackSpec:
    """One column of the report.

    :param kind: ``"wsgi"`` (served by gunicorn) or ``"asgi"`` (uvicorn).
    :param reference: the stack its ratios are taken against.
    """

    name: str
    module: str
    kind: str
    description: str
    reference: str


WSGI_REFERENCE = "flask-fsa"
ASGI_REFERENCE = "fastapi-sa"

STACKS: tuple[StackSpec, ...] = (
    StackSpec(
        "erlen-orm",
        "erlen_orm",
        "wsgi",
        "erlen + erlen-sql, ORM models and db.session",
        WSGI_REFERENCE,
    ),
    StackSpec(
        "erlen-core",
        "erlen_core",
        "wsgi",
        "erlen + erlen-sql, Core statements on db.engine",
        WSGI_REFERENCE,
    ),
    StackSpec(
        "flask-fsa",
        "flask_fsa",
        "wsgi",
        "Flask + Flask-SQLAlchemy, ORM models and db.session",
        WSGI_REFERENCE,
    ),
    StackSpec(
        "flask-core",
        "flask_core",
        "wsgi",
        "Flask + plain SQLAlchemy Core on an engine",
        WSGI_REFERENCE,
    ),
    StackSpec(
        "erlen-asgi",
        "erlen_asgi",
        "asgi",
        "erlen ASGI, async views, erlen-sql async session (asyncpg)",
        ASGI_REFERENCE,
    ),
    StackSpec(
        "fastapi-sa",
        "fastapi_sa",
        "asgi",
        "FastAPI + SQLAlchemy async ORM (asyncpg)",
        ASGI_REFERENCE,
    ),
    StackSpec(
        "starlette-asyncpg",
        "starlette_asyncpg",
        "asgi",
        "Starlette + asyncpg pool, plain SQL",
        ASGI_REFERENCE,
    ),
)
STACKS_BY_NAME: dict[str, StackSpec] = {spec.name: spec for spec in STACKS}


def load(name: str, url: str) -> t.Any:
    """Import stack ``name`` and return its app for the database at ``url``."""
    spec = STACKS_BY_NAME[name]
    module = importlib.import_module(f"realapps.{spec.module}")
    return module.create(url)
