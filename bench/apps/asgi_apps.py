"""The ASGI apps: erlen's ASGI entry beside the Werkzeug floor, Starlette, FastAPI and Quart.

Each ``create_<name>()`` returns an ASGI 3 app with endpoints for hello, json,
params, routes1/routes1000, form and session (the same responses as the WSGI
apps, checked by the same :mod:`apps.common` checks) and, except the apps in
:data:`NO_WEBSOCKET`, a WebSocket echo at ``/ws``. The session is each
framework's own signed cookie (Starlette's and FastAPI's ``SessionMiddleware``;
``common.SessionCodec`` for Werkzeug), keyed with ``common.SECRET_KEY``: read one
counter, write it back, send the cookie. ``uvicorn apps.asgi_apps:app`` serves the one named by
``BENCH_ASGI_APP``.
"""

# No ``from __future__ import annotations``: FastAPI reads the annotations.

import os
import typing as t

from apps import common

ASGI_APPS = ("werkzeug", "erlen", "starlette", "fastapi", "quart")
# Apps without the WebSocket echo: their ``ws echo`` cells are ``n/a``.
NO_WEBSOCKET = frozenset({"werkzeug"})


def create_werkzeug() -> t.Any:
    """Werkzeug alone under ASGI: the floor for a framework on its Request/Response/Map.

    Per request: the body read from ``receive``, ``erlen.asgi.build_environ``,
    a ``Request``, the ``Map`` bound and matched, a plain view returning a
    ``Response``, whose ``get_wsgi_response`` is sent as ASGI messages.
    """
    import json

    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import Map
    from werkzeug.routing import Rule
    from werkzeug.wrappers import Request
    from werkzeug.wrappers import Response

    from erlen.asgi import build_environ

    codec = common.SessionCodec()

    def hello(request: Request) -> Response:
        return Response(common.HELLO_TEXT, mimetype="text/html")

    def json_(request: Request) -> Response:
        return Response(json.dumps(common.JSON_PAYLOAD), mimetype="application/json")

    def params(request: Request, user_id: int, slug: str) -> Response:
        data = {"user_id": user_id, "slug": slug}
        return Response(json.dumps(data), mimetype="application/json")

    def form(request: Request) -> Response:
        body = json.dumps(common.form_result(request.form.to_dict()))
        return Response(body, mimetype="application/json")

    def session(request: Request) -> Response:
        data = codec.load(request.cookies.get(common.SESSION_COOKIE))
        data["count"] = int(data.get("count", 0)) + 1
        response = Response(common.session_text(data["count"]), mimetype="text/html")
        cookie = codec.dump(data)
        response.set_cookie(
            common.SESSION_COOKIE, cookie, httponly=True, samesite="Lax"
        )
        return response

    def make_route(i: int) -> t.Callable[..., Response]:
        def route(request: Request, n: int) -> Response:
            return Response(common.route_text(i, n), mimetype="text/html")

        return route

    views: dict[str, t.Callable[..., Response]] = {
        "hello": hello,
        "json": json_,
        "params": params,
        "form": form,
        "session": session,
    }
    rules = [
        Rule("/", endpoint="hello"),
        Rule("/json", endpoint="json"),
        Rule("/users/<int:user_id>/posts/<slug>", endpoint="params"),
        Rule("/form", endpoint="form", methods=["POST"]),
        Rule("/session", endpoint="session"),
    ]
    for i in range(common.ROUTE_COUNT):
        views[f"r{i}"] = make_route(i)
        rules.append(Rule(f"{common.route_rule_prefix(i)}/<int:n>", endpoint=f"r{i}"))
    url_map = Map(rules)

    async def app(scope: dict[str, t.Any], receive: t.Any, send: t.Any) -> None:
        if scope["type"] == "websocket":  # no WebSocket support: refuse it
            await receive()
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":  # lifespan: nothing to start
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        environ = build_environ(scope, b"".join(chunks))
        request = Request(environ)
        try:
            endpoint, args = url_map.bind_to_environ(environ).match()
            response = views[endpoint](request, **args)
        except HTTPException as e:
            response = e.get_response(environ)
        app_iter, status, headers = response.get_wsgi_response(environ)
        try:
            body = b"".join(app_iter)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        await send(
            {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in headers
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def create_erlen() -> t.Any:
    import erlen

    app = erlen.Erlen("bench_asgi")
    app.config["SECRET_KEY"] = common.SECRET_KEY

    @app.get("/")
    async def hello() -> str:
        return common.HELLO_TEXT

    @app.get("/json")
    async def json_() -> dict[str, t.Any]:
        return common.JSON_PAYLOAD

    @app.get("/users/<int:user_id>/posts/<slug>")
    async def params(user_id: int, slug: str) -> dict[str, t.Any]:
        return {"user_id": user_id, "slug": slug}

    @app.post("/form")
    async def form() -> dict[str, t.Any]:
        return common.form_result(erlen.request.form.to_dict())

    @app.get("/session")
    async def session() -> str:
        count = int(erlen.session.get("count", 0)) + 1
        erlen.session["count"] = count
        return common.session_text(count)

    for i in range(common.ROUTE_COUNT):

        async def route(n: int, i: int = i) -> str:
            return common.route_text(i, n)

        app.add_url_rule(f"{common.route_rule_prefix(i)}/<int:n>", f"route{i}", route)

    @app.websocket("/ws")
    async def ws() -> None:
        while True:
            await erlen.websocket.send(await erlen.websocket.receive())

    return app


def create_starlette() -> t.Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket
    from starlette.websockets import WebSocketDisconnect

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(common.HELLO_TEXT, media_type="text/html")

    async def json_(request: Request) -> JSONResponse:
        return JSONResponse(common.JSON_PAYLOAD)

    async def params(request: Request) -> JSONResponse:
        p = request.path_params
        return JSONResponse({"user_id": p["user_id"], "slug": p["slug"]})

    async def form(request: Request) -> JSONResponse:
        data = await request.form()
        return JSONResponse(common.form_result({k: str(v) for k, v in data.items()}))

    async def session(request: Request) -> PlainTextResponse:
        count = int(request.session.get("count", 0)) + 1
        request.session["count"] = count
        return PlainTextResponse(common.session_text(count))

    def make_route(i: int) -> t.Any:
        async def route(request: Request) -> PlainTextResponse:
            return PlainTextResponse(
                common.route_text(i, request.path_params["n"]), media_type="text/html"
            )

        return route

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            pass

    routes = [
        Route("/", hello),
        Route("/json", json_),
        Route("/users/{user_id:int}/posts/{slug}", params),
        Route("/form", form, methods=["POST"]),
        Route("/session", session),
        WebSocketRoute("/ws", ws),
        *(
            Route(f"{common.route_rule_prefix(i)}/{{n:int}}", make_route(i))
            for i in range(common.ROUTE_COUNT)
        ),
    ]
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=common.SECRET_KEY,
            session_cookie=common.SESSION_COOKIE,
        )
    ]
    return Starlette(routes=routes, middleware=middleware)


