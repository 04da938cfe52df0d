"""Falcon, with an itsdangerous-signed cookie for the session endpoint."""

from __future__ import annotations

import typing as t

import falcon

from apps import common
from apps import WSGIApp


class _Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = common.HELLO_TEXT


class _Json:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = common.JSON_PAYLOAD


class _Params:
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, user_id: int, slug: str
    ) -> None:
        resp.media = {"user_id": user_id, "slug": slug}


class _Template:
    def __init__(self) -> None:
        self.template = common.jinja_environment().get_template(common.TEMPLATE_NAME)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.template.render(common.template_context())


class _Form:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = common.form_result(req.get_media())


class _Session:
    def __init__(self) -> None:
        self.codec = common.SessionCodec()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = self.codec.load(req.cookies.get(common.SESSION_COOKIE))
        data["count"] = int(data.get("count", 0)) + 1
        resp.set_cookie(
            common.SESSION_COOKIE,
            self.codec.dump(data),
            secure=False,
            http_only=True,
            path="/",
        )
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = common.session_text(data["count"])


class _Route:
    def __init__(self, index: int) -> None:
        self.index = index

    def on_get(self, req: falcon.Request, resp: falcon.Response, n: int) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = common.route_text(self.index, n)


def create(secret: bool) -> WSGIApp:
    """Return the Falcon app; ``secret`` is accepted for symmetry and ignored."""
    app = falcon.App()
    app.add_route("/", _Hello())
    app.add_route("/json", _Json())
    app.add_route("/users/{user_id:int}/posts/{slug}", _Params())
    app.add_route("/template", _Template())
    app.add_route("/form", _Form())
    app.add_route("/session", _Session())
    for index in range(common.ROUTE_COUNT):
        app.add_route(f"{common.route_rule_prefix(index)}/{{n:int}}", _Route(index))
    return t.cast(WSGIApp, app)
