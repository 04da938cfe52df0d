"""Helpers views call: ``url_for``, ``redirect``, ``abort``, ``flash``, files, streaming."""

from __future__ import annotations

import io
import os
import sys
import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from pathlib import Path

import pytest
import werkzeug
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import NotFound
from werkzeug.routing import BuildError

import erlen
from erlen.helpers import get_root_path

HERE = Path(__file__).parent
STATIC_TEXT = (HERE / "static" / "b_hello.txt").read_bytes()


# -- url_for -------------------------------------------------------------------


@pytest.fixture
def url_app(app: erlen.Erlen) -> erlen.Erlen:
    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/item/<int:id>", methods=["GET"])
    def item_get(id: int) -> str:
        return ""

    @app.route("/item/<int:id>", methods=["POST"], endpoint="item_post")
    def item_post_view(id: int) -> str:
        return ""

    @app.route("/post-only", methods=["POST"])
    def post_only() -> str:
        return ""

    @app.route("/put-only", methods=["PUT"])
    def put_only() -> str:
        return ""

    return app


def test_url_for_basic(url_app: erlen.Erlen) -> None:
    with url_app.test_request_context():
        assert erlen.url_for("index") == "/"
        assert erlen.url_for("item_get", id=3) == "/item/3"
        assert erlen.url_for("index", q="a b", n=[1, 2]) == "/?q=a+b&n=1&n=2"
        assert erlen.url_for("index", skip=None) == "/"


def test_url_for_external_and_scheme(url_app: erlen.Erlen) -> None:
    with url_app.test_request_context():
        assert erlen.url_for("index", _external=True) == "http://localhost/"
        assert (
            erlen.url_for("index", _external=True, _scheme="https")
            == "https://localhost/"
        )
        assert erlen.url_for("index", _scheme="https") == "https://localhost/"
        with pytest.raises(ValueError, match="_external"):
            erlen.url_for("index", _scheme="https", _external=False)


def test_url_for_anchor(url_app: erlen.Erlen) -> None:
    with url_app.test_request_context():
        assert erlen.url_for("index", _anchor="sec 1") == "/#sec%201"
        assert erlen.url_for("index", _anchor="a/b?c=d&e") == "/#a/b?c=d&e"
        assert erlen.url_for("index", _anchor="é<>") == "/#%C3%A9%3C%3E"
        assert erlen.url_for("index", _anchor="x%20") == "/#x%20"
        assert erlen.url_for("index", _anchor="it's") == "/#it's"


def test_url_for_method(url_app: erlen.Erlen) -> None:
    with url_app.test_request_context():
        assert erlen.url_for("post_only", _method="POST") == "/post-only"
        assert erlen.url_for("item_post", id=2, _method="POST") == "/item/2"
        with pytest.raises(BuildError):
            erlen.url_for("put_only", _method="GET")


