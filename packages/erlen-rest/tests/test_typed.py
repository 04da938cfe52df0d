"""Typed endpoints: inputs from type hints, 422 on bad input, output filtered by the response model."""

from __future__ import annotations

import io
import typing as t

import pydantic
import pytest
from werkzeug.datastructures import FileStorage

from erlen import Erlen
from erlen_rest import Api
from erlen_rest import Cookie
from erlen_rest import Form
from erlen_rest import Header


class ItemIn(pydantic.BaseModel):
    name: str = pydantic.Field(min_length=1)
    price: float = pydantic.Field(gt=0)


class Item(pydantic.BaseModel):
    id: int
    name: str


@pytest.fixture
def api(app: Erlen) -> Api:
    api = Api(app, title="Shop")

    @api.get("/items/<int:item_id>")
    def read_item(
        item_id: int,
        q: str | None = None,
        tags: list[str] | None = None,
        x_token: t.Annotated[str, Header()] = "",
        session: t.Annotated[str | None, Cookie()] = None,
    ) -> Item:
        """Read one item."""
        name = "|".join([q or "item", x_token, session or "", *(tags or [])])
        return {"id": item_id, "name": name, "internal": "must not leak"}  # type: ignore[return-value]

    @api.post("/items", status_code=201)
    def create_item(item: ItemIn, dry_run: bool = False) -> Item:
        return Item(id=1, name=item.name + ("?" if dry_run else ""))

    @api.post("/upload")
    def upload(title: t.Annotated[str, Form()], file: FileStorage) -> dict[str, t.Any]:
        return {"title": title, "size": len(file.read())}

    @api.get("/limits")
    def limits(n: t.Annotated[int, pydantic.Field(ge=1, le=10)] = 5) -> dict[str, int]:
        return {"n": n}

    @api.get("/async")
    async def read_async(value: int) -> dict[str, int]:
        return {"value": value * 2}

    @api.get("/broken", response_model=Item)
    def broken() -> t.Any:
        return {"id": "not an int"}

    return api


def test_path_query_header_cookie(api: Api, client: t.Any) -> None:
    client.set_cookie("session", "s1")
    response = client.get("/items/3?q=a&tags=x&tags=y", headers={"X-Token": "t"})
    assert response.status_code == 200
    assert response.json == {"id": 3, "name": "a|t|s1|x|y"}


def test_body_and_status_code(api: Api, client: t.Any) -> None:
    response = client.post("/items?dry_run=true", json={"name": "pen", "price": 2})
    assert response.status_code == 201
    assert response.json == {"id": 1, "name": "pen?"}


def test_validation_errors_are_422_with_location_message_type(
    api: Api, client: t.Any
) -> None:
    response = client.post("/items?dry_run=maybe", json={"name": "", "price": -1})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    errors = response.json["errors"]
    assert {tuple(e["loc"]) for e in errors} == {
        ("body", "name"),
        ("body", "price"),
        ("query", "dry_run"),
    }
    assert all(e["msg"] and e["type"] for e in errors)


class Numbers(pydantic.BaseModel):
    values: list[int]


def test_422_lists_at_most_the_configured_number_of_errors(
    app: Erlen, client: t.Any
) -> None:
    api = Api(app)

    @api.post("/numbers")
    def numbers(body: Numbers) -> dict[str, int]:
        return {"n": len(body.values)}

    response = client.post("/numbers", json={"values": ["x"] * 500})
    assert response.status_code == 422
    assert len(response.json["errors"]) == 50
    assert response.json["errors"][0]["loc"] == ["body", "values", 0]
    assert response.json["errors_omitted"] == 450
    app.config["REST_MAX_VALIDATION_ERRORS"] = 3
    response = client.post("/numbers", json={"values": ["x"] * 3})
    assert len(response.json["errors"]) == 3
    assert "errors_omitted" not in response.json
    assert client.post("/numbers", json={"values": [1, 2]}).json == {"n": 2}


def test_missing_body_and_constraints(api: Api, client: t.Any) -> None:
    response = client.post("/items")
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"loc": ["body"], "msg": "Field required", "type": "missing"}
    ]
    response = client.get("/limits?n=11")
    assert response.status_code == 422
    assert response.json["errors"][0]["loc"] == ["query", "n"]
    assert client.get("/limits").json == {"n": 5}


def test_non_json_body_and_malformed_json(api: Api, client: t.Any) -> None:
    assert (
        client.post("/items", data="name=x", content_type="text/plain").status_code
        == 415
    )
    assert (
        client.post("/items", data="{oops", content_type="application/json").status_code
        == 400
    )


def test_form_and_file(api: Api, client: t.Any) -> None:
    response = client.post(
        "/upload", data={"title": "doc", "file": (io.BytesIO(b"hello"), "a.txt")}
    )
    assert response.json == {"title": "doc", "size": 5}
    response = client.post("/upload", data={"title": "doc"})
    assert response.status_code == 422
    assert response.json["errors"][0]["loc"] == ["file", "file"]


def test_async_endpoint(api: Api, client: t.Any) -> None:
    assert client.get("/async?value=21").json == {"value": 42}


def test_bad_output_is_a_server_error_not_a_leak(api: Api, client: t.Any) -> None:
    response = client.get("/broken")
    assert response.status_code == 500
    assert "not an int" not in response.get_data(as_text=True)


def test_message_mode_for_422(app: Erlen, api: Api, client: t.Any) -> None:
    app.config["REST_PROBLEM_DETAILS"] = False
    response = client.get("/limits?n=0")
    assert response.content_type == "application/json"
    assert response.json["message"] == "Request validation failed"
    assert response.json["errors"][0]["type"] == "greater_than_equal"


def test_typed_endpoints_on_a_blueprint(app: Erlen, client: t.Any) -> None:
    from erlen import Blueprint

    bp = Blueprint("v2", __name__, url_prefix="/v2")
    api = Api(bp, doc=False)

    @api.get("/double/<int:n>")
    def double(n: int) -> dict[str, int]:
        return {"n": n * 2}

    app.register_blueprint(bp)
    assert client.get("/v2/double/4").json == {"n": 8}
    response = client.post("/v2/double/4")
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    with app.test_request_context():
        spec = api.__schema__
    assert spec["servers"] == [{"url": "/v2"}]
    assert "/double/{n}" in spec["paths"]
