"""Hostile input found by trying the API as a user: every case is a clear 4xx, never a 500."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import typing as t
import uuid

import pydantic
import pytest

from erlen import Erlen
from erlen_rest import Api
from erlen_rest import cursor_paginate
from erlen_rest import etag
from erlen_rest import fields
from erlen_rest import Header
from erlen_rest import paginate
from erlen_rest import Resource


class ItemIn(pydantic.BaseModel):
    """A typed endpoint's JSON body."""

    name: str


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("", "application/json", 400),
        ("x=1", "text/plain", 415),
        ("x=1", "application/x-www-form-urlencoded", 415),
    ],
)
def test_payload_of_a_bad_body_is_a_4xx_like_flask_restx(
    app: Erlen, client: t.Any, body: str, content_type: str, status: int
) -> None:
    api = Api(app)
    ns = api.namespace("n")
    model = api.model("Thing", {"name": fields.String(required=True)})

    @api.route("/echo")
    class Echo(Resource):
        def post(self) -> t.Any:
            return {"keys": sorted(dict(api.payload))}

    @ns.route("/echo")
    class NsEcho(Resource):
        def post(self) -> t.Any:
            return {"keys": sorted(dict(ns.payload))}

    @api.route("/validated")
    class Validated(Resource):
        @api.expect(model, validate=True)
        def post(self) -> t.Any:
            return {"ok": True}

    for url in ("/echo", "/n/echo", "/validated"):
        response = client.post(url, data=body, content_type=content_type)
        assert response.status_code == status, url
        assert response.content_type == "application/problem+json"
    assert client.post("/echo", json={"a": 1}).get_json() == {"keys": ["a"]}
    malformed = client.post("/validated", data="{", content_type="application/json")
    assert "Invalid JSON body" in malformed.get_json()["detail"]


@pytest.mark.parametrize(
    "mask", ["task{x}", "meta{color{x}}", "tags{x}", "{id", "id}", "meta{"]
)
def test_x_fields_mask_that_does_not_fit_the_model_is_a_400(
    app: Erlen, client: t.Any, mask: str
) -> None:
    api = Api(app)
    meta = api.model("Meta", {"color": fields.String})
    todo = api.model(
        "Todo",
        {
            "id": fields.Integer,
            "task": fields.String,
            "tags": fields.List(fields.String),
            "meta": fields.Nested(meta),
        },
    )

    @api.route("/todo")
    class Todo(Resource):
        @api.marshal_with(todo)
        def get(self) -> t.Any:
            return {"id": 1, "task": "t", "tags": ["a"], "meta": {"color": "red"}}

    response = client.get("/todo", headers={"X-Fields": mask})
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("Invalid mask: ")
    masked = client.get("/todo", headers={"X-Fields": "id,meta{color}"})
    assert masked.get_json() == {"id": 1, "meta": {"color": "red"}}


def test_etag_current_on_a_typed_endpoint_gets_only_the_url_values(
    app: Erlen, client: t.Any
) -> None:
    api = Api(app)

    @api.put("/items/<int:item_id>")
    @etag(lambda item_id: f"v{item_id}")
    def replace_item(item_id: int, item: ItemIn, dry_run: bool = False) -> t.Any:
        return {"id": item_id, "name": item.name}

    @api.get("/items/<int:item_id>")
    @etag(lambda item_id: f"v{item_id}")
    def read_item(item_id: int, q: str = "") -> t.Any:
        return {"id": item_id}

    body = {"name": "n"}
    assert (
        client.put("/items/3", json=body, headers={"If-Match": '"v3"'}).status_code
        == 200
    )
    assert (
        client.put("/items/3", json=body, headers={"If-Match": '"v1"'}).status_code
        == 412
    )
    assert client.put("/items/3?dry_run=1", json=body).status_code == 200
    fresh = client.get("/items/3?q=x", headers={"If-None-Match": '"v3"'})
    assert fresh.status_code == 304


def test_a_dict_or_an_optional_model_is_the_json_body(
    app: Erlen, client: t.Any
) -> None:
    api = Api(app)

    @api.post("/anydict")
    def anydict(body: dict) -> t.Any:  # type: ignore[type-arg]
        return {"keys": sorted(body)}

    @api.post("/maybe")
    def maybe(item: ItemIn | None = None) -> t.Any:
        return {"name": item.name if item is not None else None}

    assert client.post("/anydict", json={"b": 1, "a": 2}).get_json() == {
        "keys": ["a", "b"]
    }
    wrong = client.post("/anydict", json=[1])
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["loc"] == ["body"]
    assert client.post("/maybe", json={"name": "n"}).get_json() == {"name": "n"}
    assert client.post("/maybe").get_json() == {"name": None}
    assert client.post("/maybe", json={"name": 5}).status_code == 422
    with app.test_request_context():
        operations = api.__schema__["paths"]
    assert "requestBody" in operations["/anydict"]["post"]
    assert "requestBody" in operations["/maybe"]["post"]
    assert "parameters" not in operations["/maybe"]["post"]


