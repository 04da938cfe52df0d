"""Flask-RESTX's API, from the user's side."""

from __future__ import annotations

import typing as t

import pytest

from erlen import Blueprint
from erlen import Erlen
from erlen_rest import abort
from erlen_rest import Api
from erlen_rest import fields
from erlen_rest import inputs
from erlen_rest import marshal
from erlen_rest import reqparse
from erlen_rest import Resource


def test_resource_namespace_and_model(app: Erlen, client: t.Any) -> None:
    api = Api(app, title="Todos")
    ns = api.namespace("todos", description="Todo operations")
    todo = ns.model(
        "Todo",
        {"id": fields.Integer(readonly=True), "task": fields.String(required=True)},
    )
    store = {1: {"id": 1, "task": "write tests", "secret": "x"}}

    @ns.route("/<int:todo_id>")
    class TodoResource(Resource):
        @ns.marshal_with(todo)
        def get(self, todo_id: int) -> t.Any:
            if todo_id not in store:
                ns.abort(404, f"Todo {todo_id} doesn't exist")
            return store[todo_id]

        @ns.expect(todo, validate=True)
        @ns.marshal_with(todo)
        def put(self, todo_id: int) -> t.Any:
            store[todo_id] = dict(api.payload, id=todo_id)
            return store[todo_id], 201

    response = client.get("/todos/1")
    assert response.status_code == 200
    assert response.json == {"id": 1, "task": "write tests"}
    response = client.get("/todos/1", headers={"X-Fields": "task"})
    assert response.json == {"task": "write tests"}
    response = client.put("/todos/2", json={"task": "more"})
    assert response.status_code == 201
    assert response.json == {"id": 2, "task": "more"}
    response = client.put("/todos/2", json={"wrong": 1})
    assert response.status_code == 400
    assert response.json["errors"] == {"task": "'task' is a required property"}


def test_marshal_nested_list_and_envelope() -> None:
    address = {"city": fields.String}
    person = {"name": fields.String, "addresses": fields.List(fields.Nested(address))}
    data = {"name": "Ada", "addresses": [{"city": "London", "zip": "x"}], "age": 36}
    assert marshal(data, person, envelope="person") == {
        "person": {"name": "Ada", "addresses": [{"city": "London"}]}
    }


def test_reqparse_get_without_json_body_is_not_415(app: Erlen, client: t.Any) -> None:
    api = Api(app)
    parser = reqparse.RequestParser()
    parser.add_argument("q", type=str)
    parser.add_argument("n", type=inputs.positive, default=1)

    @api.route("/search")
    class Search(Resource):
        def get(self) -> t.Any:
            return parser.parse_args()

    response = client.get("/search?q=erlen&n=3")
    assert response.status_code == 200
    assert response.json == {"q": "erlen", "n": 3}
    response = client.get("/search?n=-1")
    assert response.status_code == 400
    assert "n" in response.json["errors"]


def test_content_negotiation(app: Erlen, client: t.Any) -> None:
    api = Api(app, default_mediatype=None)

    @api.representation("text/csv")
    def csv(data: t.Any, code: int, headers: t.Any = None) -> t.Any:
        return app.make_response((",".join(map(str, data)), code, headers))

    @api.route("/numbers")
    class Numbers(Resource):
        def get(self) -> t.Any:
            return [1, 2, 3]

    assert client.get("/numbers", headers={"Accept": "text/csv"}).data == b"1,2,3"
    assert client.get("/numbers", headers={"Accept": "application/json"}).json == [
        1,
        2,
        3,
    ]
    assert client.get("/numbers", headers={"Accept": "image/png"}).status_code == 406


def test_api_on_blueprint_with_prefix(app: Erlen, client: t.Any) -> None:
    bp = Blueprint("v1", __name__, url_prefix="/v1")
    api = Api(bp, prefix="/api")

    @api.route("/ping")
    class Ping(Resource):
        def get(self) -> t.Any:
            return {"pong": True}

    app.register_blueprint(bp)
    assert client.get("/v1/api/ping").json == {"pong": True}
    with app.test_request_context():
        assert api.url_for(Ping) == "/v1/api/ping"


def test_namespace_error_handler(app: Erlen, client: t.Any) -> None:
    api = Api(app)
    ns = api.namespace("things")

    class Gone(Exception):
        pass

    @ns.errorhandler(Gone)
    def handle_gone(error: Gone) -> t.Any:
        return {"message": "gone for good"}, 410

    @ns.route("/")
    class Things(Resource):
        def get(self) -> t.Any:
            raise Gone()

    response = client.get("/things/")
    assert response.status_code == 410
    assert response.json == {"message": "gone for good"}


def test_doc_hide_and_deprecated_reach_the_document(app: Erlen) -> None:
    api = Api(app)

    @api.route("/old")
    class Old(Resource):
        @api.deprecated
        @api.doc(params={"q": "A query"})
        @api.response(404, "Not found")
        @api.header("X-Rate", "Rate limit")
        def get(self) -> t.Any:
            """Read the old thing."""
            return {}

    @api.route("/hidden")
    @api.hide
    class Hidden(Resource):
        def get(self) -> t.Any:
            return {}

    with app.test_request_context():
        spec = api.__schema__
    operation = spec["paths"]["/old"]["get"]
    assert operation["deprecated"] is True
    assert operation["summary"] == "Read the old thing"
    assert operation["parameters"][0]["name"] == "q"
    assert "404" in operation["responses"]
    assert "/hidden" not in spec["paths"]


def test_abort_outside_a_view_carries_data() -> None:
    with pytest.raises(Exception) as info:
        abort(409, "conflict", id=3)
    assert info.value.data == {"message": "conflict", "id": 3}  # type: ignore[attr-defined]