def test_url_for_blueprint_relative(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/")
    def index() -> str:
        return erlen.url_for(".other")

    @bp.route("/other")
    def other() -> str:
        return erlen.url_for("index")

    @app.route("/")
    def index_app() -> str:
        return erlen.url_for(".index_app")

    app.add_url_rule("/", "index", index_app)
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/bp/").data == b"/bp/other"
    assert client.get("/bp/other").data == b"/"
    with app.test_request_context():
        assert erlen.url_for(".index_app") == "/"
        assert erlen.url_for("bp.index") == "/bp/"


def test_url_for_outside_request_without_server_name(url_app: erlen.Erlen) -> None:
    with url_app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            erlen.url_for("index")
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen.url_for("index")


def test_url_for_outside_request_with_server_name(url_app: erlen.Erlen) -> None:
    url_app.config.update(
        SERVER_NAME="example.test:8080",
        APPLICATION_ROOT="/app",
        PREFERRED_URL_SCHEME="https",
    )
    with url_app.app_context():
        assert erlen.url_for("index") == "https://example.test:8080/app/"
        assert erlen.url_for("item_get", id=1) == "https://example.test:8080/app/item/1"
        assert url_app.url_for("index", _external=False) == "/app/"


def test_url_build_error_handlers(url_app: erlen.Erlen) -> None:
    seen: list[tuple[str, dict[str, t.Any]]] = []

    def handler(error: BuildError, endpoint: str, values: dict[str, t.Any]) -> str:
        seen.append((endpoint, dict(values)))
        if endpoint == "elsewhere":
            return "https://elsewhere.test/"
        raise error

    url_app.url_build_error_handlers.append(handler)
    with url_app.test_request_context():
        assert erlen.url_for("elsewhere", x=1) == "https://elsewhere.test/"
        with pytest.raises(BuildError):
            erlen.url_for("nowhere")
    assert seen[0][0] == "elsewhere"
    assert seen[0][1]["x"] == 1
    assert seen[1][0] == "nowhere"


def test_url_build_error_without_handlers(url_app: erlen.Erlen) -> None:
    with url_app.test_request_context():
        with pytest.raises(BuildError):
            erlen.url_for("missing")
        with pytest.raises(BuildError):
            erlen.url_for("item_get")


def test_url_defaults(app: erlen.Erlen) -> None:
    @app.route("/<lang>/page")
    def page() -> str:
        return erlen.url_for("page")

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = erlen.g.lang

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        erlen.g.lang = values.pop("lang") if values else None

    client = app.test_client()
    assert client.get("/de/page").data == b"/de/page"
    with app.test_request_context():
        erlen.g.lang = "fr"
        assert erlen.url_for("page") == "/fr/page"
        assert erlen.url_for("page", lang="it") == "/it/page"


def test_blueprint_url_defaults(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/<lang>")

    @bp.route("/")
    def index(lang: str) -> str:
        return erlen.url_for(".index")

    @bp.url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang", "en")

    app.register_blueprint(bp)
    with app.test_request_context():
        assert erlen.url_for("bp.index") == "/en/"
    assert app.test_client().get("/de/").data == b"/en/"


# -- redirect and abort ----------------------------------------------------------


def test_redirect(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return erlen.redirect("/target")

    @app.route("/perm")
    def perm() -> t.Any:
        return erlen.redirect("/target", code=301)

    @app.route("/see")
    def see() -> t.Any:
        return erlen.redirect(erlen.url_for("index"), 303)

    rv = client.get("/")
    assert rv.status_code == 302
    assert rv.location == "/target"
    assert client.get("/perm").status_code == 301
    rv = client.get("/see")
    assert rv.status_code == 303
    assert rv.location == "/"


def test_redirect_uses_app_response_class(app: erlen.Erlen) -> None:
    class MyResponse(erlen.Response):
        pass

    app.response_class = MyResponse
    with app.app_context():
        rv = erlen.redirect("/x")
        assert isinstance(rv, MyResponse)

    rv = erlen.redirect("/y")
    assert isinstance(rv, werkzeug.Response)
    assert rv.status_code == 302


def test_redirect_delegates_to_app_redirect(app: erlen.Erlen) -> None:
    class MyApp(erlen.Erlen):
        def redirect(self, location: str, code: int = 302) -> t.Any:
            return super().redirect(location + "?via=app", code=307)

    my_app = MyApp("my")
    with my_app.app_context():
        rv = erlen.redirect("/x")
    assert rv.location == "/x?via=app"
    assert rv.status_code == 307


def test_abort(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/403")
    def forbidden() -> str:
        erlen.abort(403)

    @app.route("/custom")
    def custom() -> str:
        erlen.abort(erlen.Response("teapot", status=418))

    @app.route("/described")
    def described() -> str:
        erlen.abort(404, description="No such thing")

    assert client.get("/403").status_code == 403
    rv = client.get("/custom")
    assert rv.status_code == 418
    assert rv.data == b"teapot"
    rv = client.get("/described")
    assert rv.status_code == 404
    assert b"No such thing" in rv.data


def test_abort_outside_app_context() -> None:
    with pytest.raises(Forbidden):
        erlen.abort(403)


def test_abort_uses_app_aborter(app: erlen.Erlen) -> None:
    class Gone(Exception):
        pass

    def aborter(code: int, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise Gone(code)

    app.aborter = aborter  # type: ignore[assignment]
    with app.app_context():
        with pytest.raises(Gone):
            erlen.abort(410)


# -- flashing --------------------------------------------------------------------


def test_flash_and_get(app: erlen.Erlen) -> None:
    with app.test_request_context():
        erlen.flash("plain")
        erlen.flash("careful", "warning")
        erlen.flash("bad", category="error")
        # Messages flashed in this request are read by the next one; here the
        # session holds them.
        assert erlen.session["_flashes"] == [
            ("message", "plain"),
            ("warning", "careful"),
            ("error", "bad"),
        ]
        assert erlen.get_flashed_messages() == ["plain", "careful", "bad"]
        # Repeated calls in the same request agree.
        assert erlen.get_flashed_messages(with_categories=True) == [
            ("message", "plain"),
            ("warning", "careful"),
            ("error", "bad"),
        ]
        assert erlen.get_flashed_messages(category_filter=["error", "warning"]) == [
            "careful",
            "bad",
        ]
        assert erlen.get_flashed_messages(
            with_categories=True, category_filter=["error"]
        ) == [("error", "bad")]
        assert "_flashes" not in erlen.session


def test_flashes_survive_redirect(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> t.Any:
        erlen.flash("Saved!", "success")
        return erlen.redirect(erlen.url_for("show"))

    @app.route("/show")
    def show() -> str:
        msgs = erlen.get_flashed_messages(with_categories=True)
        return "|".join(f"{c}:{m}" for c, m in msgs)

    rv = client.get("/", follow_redirects=True)
    assert rv.data == b"success:Saved!"
    assert client.get("/show").data == b""


def test_flash_in_template(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/set")
    def set_() -> str:
        erlen.flash("<b>hi</b>")
        return ""

    @app.route("/show")
    def show() -> str:
        return erlen.render_template_string(
            "{% for m in get_flashed_messages() %}[{{ m }}]{% endfor %}"
        )

    client.get("/set")
    assert client.get("/show").data == b"[&lt;b&gt;hi&lt;/b&gt;]"


def test_message_flashed_signal(app: erlen.Erlen) -> None:
    recorded: list[tuple[t.Any, str, str]] = []

    def record(sender: t.Any, message: str, category: str, **kw: t.Any) -> None:
        recorded.append((sender, message, category))

    with erlen.message_flashed.connected_to(record, app):
        with app.test_request_context():
            erlen.flash("hello", "info")
    assert recorded == [(app, "hello", "info")]


# -- send_file and send_from_directory ---------------------------------------------


def test_send_file_relative_to_root(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt")

    rv = client.get("/")
    assert rv.status_code == 200
    assert rv.data == STATIC_TEXT
    assert rv.mimetype == "text/plain"
    assert rv.headers["Content-Length"] == str(len(STATIC_TEXT))
    assert rv.headers["ETag"]
    assert rv.last_modified is not None
    assert "max-age" not in rv.headers.get("Cache-Control", "")
    rv.close()


def test_send_file_uses_app_response_class(app: erlen.Erlen) -> None:
    class MyResponse(erlen.Response):
        pass

    app.response_class = MyResponse
    with app.test_request_context():
        rv = erlen.send_file("static/b_hello.txt")
        assert isinstance(rv, MyResponse)
        rv.close()


def test_send_file_object(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file(
            io.BytesIO(b"raw bytes"), mimetype="application/octet-stream"
        )

    @app.route("/named")
    def named() -> erlen.Response:
        return erlen.send_file(io.BytesIO(b"a,b"), download_name="data.csv")

    rv = client.get("/")
    assert rv.data == b"raw bytes"
    assert rv.mimetype == "application/octet-stream"
    rv = client.get("/named")
    assert rv.data == b"a,b"
    assert rv.mimetype == "text/csv"

    with app.test_request_context():
        with pytest.raises(TypeError, match="MIME type"):
            erlen.send_file(io.BytesIO(b"?"))


def test_send_file_as_attachment(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt", as_attachment=True)

    @app.route("/named")
    def named() -> erlen.Response:
        return erlen.send_file(
            "static/b_hello.txt", as_attachment=True, download_name="Grüße.txt"
        )

    rv = client.get("/")
    assert rv.headers["Content-Disposition"] == "attachment; filename=b_hello.txt"
    rv.close()
    rv = client.get("/named")
    disposition = rv.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt" in disposition
    rv.close()


def test_send_file_conditional_etag(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt")

    rv = client.get("/")
    etag = rv.headers["ETag"]
    rv.close()
    with client.get("/", headers={"If-None-Match": etag}) as rv:
        assert rv.status_code == 304
        assert rv.data == b""
    with client.get("/", headers={"If-None-Match": '"other"'}) as rv:
        assert rv.status_code == 200


def test_send_file_conditional_last_modified(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt", etag=False)

    rv = client.get("/")
    last_modified = rv.headers["Last-Modified"]
    rv.close()
    with client.get("/", headers={"If-Modified-Since": last_modified}) as rv:
        assert rv.status_code == 304
        assert "ETag" not in rv.headers
    past = datetime(2000, 1, 1, tzinfo=timezone.utc)
    since = past.strftime("%a, %d %b %Y %H:%M:%S GMT")
    with client.get("/", headers={"If-Modified-Since": since}) as rv:
        assert rv.status_code == 200


def test_send_file_not_conditional(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt", conditional=False)

    with client.get("/", headers={"Range": "bytes=0-4"}) as rv:
        assert rv.status_code == 200
        assert rv.data == STATIC_TEXT


def test_send_file_range(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt")

    rv = client.get("/", headers={"Range": "bytes=0-4"})
    assert rv.status_code == 206
    assert rv.data == STATIC_TEXT[:5]
    assert rv.headers["Content-Range"] == f"bytes 0-4/{len(STATIC_TEXT)}"
    rv.close()
    with client.get("/", headers={"Range": "bytes=1000-2000"}) as rv:
        assert rv.status_code == 416


def test_send_file_x_sendfile(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.config["USE_X_SENDFILE"] = True

    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt")

    with client.get("/") as rv:
        path = os.path.join(app.root_path, "static", "b_hello.txt")
        assert rv.headers["X-Sendfile"] == path
        assert rv.data == b""
        assert rv.mimetype == "text/plain"


def test_send_file_max_age(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600

    @app.route("/")
    def index() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt")

    @app.route("/explicit")
    def explicit() -> erlen.Response:
        return erlen.send_file("static/b_hello.txt", max_age=10)

    rv = client.get("/")
    assert rv.cache_control.max_age == 3600
    assert rv.cache_control.public
    rv.close()
    rv = client.get("/explicit")
    assert rv.cache_control.max_age == 10
    rv.close()


def test_send_file_max_age_hook(app: erlen.Erlen) -> None:
    class MyApp(erlen.Erlen):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 77 if filename and filename.endswith(".txt") else None

    my_app = MyApp("my", root_path=str(HERE))
    with my_app.test_request_context():
        rv = erlen.send_file("static/b_hello.txt")
        assert rv.cache_control.max_age == 77
        rv.close()


def test_send_from_directory(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/files/<path:name>")
    def files(name: str) -> erlen.Response:
        return erlen.send_from_directory("static", name)

    with client.get("/files/b_hello.txt") as rv:
        assert rv.data == STATIC_TEXT
    assert client.get("/files/missing.txt").status_code == 404
    assert client.get("/files/../conftest.py").status_code == 404
    assert client.get("/files/%2E%2E/conftest.py").status_code == 404
    with app.test_request_context():
        with pytest.raises(NotFound):
            erlen.send_from_directory("static", "../conftest.py")
        with pytest.raises(NotFound):
            erlen.send_from_directory(str(HERE / "static"), "/etc/passwd")
        rv = erlen.send_from_directory(HERE / "static", "b_hello.txt")
        assert rv.status_code == 200
        rv.close()


def test_send_from_directory_as_attachment(app: erlen.Erlen) -> None:
    with app.test_request_context():
        rv = erlen.send_from_directory("static", "b_hello.txt", as_attachment=True)
        assert rv.headers["Content-Disposition"].startswith("attachment")
        rv.close()


def test_static_route(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    with client.get("/static/b_hello.txt") as rv:
        assert rv.status_code == 200
        assert rv.data == STATIC_TEXT
        assert rv.cache_control.max_age is None
    assert client.get("/static/nope.txt").status_code == 404
    assert client.get("/static/../conftest.py").status_code == 404
    with app.test_request_context():
        assert erlen.url_for("static", filename="b_hello.txt") == "/static/b_hello.txt"


def test_static_route_max_age(app: erlen.Erlen) -> None:
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=2)
    with app.test_client().get("/static/b_hello.txt") as rv:
        assert rv.cache_control.max_age == 7200


def test_static_conditional(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    rv = client.get("/static/b_hello.txt")
    etag = rv.headers["ETag"]
    rv.close()
    with client.get("/static/b_hello.txt", headers={"If-None-Match": etag}) as rv:
        assert rv.status_code == 304


def test_send_file_outside_request(app: erlen.Erlen) -> None:
    with pytest.raises(RuntimeError, match="outside of"):
        erlen.send_file("static/b_hello.txt")


# -- stream_with_context -------------------------------------------------------------


def test_stream_with_context_generator(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        def generate() -> t.Iterator[str]:
            yield "Hello "
            yield erlen.request.args["name"]
            yield "!"
            yield erlen.current_app.name

        return erlen.Response(erlen.stream_with_context(generate()))

    assert client.get("/?name=World").data == b"Hello World!erlen_test"


def test_stream_with_context_decorator(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        @erlen.stream_with_context
        def generate(greeting: str) -> t.Iterator[str]:
            yield greeting
            yield erlen.request.args["name"]
            yield str(erlen.session.get("n"))

        erlen.session["n"] = 5
        return erlen.Response(generate("Hi "))

    assert client.get("/?name=Ann").data == b"Hi Ann5"


def test_stream_without_context_fails(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        def generate() -> t.Iterator[str]:
            yield erlen.request.args["name"]

        return erlen.Response(generate())

    with pytest.raises(RuntimeError, match="Working outside of request context"):
        client.get("/?name=x").data  # noqa: B018


def test_stream_with_context_teardown_after_stream(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    events: list[str] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    @app.route("/")
    def index() -> erlen.Response:
        def generate() -> t.Iterator[str]:
            events.append("start")
            yield erlen.request.path
            events.append("end")

        return erlen.Response(erlen.stream_with_context(generate()))

    assert client.get("/").data == b"/"
    assert events[-2:] == ["end", "teardown"]
    assert not erlen.has_request_context()


def test_stream_never_iterated_leaves_no_context(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    started: list[bool] = []

    @app.route("/")
    def index() -> str:
        def generate() -> t.Iterator[str]:
            started.append(True)
            yield "x"

        erlen.stream_with_context(generate())
        return "abandoned"

    assert client.get("/").data == b"abandoned"
    assert started == []
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_stream_closed_early_pops_contexts(app: erlen.Erlen) -> None:
    closed: list[bool] = []

    @app.route("/")
    def index() -> erlen.Response:
        def generate() -> t.Iterator[str]:
            try:
                yield "a"
                yield "b"
            finally:
                closed.append(True)

        return erlen.Response(erlen.stream_with_context(generate()))

    environ = werkzeug.test.EnvironBuilder("/").get_environ()
    app_iter = app(environ, lambda status, headers, exc_info=None: lambda data: None)
    iterator = iter(app_iter)
    assert next(iterator) == b"a"
    assert erlen.has_request_context()
    app_iter.close()  # type: ignore[attr-defined]
    assert closed == [True]
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_stream_with_context_outside_request() -> None:
    with pytest.raises(RuntimeError, match="request context"):
        erlen.stream_with_context(iter(["x"]))


# -- other helpers -------------------------------------------------------------------


def test_get_template_attribute(app: erlen.Erlen) -> None:
    with app.app_context():
        hello = erlen.get_template_attribute("b_macros.html", "hello")
        assert hello("World") == "Hello World!"
        assert erlen.get_template_attribute("b_macros.html", "answer") == 42


def test_make_response(app: erlen.Erlen) -> None:
    with app.test_request_context():
        rv = erlen.make_response()
        assert rv.status_code == 200
        assert rv.mimetype == "text/html"
        rv = erlen.make_response("Awesome", 404, {"X-A": "b"})
        assert rv.data == b"Awesome"
        assert rv.status_code == 404
        assert rv.headers["X-A"] == "b"
        rv = erlen.make_response(("tuple", 201))
        assert rv.status_code == 201
        rv = erlen.make_response({"a": 1})
        assert rv.json == {"a": 1}


def test_get_root_path() -> None:
    assert get_root_path(__name__) == str(HERE)
    assert get_root_path("erlen") == os.path.dirname(erlen.__file__)
    assert get_root_path("__main__") == os.getcwd() or os.path.isdir(
        get_root_path("__main__")
    )
    assert get_root_path("no_such_module_for_erlen_tests") == os.getcwd()


def test_url_for_value_named_self_or_endpoint(app: erlen.Erlen) -> None:
    @app.route("/<self>")
    def index(self: str) -> str:
        return ""

    with app.test_request_context():
        assert erlen.url_for("index", self="2") == "/2"
        assert app.url_for("index", self="3") == "/3"


def test_send_from_directory_null_character(app: erlen.Erlen) -> None:
    with app.test_request_context():
        with pytest.raises(NotFound):
            erlen.send_from_directory("static", "b_hello.txt\x00")


def test_stream_with_context_of_string(
    app: erlen.Erlen, req_ctx: erlen.ctx.RequestContext
) -> None:
    @app.route("/")
    def index() -> t.Any:
        return erlen.stream_with_context("hello")

    client = app.test_client()
    with client:
        rv = client.get("/")
        assert rv.data == b"hello"
    rv.close()
    assert erlen.globals.request_ctx._get_current_object() is req_ctx  # type: ignore[attr-defined]


def test_get_root_path_of_module_not_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "b_rootpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (tmp_path / "b_rootmod.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "b_rootpkg", raising=False)
    monkeypatch.delitem(sys.modules, "b_rootmod", raising=False)
    assert get_root_path("b_rootpkg") == str(package)
    assert get_root_path("b_rootmod") == str(tmp_path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, True),
        ("", True),
        ("1", False),
        ("true", False),
        ("0", True),
        ("no", True),
    ],
)
def test_get_load_dotenv(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    from erlen.helpers import get_load_dotenv

    if value is not None:
        monkeypatch.setenv("ERLEN_SKIP_DOTENV", value)
    assert get_load_dotenv() is expected
    if value is None:
        assert get_load_dotenv(False) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("1", True),
        ("yes", True),
        ("0", False),
        ("False", False),
    ],
)
def test_get_debug_flag(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    from erlen.helpers import get_debug_flag

    if value is not None:
        monkeypatch.setenv("ERLEN_DEBUG", value)
    assert get_debug_flag() is expected


def test_stream_with_context_tears_down_once_after_the_stream(
    app: erlen.Erlen,
) -> None:
    """g and request stay intact while the stream runs; teardown runs once, after."""
    events: list[str] = []

    @app.teardown_appcontext
    def close_resource(exc: BaseException | None) -> None:
        events.append(f"teardown_appcontext {erlen.g.get('resource')}")

    @app.teardown_request
    def end_request(exc: BaseException | None) -> None:
        events.append("teardown_request")

    @app.route("/stream", methods=["GET", "HEAD"])
    def stream() -> t.Any:
        erlen.g.resource = "open"

        @erlen.stream_with_context
        def rows() -> t.Iterator[str]:
            events.append("streaming")
            yield f"{erlen.g.resource} {erlen.request.args['q']}\n"
            yield "done\n"

        return rows()

    client = app.test_client()
    assert client.get("/stream?q=1").data == b"open 1\ndone\n"
    assert events == ["streaming", "teardown_request", "teardown_appcontext open"]

    # A stream that is never started (HEAD) still tears down, once.
    events.clear()
    response = client.head("/stream?q=1")
    response.close()
    assert response.data == b""
    assert events == ["teardown_request", "teardown_appcontext open"]


def test_stream_with_context_closed_midway_tears_down(app: erlen.Erlen) -> None:
    events: list[str] = []

    @app.teardown_appcontext
    def record(exc: BaseException | None) -> None:
        events.append("teardown")

    @app.get("/stream")
    def stream() -> t.Any:
        def rows() -> t.Iterator[str]:
            try:
                yield "a"
                yield "b"
            finally:
                events.append("generator closed")

        return erlen.stream_with_context(rows())

    response = app.test_client().get("/stream", buffered=False)
    assert next(iter(response.response)) == b"a"
    response.close()
    assert events == ["generator closed", "teardown"]
