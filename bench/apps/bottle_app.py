"""Bottle, with its own signed cookies for the session endpoint."""

from __future__ import annotations

import json
import typing as t

import bottle  # type: ignore[import-untyped]

from apps import common
from apps import WSGIApp


def create(secret: bool) -> WSGIApp:
    """Return the Bottle app; ``secret`` is accepted for symmetry and ignored."""
    template = common.jinja_environment().get_template(common.TEMPLATE_NAME)
    app = bottle.Bottle()
    request = bottle.request
    response = bottle.response

    def hello() -> str:
        response.content_type = "text/plain; charset=utf-8"
        return common.HELLO_TEXT

    def json_view() -> dict[str, t.Any]:
        return common.JSON_PAYLOAD

    def params(user_id: int, slug: str) -> dict[str, t.Any]:
        return {"user_id": user_id, "slug": slug}

    def template_view() -> str:
        return template.render(common.template_context())

    def form() -> dict[str, t.Any]:
        fields = request.forms.decode()
        return common.form_result({key: fields[key] for key in fields})

    def session() -> str:
        raw = request.get_cookie(common.SESSION_COOKIE, secret=common.SECRET_KEY)
        data = json.loads(raw) if raw else {}
        data["count"] = int(data.get("count", 0)) + 1
        response.set_cookie(
            common.SESSION_COOKIE,
            json.dumps(data),
            secret=common.SECRET_KEY,
            httponly=True,
            path="/",
        )
        response.content_type = "text/plain; charset=utf-8"
        return common.session_text(data["count"])

    app.route("/", "GET", hello)
    app.route("/json", "GET", json_view)
    app.route("/users/<user_id:int>/posts/<slug>", "GET", params)
    app.route("/template", "GET", template_view)
    app.route("/form", "POST", form)
    app.route("/session", "GET", session)

    def make_route(index: int) -> t.Callable[[int], str]:
        def view(n: int) -> str:
            response.content_type = "text/plain; charset=utf-8"
            return common.route_text(index, n)

        return view

    for index in range(common.ROUTE_COUNT):
        prefix = common.route_rule_prefix(index)
        app.route(f"{prefix}/<n:int>", "GET", make_route(index))

    return t.cast(WSGIApp, app)
