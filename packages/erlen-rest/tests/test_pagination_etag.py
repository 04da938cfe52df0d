"""Pagination with Link headers, and ETags with conditional requests."""

from __future__ import annotations

import typing as t

from erlen import Erlen
from erlen_rest import Api
from erlen_rest import cursor_paginate
from erlen_rest import etag
from erlen_rest import paginate
from erlen_rest import Resource

NUMBERS = list(range(1, 46))


def test_offset_pagination(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.route("/numbers")
    class Numbers(Resource):
        def get(self) -> t.Any:
            page = paginate(NUMBERS, default_per_page=10)
            return page.items, 200, page.headers()

    response = client.get("/numbers?page=2")
    assert response.json == list(range(11, 21))
    assert response.headers["X-Total-Count"] == "45"
    link = response.headers["Link"]
    assert '</numbers?page=3&per_page=10>; rel="next"' in link
    assert '</numbers?page=1&per_page=10>; rel="prev"' in link
    assert '</numbers?page=5&per_page=10>; rel="last"' in link
    assert client.get("/numbers?page=5").json == list(range(41, 46))
    assert 'rel="next"' not in client.get("/numbers?page=5").headers["Link"]
    assert client.get("/numbers?per_page=1000").json == NUMBERS
    assert client.get("/numbers?page=abc").status_code == 400
    assert client.get("/numbers?page=0").status_code == 400


def test_cursor_pagination(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.get("/feed")
    def feed() -> t.Any:
        page = cursor_paginate(NUMBERS, key=lambda n: n, default_limit=20)
        return page.items, 200, page.headers()

    first = client.get("/feed")
    assert first.json == NUMBERS[:20]
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    second = client.get(next_url)
    assert second.json == NUMBERS[20:40]
    third = client.get(second.headers["Link"].split(";")[0].strip("<>"))
    assert third.json == NUMBERS[40:]
    assert "Link" not in third.headers
    assert client.get("/feed?cursor=%%%").status_code == 400


def test_etag_if_none_match_and_if_match(app: Erlen, client: t.Any) -> None:
    api = Api(app)
    state = {"version": 1, "name": "first"}

    def current_version(**kwargs: t.Any) -> str:
        return f"v{state['version']}"

    @api.route("/doc")
    class Doc(Resource):
        @etag(current_version)
        def get(self) -> t.Any:
            return {"name": state["name"]}

        @etag(current_version)
        def put(self) -> t.Any:
            state["version"] += 1
            state["name"] = api.payload["name"]
            return {"name": state["name"]}

    response = client.get("/doc")
    assert response.headers["ETag"] == '"v1"'
    assert client.get("/doc", headers={"If-None-Match": '"v1"'}).status_code == 304
    assert (
        client.put(
            "/doc", json={"name": "second"}, headers={"If-Match": '"v1"'}
        ).status_code
        == 200
    )
    stale = client.put("/doc", json={"name": "lost"}, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412
    assert state["name"] == "second"


def test_etag_computed_from_the_data(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.route("/fixed")
    class Fixed(Resource):
        @etag()
        def get(self) -> t.Any:
            return {"same": "data"}

    tag = client.get("/fixed").headers["ETag"]
    assert client.get("/fixed", headers={"If-None-Match": tag}).status_code == 304
