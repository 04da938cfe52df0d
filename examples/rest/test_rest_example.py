"""Smoke test: the REST example under gunicorn, and its committed OpenAPI document checked for drift."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from liveserver import StartServer

HERE = Path(__file__).parent


def test_committed_openapi_document_has_not_drifted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    petstore = importlib.import_module("petstore")
    app = petstore.create_app()
    with app.test_request_context():
        current = app.extensions["rest"].apis[0].__schema__
    committed = json.loads((HERE / "openapi.json").read_text())
    assert committed == current, (
        "examples/rest/openapi.json is out of date: regenerate it with"
        " 'erlen --app petstore rest spec -o openapi.json' in examples/rest"
    )


def test_an_owner_id_out_of_range_is_a_422(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    petstore = importlib.import_module("petstore")
    client = petstore.create_app().test_client()
    pet = {"name": "Rex", "species": "dog", "owner_id": 10**30}
    response = client.post("/pets", json=pet)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["loc"] == ["body", "owner_id"]


@pytest.mark.server
def test_rest_round_trip(serve_example: StartServer) -> None:
    server = serve_example("petstore:app", cwd=HERE)
    client = server.client()
    owner = client.post("/owners/", json_body={"name": "Ada"})
    assert owner.status == 201
    created = client.post(
        "/pets", json_body={"name": "Rex", "species": "dog", "owner_id": 1}
    )
    assert created.status == 201
    assert created.json() == {"id": 1, "name": "Rex", "species": "dog", "owner_id": 1}
    bad = client.post("/pets", json_body={"name": "", "species": "cow"})
    assert bad.status == 422
    assert bad.headers["Content-Type"] == "application/problem+json"
    listing = client.get("/pets")
    assert [p["name"] for p in listing.json()] == ["Rex"]
    assert 'rel="first"' in listing.headers["Link"]
    assert client.get("/pets/99").status == 404
    assert client.get("/openapi.json").json()["openapi"] == "3.1.0"