def create_fastapi() -> t.Any:
    from fastapi import FastAPI
    from fastapi import Request
    from fastapi import WebSocket
    from fastapi import WebSocketDisconnect
    from fastapi.responses import HTMLResponse
    from fastapi.responses import PlainTextResponse
    from starlette.middleware.sessions import SessionMiddleware

    app = FastAPI()
    app.add_middleware(
        SessionMiddleware,
        secret_key=common.SECRET_KEY,
        session_cookie=common.SESSION_COOKIE,
    )

    @app.get("/", response_class=HTMLResponse)
    async def hello() -> str:
        return common.HELLO_TEXT

    @app.get("/json")
    async def json_() -> dict[str, t.Any]:
        return common.JSON_PAYLOAD

    @app.get("/users/{user_id}/posts/{slug}")
    async def params(user_id: int, slug: str) -> dict[str, t.Any]:
        return {"user_id": user_id, "slug": slug}

    @app.post("/form")
    async def form(request: Request) -> dict[str, t.Any]:
        data = await request.form()
        return common.form_result({k: str(v) for k, v in data.items()})

    @app.get("/session", response_class=PlainTextResponse)
    async def session(request: Request) -> str:
        count = int(request.session.get("count", 0)) + 1
        request.session["count"] = count
        return common.session_text(count)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnect:
            pass

    for i in range(common.ROUTE_COUNT):

        async def route(n: int, i: int = i) -> HTMLResponse:
            return HTMLResponse(common.route_text(i, n))

        app.add_api_route(f"{common.route_rule_prefix(i)}/{{n}}", route)
    return app


def create_quart() -> t.Any:
    import quart

    app = quart.Quart("bench_quart")
    app.secret_key = common.SECRET_KEY

    @app.get("/")
    async def hello() -> str:
        return common.HELLO_TEXT

    @app.get("/json")
    async def json_() -> dict[str, t.Any]:
        return common.JSON_PAYLOAD

    @app.get("/users/<int:user_id>/posts/<slug>")
    async def params(user_id: int, slug: str) -> dict[str, t.Any]:
        return {"user_id": user_id, "slug": slug}

    @app.post("/form")
    async def form() -> dict[str, t.Any]:
        return common.form_result((await quart.request.form).to_dict())

    @app.get("/session")
    async def session() -> str:
        count = int(quart.session.get("count", 0)) + 1
        quart.session["count"] = count
        return common.session_text(count)

    @app.websocket("/ws")
    async def ws() -> None:
        while True:
            await quart.websocket.send(await quart.websocket.receive())

    for i in range(common.ROUTE_COUNT):

        async def route(n: int, i: int = i) -> str:
            return common.route_text(i, n)

        app.add_url_rule(f"{common.route_rule_prefix(i)}/<int:n>", f"route{i}", route)
    return app


def create(name: str) -> t.Any:
    """Build the ASGI app ``name`` (one of :data:`ASGI_APPS`)."""
    return globals()[f"create_{name}"]()


def __getattr__(name: str) -> t.Any:
    if name == "app":
        return create(os.environ["BENCH_ASGI_APP"])
    raise AttributeError(name)
