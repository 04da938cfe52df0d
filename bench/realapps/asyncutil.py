"""What the async stacks share: the driver URLs, pool sizes and the fortunes template."""

from __future__ import annotations

import os

import jinja2
import sqlalchemy as sa

#: Connections each worker's pool may hold: 2 stacks x 2 workers x 16 stay below
#: PostgreSQL's default ``max_connections`` of 100.
POOL_SIZE = 16

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
    ),
    autoescape=True,
)
fortunes_template = _env.get_template("fortunes.html")


def asyncpg_sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy URL of the same database with the asyncpg driver."""
    return (
        sa.make_url(url)
        .set(drivername="postgresql+asyncpg")
        .render_as_string(hide_password=False)
    )


def asyncpg_dsn(url: str) -> str:
    """The ``postgresql://`` DSN asyncpg itself takes."""
    return (
        sa.make_url(url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
