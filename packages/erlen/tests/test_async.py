"""Async views, hooks, handlers and signal receivers (run through asgiref)."""

from __future__ import annotations

import asyncio
import sys
import typing as t

import pytest

import erlen
from erlen.views import MethodView
from erlen.views import View

pytest.importorskip("asgiref")


class AppError(Exception):
    pass


class BlueprintError(Exception):
    pass


@pytest.fixture
def async_app(app: erlen.Erlen) -> erlen.Erlen:
    @app.route("/", methods=["GET", "POST"])
    async def index() -> str:
        await asyncio.sleep(0)
        return erlen.request.method

    @app.errorhandler(AppError)
    async def handle(e: AppError) -> tuple[str, int]:
        return "app error", 418

    @app.route("/error")
    async def error() -> str:
        raise AppError()

    bp = erlen.Blueprint("bp", __name__)

    @bp.route("/bp", methods=["GET", "POST"])
    async def bp_index() -> str:
        return erlen.request.method

    @bp.errorhandler(BlueprintError)
    async def bp_handle(e: BlueprintError) -> str:
        return "bp error"

    @bp.route("/bp/error")
    async def bp_error() -> str:
        raise BlueprintError()

    app.register_blueprint(bp)

    class Methods(MethodView):
        async def get(self) -> str:
            return "GET"

        async def post(self) -> str:
            return "POST"

    app.add_url_rule("/methods", view_func=Methods.as_view("methods"))

    class Plain(View):
        methods = ["GET"]

        async def dispatch_request(self) -> str:  # type: ignore[override]
            return "plain"

    app.add_url_rule("/plain", view_func=Plain.as_view("plain"))
    return app


@pytest.mark.parametrize("path", ["/", "/bp", "/methods"])
def test_async_views(async_app: erlen.Erlen, path: str) -> None:
    client = async_app.test_client()
    assert client.get(path).data == b"GET"
    assert client.post(path).data == b"POST"


def test_async_view_class(async_app: erlen.Erlen) -> None:
    assert async_app.test_client().get("/plain").data == b"plain"


def test_async_error_handlers(async_app: erlen.Erlen) -> None:
    client = async_app.test_client()
    rv = client.get("/error")
    assert rv.status_code == 418
    assert rv.data == b"app error"
    assert client.get("/bp/error").data == b"bp error"


def test_async_hooks(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    events: list[str] = []

    @app.before_request
    async def before() -> None:
        erlen.g.before = True
        events.append("before")

    @app.after_request
    async def after(response: erlen.Response) -> erlen.Response:
        response.headers["X-After"] = "yes"
        events.append("after")
        return response

    @app.teardown_request
    async def teardown_request(exc: BaseException | None) -> None:
        events.append("teardown_request")

    @app.teardown_appcontext
    async def teardown_appcontext(exc: BaseException | None) -> None:
        events.append("teardown_appcontext")

    @app.route("/")
    async def index() -> str:
        return str(erlen.g.before)

    rv = client.get("/")
    assert rv.data == b"True"
    assert rv.headers["X-After"] == "yes"
    assert events == ["before", "after", "teardown_request", "teardown_appcontext"]


def test_async_before_request_short_circuits(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.before_request
    async def before() -> str:
        return "stopped"

    @app.route("/")
    async def index() -> str:
        return "view"

    assert client.get("/").data == b"stopped"


def test_async_after_this_request(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    async def index() -> str:
        @erlen.after_this_request
        async def add(response: erlen.Response) -> erlen.Response:
            response.headers["X-Once"] = "1"
            return response

        return ""

    assert client.get("/").headers["X-Once"] == "1"


def test_async_context_processor(app: erlen.Erlen) -> None:
    @app.context_processor
    async def values() -> dict[str, str]:
        return {"word": "async"}

    with app.test_request_context():
        assert erlen.render_template_string("{{ word }}") == "async"


def test_async_signal_receivers(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    received: list[str] = []

    async def started(sender: erlen.Erlen, **kw: t.Any) -> None:
        await asyncio.sleep(0)
        received.append(f"started {erlen.request.path}")

    async def finished(
        sender: erlen.Erlen, response: erlen.Response, **kw: t.Any
    ) -> None:
        received.append(f"finished {response.status_code}")

    @app.route("/")
    def index() -> str:
        return ""

    with (
        erlen.request_started.connected_to(started, app),
        erlen.request_finished.connected_to(finished, app),
    ):
        client.get("/")
    assert received == ["started /", "finished 200"]


def test_async_flash_receiver(app: erlen.Erlen) -> None:
    received: list[tuple[str, str]] = []

    async def flashed(sender: erlen.Erlen, message: str, category: str) -> None:
        received.append((message, category))

    with erlen.message_flashed.connected_to(flashed, app):
        with app.test_request_context():
            erlen.flash("hi", "info")
    assert received == [("hi", "info")]


def test_ensure_sync(app: erlen.Erlen) -> None:
    def sync_func() -> int:
        return 1

    async def async_func() -> int:
        return 2

    assert app.ensure_sync(sync_func) is sync_func
    wrapped = app.ensure_sync(async_func)
    assert wrapped is not async_func
    assert wrapped() == 2


@pytest.mark.wsgi_only("under ASGI async views need no asgiref")
def test_missing_asgiref_message(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "asgiref.sync", None)

    @app.route("/")
    async def index() -> str:
        return ""

    with pytest.raises(RuntimeError, match="'async' extra"):
        app.test_client().get("/")

    async def func() -> None:
        pass

    with pytest.raises(RuntimeError, match=r"erlen\[async\]"):
        app.ensure_sync(func)


def test_async_view_streams_with_context(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    async def index() -> erlen.Response:
        @erlen.stream_with_context
        def generate() -> t.Iterator[str]:
            yield erlen.request.args["a"]
            yield erlen.g.get("value", "none")

        erlen.g.value = "g"
        return erlen.Response(generate())

    assert client.get("/?a=1").data == b"1g"


def test_async_stream_template(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    async def index() -> erlen.Response:
        return erlen.Response(erlen.stream_template_string("{{ request.path }}"))

    assert client.get("/").data == b"/"
