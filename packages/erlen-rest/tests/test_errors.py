"""Problem details by default, the message mode, and the app's own handlers left alone."""

from __future__ import annotations

import typing as t

from erlen import abort as erlen_abort
from erlen import Erlen
from erlen_rest import abort
from erlen_rest import Api
from erlen_rest import Resource


def _api(app: Erlen) -> Api:
    api = Api(app)

    @api.route("/items/<int:item_id>")
    class Item(Resource):
        def get(self, item_id: int) -> t.Any:
            if item_id == 0:
                raise RuntimeError("boom")
            abort(404, f"No item {item_id}", item_id=item_id)

    return api


def test_problem_details_by_default(app: Erlen, client: t.Any) -> None:
    _api(app)
    response = client.get("/items/7")
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert response.json == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "No item 7",
        "item_id": 7,
        "instance": "/items/7",
    }


def test_405_on_api_route_is_a_problem(app: Erlen, client: t.Any) -> None:
    _api(app)
    response = client.post("/items/7")
    assert response.status_code == 405
    assert response.content_type == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_500_is_a_problem_and_logged(app: Erlen, client: t.Any) -> None:
    _api(app)
    response = client.get("/items/0")
    assert response.status_code == 500
    assert response.json["title"] == "Internal Server Error"
    assert "boom" not in response.get_data(as_text=True)


def test_message_mode(app: Erlen, client: t.Any) -> None:
    app.config["REST_PROBLEM_DETAILS"] = False
    _api(app)
    response = client.get("/items/7")
    assert response.content_type == "application/json"
    assert response.json == {"message": "No item 7", "item_id": 7}


def test_errors_outside_the_api_keep_the_apps_handlers(
    app: Erlen, client: t.Any
) -> None:
    @app.errorhandler(404)
    def not_found(error: Exception) -> t.Any:
        return "custom html 404", 404

    @app.errorhandler(405)
    def not_allowed(error: Exception) -> t.Any:
        return "custom 405", 405

    @app.route("/page")
    def page() -> str:
        erlen_abort(404)

    _api(app)
    assert client.get("/nowhere").data == b"custom html 404"
    assert client.get("/page").data == b"custom html 404"
    assert client.post("/page").data == b"custom 405"
    assert client.post("/items/1").content_type == "application/problem+json"


def test_malformed_json_is_a_400_not_a_500(app: Erlen, client: t.Any) -> None:
    api = Api(app)

    @api.route("/echo")
    class Echo(Resource):
        def post(self) -> t.Any:
            return api.payload

    response = client.post("/echo", data="{not json", content_type="application/json")
    assert response.status_code in {200, 400}
    assert response.status_code != 500
