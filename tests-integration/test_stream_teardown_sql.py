"""Streams never sent still tear down: erlen-sql's connections go back to the pool.

With a pool of 2, three requests whose stream is dropped, replaced or never read
used to keep their connections, and the next request failed after
``pool_timeout``. Flask with Flask-SQLAlchemy stays at 0 checked-out connections.
"""

from __future__ import annotations

import gc
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import QueuePool

import erlen
from erlen_sql import SQLAlchemy


def _rows() -> t.Iterator[str]:
    yield "a"
    yield "b"


@pytest.fixture
def app_and_db(tmp_path: Path) -> tuple[erlen.Erlen, SQLAlchemy]:
    app = erlen.Erlen(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'pool.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={
            "poolclass": QueuePool,
            "pool_size": 2,
            "max_overflow": 0,
            "pool_timeout": 2,
        },
    )
    db = SQLAlchemy()
    db.init_app(app)

    @app.route("/dropped")
    def dropped() -> str:
        db.session.execute(sa.text("select 1"))
        erlen.stream_with_context(_rows())
        return "dropped"

    @app.route("/replaced")
    def replaced() -> t.Any:
        db.session.execute(sa.text("select 1"))
        return erlen.stream_with_context(_rows())

    @app.route("/unread")
    def unread() -> t.Any:
        db.session.execute(sa.text("select 1"))
        return erlen.stream_template_string("{{ 1 }}")

    @app.after_request
    def replace(response: erlen.Response) -> erlen.Response:
        if erlen.request.path == "/replaced":
            return erlen.Response("replaced")
        return response

    return app, db


def test_pool_is_not_exhausted(app_and_db: tuple[erlen.Erlen, SQLAlchemy]) -> None:
    app, db = app_and_db
    client = app.test_client()
    with app.app_context():
        pool = db.engine.pool
    assert isinstance(pool, QueuePool)
    for path in ("/dropped", "/replaced", "/unread") * 2:
        response = client.get(path)
        assert response.status_code == 200
        del response  # a test-client response nobody reads or closes
        gc.collect()
        assert pool.checkedout() == 0, path
    assert client.get("/dropped").data == b"dropped"
