from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.exceptions import NotFound

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.pagination import Pagination


class _Fake(Pagination):
    """Pagination over a list, to test the arithmetic without a database."""

    def _query_items(self) -> list[t.Any]:
        data: list[int] = self._query_args["data"]
        start = (self.page - 1) * self.per_page
        return data[start : start + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["data"])


def fake(total: int = 250, **kwargs: t.Any) -> Pagination:
    return _Fake(data=list(range(1, total + 1)), **kwargs)


def test_defaults() -> None:
    p = fake()
    assert (p.page, p.per_page, p.max_per_page) == (1, 20, 100)
    assert p.total == 250
    assert p.pages == 13
    assert p.items == list(range(1, 21))
    assert list(p) == p.items
    assert (p.first, p.last) == (1, 20)
    assert not p.has_prev and p.prev_num is None
    assert p.has_next and p.next_num == 2


def test_last_page() -> None:
    p = fake(page=13, per_page=20)
    assert p.items == list(range(241, 251))
    assert (p.first, p.last) == (241, 250)
    assert not p.has_next and p.next_num is None
    assert p.has_prev and p.prev_num == 12
    assert p.prev().page == 12
    assert p.prev().items == list(range(221, 241))


def test_next_past_end_is_empty() -> None:
    p = fake(page=13).next()
    assert p.page == 14
    assert p.items == []
    assert (p.first, p.last) == (0, 0)


def test_empty() -> None:
    p = fake(total=0)
    assert p.items == [] and p.pages == 0 and p.total == 0
    assert list(p.iter_pages()) == []
    assert (p.first, p.last) == (0, 0)


def test_count_false() -> None:
    p = fake(count=False, page=2)
    assert p.total is None
    assert p.pages == 0
    assert p.items == list(range(21, 41))
    assert not p.has_next


def test_max_per_page() -> None:
    assert fake(per_page=500).per_page == 100
    assert fake(per_page=500, max_per_page=250).per_page == 250
    assert fake(per_page=50, max_per_page=10).per_page == 10


@pytest.mark.parametrize(
    ("kwargs", "page", "per_page"),
    [
        ({"page": 0}, 1, 20),
        ({"page": -3}, 1, 20),
        ({"per_page": 0}, 1, 20),
        ({"per_page": -1}, 1, 20),
    ],
)
def test_bad_values_without_error_out(
    kwargs: dict[str, int], page: int, per_page: int
) -> None:
    p = fake(error_out=False, **kwargs)
    assert (p.page, p.per_page) == (page, per_page)


@pytest.mark.parametrize("kwargs", [{"page": 0}, {"page": -1}, {"per_page": 0}])
def test_bad_values_abort_404(kwargs: dict[str, int]) -> None:
    with pytest.raises(NotFound):
        fake(**kwargs)


def test_page_past_end_aborts_before_querying() -> None:
    with pytest.raises(NotFound):
        fake(page=10**15)
    assert fake(page=10**15, error_out=False).items == []


def test_huge_offset_without_count() -> None:
    with pytest.raises(NotFound):
        fake(page=10**9, count=False)
    assert fake(page=10**9, count=False, error_out=False).items == []


@pytest.mark.parametrize(
    ("page", "expect"),
    [
        (1, [1, 2, 3, 4, 5, None, 12, 13]),
        (7, [1, 2, None, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
        (13, [1, 2, None, 11, 12, 13]),
        (4, [1, 2, 3, 4, 5, 6, 7, 8, None, 12, 13]),
    ],
)
def test_iter_pages(page: int, expect: list[int | None]) -> None:
    assert list(fake(page=page).iter_pages()) == expect


def test_iter_pages_of_20() -> None:
    p = fake(total=400, page=7)
    assert list(p.iter_pages()) == [1, 2, None, 5, 6, 7, 8, 9, 10, 11, None, 19, 20]
    assert list(
        p.iter_pages(left_edge=1, left_current=0, right_current=0, right_edge=0)
    ) == [
        1,
        None,
        7,
        None,
    ]


def test_iter_pages_few() -> None:
    assert list(fake(total=50).iter_pages()) == [1, 2, 3]


# -- through the extension, from the query string ------------------------------


@pytest.fixture
def paged_app(app: Erlen, db: SQLAlchemy) -> Erlen:
    class Item(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()
        db.session.add_all([Item() for _ in range(150)])
        db.session.commit()

    @app.get("/items")
    def items() -> t.Any:
        page = db.paginate(db.select(Item).order_by(Item.id))
        return {
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "ids": [i.id for i in page],
        }

    @app.get("/legacy")
    def legacy() -> t.Any:
        page = Item.query.order_by(Item.id).paginate(max_per_page=30)
        return {"ids": [i.id for i in page], "pages": page.pages}

    @app.get("/lenient")
    def lenient() -> t.Any:
        page = db.paginate(db.select(Item).order_by(Item.id), error_out=False)
        return {"page": page.page, "per_page": page.per_page, "n": len(page.items)}

    return app


def test_query_string_args(paged_app: Erlen) -> None:
    client = paged_app.test_client()
    data = client.get("/items?page=2&per_page=5").json
    assert data == {"page": 2, "per_page": 5, "total": 150, "ids": [6, 7, 8, 9, 10]}
    data = client.get("/items").json
    assert data["ids"] == list(range(1, 21))


def test_per_page_capped_at_100(paged_app: Erlen) -> None:
    data = paged_app.test_client().get("/items?per_page=100000").json
    assert data["per_page"] == 100
    assert len(data["ids"]) == 100


@pytest.mark.parametrize(
    "query",
    [
        "page=0",
        "page=-1",
        "page=abc",
        "page=1.5",
        "page=99999999999999999999999999999999",
        "page=9" * 5000,
        "page=1000000000",
        "page=9",
        "per_page=0",
        "per_page=-5",
        "per_page=x",
        "page=%00",
        "page=%D9%A3",
    ],
)
def test_abusive_args_are_404(paged_app: Erlen, query: str) -> None:
    response = paged_app.test_client().get(f"/items?{query}")
    assert response.status_code == 404


def test_abusive_args_lenient(paged_app: Erlen) -> None:
    client = paged_app.test_client()
    assert client.get("/lenient?page=abc&per_page=x").json == {
        "page": 1,
        "per_page": 20,
        "n": 20,
    }
    assert client.get("/lenient?page=99999999").json["n"] == 0


def test_legacy_query_paginate(paged_app: Erlen) -> None:
    client = paged_app.test_client()
    data = client.get("/legacy?page=2&per_page=50").json
    assert data["ids"] == list(range(31, 61))
    assert data["pages"] == 5
    assert client.get("/legacy?page=6&per_page=50").status_code == 404


def test_paginate_outside_request(app: Erlen, db: SQLAlchemy) -> None:
    class Row(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()
        db.session.add_all([Row() for _ in range(7)])
        db.session.commit()
        page = db.paginate(sa.select(Row).order_by(Row.id.desc()), page=2, per_page=3)
        assert [r.id for r in page] == [4, 3, 2]
        assert page.next().items[0].id == 1
        assert page.pages == 3
