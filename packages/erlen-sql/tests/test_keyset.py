from __future__ import annotations

import datetime
import decimal
import typing as t
import uuid

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen import request
from erlen_sql import SQLAlchemy
from erlen_sql.keyset import _decode_value
from erlen_sql.keyset import _encode_value


@pytest.fixture
def client_app(app: Erlen, db: SQLAlchemy) -> Erlen:
    class Entry(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        score: Mapped[int]

    with app.app_context():
        db.create_all()
        db.session.add_all([Entry(score=i % 3) for i in range(12)])
        db.session.commit()

    @app.get("/entries")
    def entries() -> t.Any:
        page = db.keyset_paginate(sa.select(Entry), order_by=[Entry.score, Entry.id])
        return {
            "ids": [e.id for e in page],
            "next": page.next_cursor,
            "prev": page.prev_cursor,
            "has_next": page.has_next,
        }

    @app.get("/filtered")
    def filtered() -> t.Any:
        minimum = int(request.args.get("min", "0"))
        select = sa.select(Entry).where(Entry.score >= minimum)
        page = db.keyset_paginate(select, order_by=[Entry.score, Entry.id])
        return {"ids": [e.id for e in page], "next": page.next_cursor}

    @app.get("/other")
    def other() -> t.Any:
        page = db.keyset_paginate(sa.select(Entry), order_by=[Entry.id])
        return {"ids": [e.id for e in page]}

    return app


def test_forward_and_back(client_app: Erlen) -> None:
    client = client_app.test_client()
    first = client.get("/entries?per_page=5").json
    assert first["ids"] == [1, 4, 7, 10, 2]
    assert first["prev"] is None and first["has_next"]
    second = client.get(f"/entries?per_page=5&cursor={first['next']}").json
    assert second["ids"] == [5, 8, 11, 3, 6]
    third = client.get(f"/entries?per_page=5&cursor={second['next']}").json
    assert third["ids"] == [9, 12]
    assert third["next"] is None and not third["has_next"]
    back = client.get(f"/entries?per_page=5&cursor={third['prev']}").json
    assert back["ids"] == second["ids"]


@pytest.mark.parametrize(
    "cursor",
    ["garbage", "", "a.b", "x" * 10000, "%00%ff"],
)
def test_bad_cursor_is_400(client_app: Erlen, cursor: str) -> None:
    response = client_app.test_client().get(f"/entries?cursor={cursor}")
    assert response.status_code in (200, 400)
    if cursor:
        assert response.status_code == 400


def test_tampered_cursor_is_400(client_app: Erlen) -> None:
    client = client_app.test_client()
    cursor = client.get("/entries?per_page=2").json["next"]
    payload, _, signature = cursor.rpartition(".")
    forged = URLSafeSerializer("wrong key", salt="erlen-sql.keyset-cursor").dumps(
        {"d": "n", "k": "x", "v": [0, 0]}
    )
    assert client.get(f"/entries?cursor={payload}.AAAA{signature}").status_code == 400
    assert client.get(f"/entries?cursor={forged}").status_code == 400
    # A valid cursor of another listing is refused too.
    assert client.get(f"/other?cursor={cursor}").status_code == 400


def test_cursor_signed_with_a_fallback_key(client_app: Erlen) -> None:
    client = client_app.test_client()
    old = client.get("/entries?per_page=5").json["next"]
    client_app.config["SECRET_KEY"] = "new secret"
    assert client.get(f"/entries?per_page=5&cursor={old}").status_code == 400
    client_app.config["SECRET_KEY_FALLBACKS"] = ["test secret"]
    page = client.get(f"/entries?per_page=5&cursor={old}").json
    assert page["ids"] == [5, 8, 11, 3, 6]
    # New cursors are signed with the new key.
    client_app.config["SECRET_KEY_FALLBACKS"] = None
    assert client.get(f"/entries?per_page=5&cursor={page['next']}").status_code == 200


def test_cursor_of_a_listing_with_another_filter_is_400(client_app: Erlen) -> None:
    client = client_app.test_client()
    unfiltered = client.get("/entries?per_page=2").json["next"]
    assert client.get(f"/filtered?per_page=2&cursor={unfiltered}").status_code == 400
    filtered = client.get("/filtered?per_page=2").json["next"]
    assert client.get(f"/entries?per_page=2&cursor={filtered}").status_code == 400
    # Same listing, other parameter values: the cursor stays valid.
    page = client.get(f"/filtered?per_page=2&min=1&cursor={filtered}")
    assert page.status_code == 200
    assert page.json["ids"] == [2, 5]


@pytest.mark.parametrize("per_page", ["abc", "0", "-1", "1.5", "%C2%B9", "9" * 30])
def test_bad_per_page_is_400(client_app: Erlen, per_page: str) -> None:
    response = client_app.test_client().get(f"/entries?per_page={per_page}")
    assert response.status_code == 400
    assert "per_page" in response.get_data(as_text=True)


def test_large_per_page_is_capped(client_app: Erlen) -> None:
    client = client_app.test_client()
    assert len(client.get("/entries?per_page=100000").json["ids"]) == 12


def test_needs_secret_key(app: Erlen, db: SQLAlchemy) -> None:
    class Thing(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    app.config["SECRET_KEY"] = None
    with app.app_context():
        db.create_all()
        db.session.add_all([Thing(), Thing()])
        db.session.commit()
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            db.keyset_paginate(sa.select(Thing), order_by=[Thing.id], per_page=1)
        with pytest.raises(ValueError, match="order_by"):
            db.keyset_paginate(sa.select(Thing), order_by=[])


@pytest.mark.parametrize(
    "value",
    [
        1,
        "s",
        None,
        1.5,
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        datetime.date(2026, 1, 2),
        datetime.time(3, 4),
        decimal.Decimal("1.25"),
        uuid.UUID(int=7),
    ],
)
def test_value_round_trip(value: t.Any) -> None:
    assert _decode_value(_encode_value(value)) == value


def test_unsupported_value() -> None:
    with pytest.raises(TypeError, match="keyset cursor"):
        _encode_value(object())
