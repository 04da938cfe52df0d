"""Smoke test: the CRUD example under a real gunicorn, create/list/update/delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from liveserver import StartServer

HERE = Path(__file__).parent

pytestmark = pytest.mark.server


def test_crud_round_trip(serve_example: StartServer, tmp_path: Path) -> None:
    server = serve_example(
        "crud:create_app()",
        cwd=HERE,
        env={"ERLEN_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'smoke.db'}"},
    )
    client = server.client()

    assert client.get("/todos").json()["items"] == []
    created = client.post("/todos", json_body={"title": "buy milk"})
    assert created.status == 201
    todo = created.json()
    assert todo["title"] == "buy milk" and todo["done"] is False
    client.post("/todos", json_body={"title": "walk dog"})

    listing = client.get("/todos").json()
    assert [t["title"] for t in listing["items"]] == ["buy milk", "walk dog"]
    assert listing["total"] == 2

    updated = client.request("PATCH", f"/todos/{todo['id']}", json_body={"done": True})
    assert updated.status == 200
    assert client.get(f"/todos/{todo['id']}").json()["done"] is True

    assert client.request("DELETE", f"/todos/{todo['id']}").status == 204
    missing = client.get(f"/todos/{todo['id']}")
    assert missing.status == 404
    assert missing.json()["error"] == "Not Found"  # errors are JSON too
    assert [t["title"] for t in client.get("/todos").json()["items"]] == ["walk dog"]

    assert client.post("/todos", json_body={"title": ""}).status == 400
    assert client.post("/todos", data=b"not json").status == 400
    assert client.get("/todos?page=abc").status == 404
    assert client.get("/todos?page=999999999999").status == 404
