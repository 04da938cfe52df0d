"""Fields, masks, models and inputs: the Flask-RESTX building blocks, from the user's side."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import OrderedDict

import pytest

from erlen import Erlen
from erlen_rest import Api
from erlen_rest import cors
from erlen_rest import fields
from erlen_rest import inputs
from erlen_rest import marshal
from erlen_rest import Mask
from erlen_rest import mask
from erlen_rest import Model
from erlen_rest import OrderedModel
from erlen_rest import Resource
from erlen_rest import SchemaModel


def test_field_formats() -> None:
    data = {
        "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        "price": "3.14159",
        "flag": "false",
        "n": "42",
    }
    out = marshal(
        data,
        {
            "when": fields.DateTime(dt_format="rfc822"),
            "day": fields.Date(attribute="when"),
            "price": fields.Fixed(decimals=2),
            "flag": fields.Boolean,
            "n": fields.Integer,
            "missing": fields.String(default="none"),
        },
    )
    assert out == {
        "when": "Tue, 02 Jan 2024 03:04:05 -0000",
        "day": "2024-01-02",
        "price": "3.14",
        "flag": False,
        "n": 42,
        "missing": "none",
    }
    with pytest.raises(fields.MarshallingError):
        marshal({"n": "not a number"}, {"n": fields.Integer})


def test_inheritance_polymorph_and_ordered_models() -> None:
    person = Model("Person", {"name": fields.String(discriminator=True)})
    dog_owner = person.inherit("DogOwner", {"dog": fields.String})
    cat_owner = person.inherit("CatOwner", {"cat": fields.String})

    class DogOwner:
        dog = "Rex"

    class CatOwner:
        cat = "Tom"

    house = OrderedModel(
        "House",
        [("owner", fields.Polymorph({DogOwner: dog_owner, CatOwner: cat_owner}))],
    )
    assert marshal({"owner": DogOwner()}, house) == {
        "owner": {"name": "DogOwner", "dog": "Rex"}
    }
    assert isinstance(marshal({"owner": None}, house, ordered=True), OrderedDict)
    assert dog_owner.__schema__["allOf"][0] == {"$ref": "#/definitions/Person"}
    raw = SchemaModel(
        "Raw", {"type": "object", "properties": {"a": {"type": "integer"}}}
    )
    assert raw.__schema__["properties"]["a"] == {"type": "integer"}


def test_wildcard_and_nested_mask() -> None:
    model = {"name": fields.String, "*": fields.Wildcard(fields.Integer)}
    assert marshal({"name": "x", "a": "1", "b": 2}, model) == {
        "name": "x",
        "a": 1,
        "b": 2,
    }
    nested = {"owner": fields.Nested({"id": fields.Integer, "name": fields.String})}
    assert marshal({"owner": {"id": 1, "name": "n"}}, nested, mask="owner{id}") == {
        "owner": {"id": 1}
    }
    assert Mask("a,b{c}") == {"a": True, "b": {"c": True}}
    with pytest.raises(mask.ParseError):
        Mask("a{")


def test_bad_mask_header_is_a_400(app: Erlen, client: t.Any) -> None:
    api = Api(app)
    model = api.model("M", {"a": fields.String})

    @api.route("/m")
    class M(Resource):
        @api.marshal_with(model)
        def get(self) -> t.Any:
            return {"a": "x"}

    assert client.get("/m", headers={"X-Fields": "a{"}).status_code == 400
    assert client.get("/m", headers={"X-Fields": "a"}).json == {"a": "x"}


def test_inputs() -> None:
    assert inputs.boolean("on") is True
    assert inputs.int_range(1, 3)(2) == 2
    assert inputs.email()("ada@example.com") == "ada@example.com"
    assert inputs.url("http://example.com/x") == "http://example.com/x"
    with pytest.raises(ValueError, match="Did you mean"):
        inputs.URL()("example.com")
    start, end = inputs.iso8601interval("2024-01-01/P1D")
    assert end - start == dt.timedelta(days=1)
    with pytest.raises(ValueError):
        inputs.natural(-1)
    with pytest.raises(ValueError):
        inputs.ipv4("300.1.1.1")


def test_crossdomain(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.route("/open")
    class Open(Resource):
        @cors.crossdomain(origin="*", expose_headers=["X-Total"])
        def get(self) -> t.Any:
            return "data"

    response = client.get("/open")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Expose-Headers"] == "X-TOTAL"
