"""Werkzeug alone: its Request, Response and a routing Map, no application object."""

from __future__ import annotations

import json
import typing as t

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.routing import Rule
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from apps import common
from apps import StartResponse
from apps import WSGIApp

View = t.Callable[..., Response]


def create(secret: bool) -> WSGIApp:
    """Return the Werkzeug app; ``secret`` is accepted for symmetry and ignored."""
    template = common.jinja_environment().get_template(common.TEMPLATE_NAME)
    codec = common.SessionCodec()

    def hello(request: Request) -> Response:
        return Response(common.HELLO_TEXT)

    def json_view(request: Request) -> Response:
        return Response(json.dumps(common.JSON_PAYLOAD), mimetype="application/json")

    def params(request: Request, user_id: int, slug: str) -> Response:
        data = {"user_id": user_id, "slug": slug}
        return Response(json.dumps(data), mimetype="application/json")

    def template_view(request: Request) -> Response:
        html = template.render(common.template_context())
        return Response(html, mimetype="text/html")

    def form(request: Request) -> Response:
        body = json.dumps(common.form_result(request.form.to_dict()))
        return Response(body, mimetype="application/json")

    def session(request: Request) -> Response:
        data = codec.load(request.cookies.get(common.SESSION_COOKIE))
        data["count"] = int(data.get("count", 0)) + 1
        response = Response(common.session_text(data["count"]))
        response.set_cookie(common.SESSION_COOKIE, codec.dump(data), httponly=True)
        return response

    def make_route(index: int) -> View:
        def view(request: Request, n: int) -> Response:
            return Response(common.route_text(index, n))

        return view

    views: dict[str, View] = {
        "hello": hello,
        "json": json_view,
        "params": params,
        "template": template_view,
        "form": form,
        "session": session,
    }
    rules = [
        Rule("/", endpoint="hello"),
        Rule("/json", endpoint="json"),
        Rule("/users/<int:user_id>/posts/<slug>", endpoint="params"),
        Rule("/template", endpoint="template"),
        Rule("/form", endpoint="form", methods=["POST"]),
        Rule("/session", endpoint="session"),
    ]
    for index in range(common.ROUTE_COUNT):
        endpoint = f"r{index}"
        views[endpoint] = make_route(index)
        prefix = common.route_rule_prefix(index)
        rules.append(Rule(f"{prefix}/<int:n>", endpoint=endpoint))
    url_map = Map(rules)

    def app(environ: dict[str, t.Any], start_response: StartResponse) -> t.Any:
        request = Request(environ)
        adapter = url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            response = views[endpoint](request, **args)
        except HTTPException as e:
            return e(environ, start_response)
        return response(environ, start_response)

    return app
