"""The Python blocks of docs/rest.md run as written, and their endpoints answer."""

from __future__ import annotations

import re
import types
import typing as t
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "rest.md"


class _Repository:
    """What the guide leaves to the reader: a store of items."""

    def get(self, item_id: int) -> dict[str, t.Any]:
        return {"id": item_id, "name": "pen", "secret": "not sent"}

    async def add(self, item: t.Any) -> dict[str, t.Any]:
        return {"id": 1, **item.model_dump()}


@pytest.fixture
def guide() -> dict[str, t.Any]:
    if not GUIDE.is_file():
        pytest.skip(
            "docs/rest.md is not next to this package (not a repository checkout)"
        )
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 3
    namespace: dict[str, t.Any] = {"__name__": "guide"}
    for number, block in enumerate(blocks):
        exec(compile(block, f"{GUIDE}:block{number}", "exec"), namespace)
    todos = {1: {"id": 1, "task": "Write the guide"}}
    namespace["load"] = todos.get
    namespace["save"] = lambda todo_id, payload: dict(payload, id=todo_id)
    namespace["repository"] = _Repository()
    namespace["events"] = [
        types.SimpleNamespace(id=i, name=f"event {i}") for i in range(1, 26)
    ]
    namespace["Todo"] = types.SimpleNamespace(query=list(todos.values()))
    return namespace


def test_guide_code_runs_as_written(guide: dict[str, t.Any]) -> None:
    client = guide["app"].test_client()
    assert client.get("/todos/1").get_json() == {"id": 1, "task": "Write the guide"}
    missing = client.get("/todos/7")
    assert missing.status_code == 404
    assert missing.get_json()["detail"].startswith("Todo 7 doesn't exist")
    assert client.put("/todos/1", json={"task": "x"}).get_json()["task"] == "x"
    assert client.put("/todos/1", json={}).status_code == 400
    item = client.get("/items/3?q=a", headers={"X-Token": "t"})
    assert item.get_json() == {"id": 3, "name": "pen"}
    created = client.post("/items", json={"name": "pen", "price": 2})
    assert created.status_code == 201
    assert client.post("/items", json={"name": "", "price": 0}).status_code == 422
    listing = client.get("/todos/")
    assert listing.get_json() == [{"id": 1, "task": "Write the guide"}]
    assert listing.headers["X-Total-Count"] == "1"
    feed = client.get("/feed?limit=2")
    assert feed.get_json() == [
        {"id": 1, "name": "event 1"},
        {"id": 2, "name": "event 2"},
    ]
    assert 'rel="next"' in feed.headers["Link"]
