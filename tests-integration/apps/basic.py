"""A small app using the core alone: text, JSON, sessions and error pages."""

from __future__ import annotations

import typing as t

from erlen import Erlen
from erlen import request
from erlen import session

app = Erlen(__name__)
app.config["SECRET_KEY"] = "integration-test-secret"


@app.get("/")
def index() -> str:
    """Answer with plain text."""
    return "basic app"


@app.get("/users/<int:user_id>")
def user(user_id: int) -> dict[str, t.Any]:
    """Answer with JSON built from a converted URL variable."""
    return {"id": user_id, "name": f"user {user_id}"}


@app.post("/echo")
def echo() -> dict[str, t.Any]:
    """Return the JSON body that was sent (malformed bodies get a 400)."""
    return {"received": request.get_json()}


@app.post("/counter")
def counter() -> dict[str, int]:
    """Count the requests of one client in its session."""
    session["count"] = session.get("count", 0) + 1
    return {"count": session["count"]}
