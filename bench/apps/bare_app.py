"""The floor: every endpoint written directly against WSGI, no framework."""

from __future__ import annotations

import collections.abc as cabc
import json
import typing as t
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from apps import common
from apps import StartResponse
from apps import WSGIApp

_TEXT = [("Content-Type", "text/plain; charset=utf-8")]
_JSON = [("Content-Type", "application/json")]
_HTML = [("Content-Type", "text/html; charset=utf-8")]


def create(secret: bool) -> WSGIApp:
    """Return the bare WSGI app; ``secret`` is accepted for symmetry and ignored."""
    template = common.jinja_environment().get_template(common.TEMPLATE_NAME)
    codec = common.SessionCodec()
    route_count = common.ROUTE_COUNT

    def respond(
        start_response: StartResponse,
        body: bytes,
        headers: list[tuple[str, str]],
        status: str = "200 OK",
    ) -> list[bytes]:
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def hello(environ: dict[str, t.Any], sr: StartResponse) -> list[bytes]:
        return respond(sr, common.HELLO_TEXT.encode(), _TEXT)

    def json_view(environ: dict[str, t.Any], sr: StartResponse) -> list[bytes]:
        return respond(sr, json.dumps(common.JSON_PAYLOAD).encode(), _JSON)

    def template_view(environ: dict[str, t.Any], sr: StartResponse) -> list[bytes]:
        html = template.render(common.template_context())
        return respond(sr, html.encode(), _HTML)

    def form(environ: dict[str, t.Any], sr: StartResponse) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return respond(sr, b"method not allowed", _TEXT, "405 Method Not Allowed")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length).decode("latin-1")
        fields = dict(parse_qsl(raw, keep_blank_values=True))
        body = json.dumps(common.form_result(fields)).encode()
        return respond(sr, body, _JSON)

    def session(environ: dict[str, t.Any], sr: StartResponse) -> list[bytes]:
        cookie: SimpleCookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        morsel = cookie.get(common.SESSION_COOKIE)
        data = codec.load(morsel.value if morsel is not None else None)
        data["count"] = int(data.get("count", 0)) + 1
        set_cookie = f"{common.SESSION_COOKIE}={codec.dump(data)}; HttpOnly; Path=/"
        headers = [*_TEXT, ("Set-Cookie", set_cookie)]
        return respond(sr, common.session_text(data["count"]).encode(), headers)

    static: dict[str, cabc.Callable[[dict[str, t.Any], StartResponse], list[bytes]]]
    static = {
        "/": hello,
        "/json": json_view,
        "/template": template_view,
        "/form": form,
        "/session": session,
    }

    def dynamic(path: str, sr: StartResponse) -> list[bytes] | None:
        parts = path.split("/")
        if len(parts) == 5 and parts[1] == "users" and parts[3] == "posts":
            if parts[2].isdigit() and parts[4]:
                data = {"user_id": int(parts[2]), "slug": parts[4]}
                return respond(sr, json.dumps(data).encode(), _JSON)
        if len(parts) == 5 and parts[1] == "r" and parts[3] == "item":
            if parts[2].isdigit() and parts[4].isdigit():
                index = int(parts[2])
                if index < route_count:
                    text = common.route_text(index, int(parts[4]))
                    return respond(sr, text.encode(), _TEXT)
        return None

    def app(environ: dict[str, t.Any], start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO") or "/"
        view = static.get(path)
        if view is not None:
            return view(environ, start_response)
        result = dynamic(path, start_response)
        if result is not None:
            return result
        return respond(start_response, b"not found", _TEXT, "404 Not Found")

    return app