@dataclasses.dataclass
class User:
    """An object a view returns without marshalling it."""

    name: str
    password_hash: str


def test_an_unmarshalled_object_is_never_sent_as_its_repr(
    app: Erlen, client: t.Any
) -> None:
    api = Api(app)

    @api.route("/user")
    class UserResource(Resource):
        def get(self) -> t.Any:
            return {"user": User("ada", "secret-hash")}

    @api.route("/plain")
    class Plain(Resource):
        def get(self) -> t.Any:
            return {
                "id": uuid.UUID(int=1),
                "price": decimal.Decimal("1.50"),
                "day": datetime.date(2024, 1, 2),
            }

    response = client.get("/user")
    assert response.status_code == 500
    assert b"secret-hash" not in response.data
    assert client.get("/plain").get_json() == {
        "id": "00000000-0000-0000-0000-000000000001",
        "price": "1.50",
        "day": "2024-01-02",
    }


def test_etag_on_an_async_typed_endpoint(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.get("/items/<int:item_id>")
    @etag()
    async def read_item(item_id: int) -> t.Any:
        return {"id": item_id}

    @api.put("/items/<int:item_id>")
    @etag(lambda item_id: f"v{item_id}")
    async def replace_item(item_id: int, item: ItemIn) -> t.Any:
        return {"id": item_id, "name": item.name}

    first = client.get("/items/1")
    assert first.get_json() == {"id": 1}
    assert first.headers["ETag"]
    again = client.get("/items/1", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    stale = client.put("/items/1", json={"name": "n"}, headers={"If-Match": '"v2"'})
    assert stale.status_code == 412
    assert client.put("/items/1", json={"name": "n"}).get_json() == {
        "id": 1,
        "name": "n",
    }


@pytest.mark.parametrize(
    "text", ["[" * 1500, "[" * 3000 + "]" * 3000, "NaN", "-Infinity"]
)
def test_a_forged_cursor_is_a_400(app: Erlen, client: t.Any, text: str) -> None:
    api = Api(app)

    @api.get("/feed")
    def feed() -> t.Any:
        page = cursor_paginate(list(range(1, 30)), key=lambda n: n)
        return page.items, 200, page.headers()

    cursor = base64.urlsafe_b64encode(text.encode()).decode()
    response = client.get(f"/feed?cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.get_json()["detail"]
    following = client.get("/feed?limit=2")
    assert following.get_json() == [1, 2]
    next_url = following.headers["Link"].split(">")[0].lstrip("<")
    assert client.get(next_url).get_json() == [3, 4]


def test_a_list_header_reads_every_value(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.get("/h")
    def read(x_ids: t.Annotated[list[int], Header()] = []) -> t.Any:  # noqa: B006
        return {"ids": x_ids}

    assert client.get("/h").get_json() == {"ids": []}
    assert client.get("/h", headers=[("X-Ids", "1")]).get_json() == {"ids": [1]}
    both = client.get("/h", headers=[("X-Ids", "1"), ("X-Ids", "2")])
    assert both.get_json() == {"ids": [1, 2]}
    bad = client.get("/h", headers=[("X-Ids", "1"), ("X-Ids", "x")])
    assert bad.status_code == 422
    assert bad.get_json()["errors"][0]["loc"] == ["header", "x-ids", 1]


@pytest.mark.parametrize(
    "query",
    ["_external=1", "_scheme=javascript", "_anchor=x", "_method=POST", "endpoint=x"],
)
def test_query_arguments_never_reach_url_for_options(
    app: Erlen, client: t.Any, query: str
) -> None:
    api = Api(app)

    @api.get("/numbers")
    def numbers(ids: list[int] = []) -> t.Any:  # noqa: B006
        page = paginate(list(range(1, 50)), default_per_page=10)
        return page.items, 200, page.headers()

    @api.get("/feed")
    def feed() -> t.Any:
        page = cursor_paginate(list(range(1, 50)), key=lambda n: n)
        return page.items, 200, page.headers()

    response = client.get(f"/numbers?{query}&ids=1&ids=2")
    assert response.status_code == 200
    link = response.headers["Link"]
    assert f'</numbers?{query}&ids=1&ids=2&page=2&per_page=10>; rel="next"' in link
    assert "#" not in link
    assert "://" not in link
    following = client.get(f"/feed?limit=2&{query}")
    assert following.status_code == 200
    assert following.headers["Link"].startswith(f"</feed?limit=2&{query}&cursor=")
