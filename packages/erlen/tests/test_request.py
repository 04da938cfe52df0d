"""``Request`` and ``Response``: routing results, body limits, JSON errors, defaults."""

from __future__ import annotations

import io
import typing as t
import warnings

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import RequestEntityTooLarge

import erlen
from erlen.debughelpers import DebugFilesKeyError


def test_routing_attributes(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    seen: dict[str, t.Any] = {}

    @app.route("/user/<int:uid>")
    def user(uid: int) -> str:
        req = erlen.request
        seen.update(
            endpoint=req.endpoint,
            blueprint=req.blueprint,
            blueprints=req.blueprints,
            rule=req.url_rule.rule,  # type: ignore[union-attr]
            view_args=req.view_args,
            routing_exception=req.routing_exception,
        )
        return "ok"

    assert client.get("/user/3").status_code == 200
    assert seen == {
        "endpoint": "user",
        "blueprint": None,
        "blueprints": [],
        "rule": "/user/<int:uid>",
        "view_args": {"uid": 3},
        "routing_exception": None,
    }


def test_nested_blueprint_attributes(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    seen: dict[str, t.Any] = {}
    parent = erlen.Blueprint("parent", __name__, url_prefix="/p")
    child = erlen.Blueprint("child", __name__, url_prefix="/c")

    @child.route("/x")
    def x() -> str:
        seen.update(
            endpoint=erlen.request.endpoint,
            blueprint=erlen.request.blueprint,
            blueprints=erlen.request.blueprints,
        )
        return "ok"

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/x").status_code == 200
    assert seen == {
        "endpoint": "parent.child.x",
        "blueprint": "parent.child",
        "blueprints": ["parent.child", "parent"],
    }


def test_routing_exception_on_unmatched_request(app: erlen.Erlen) -> None:
    with app.test_request_context("/missing"):
        assert erlen.request.url_rule is None
        assert erlen.request.endpoint is None
        assert erlen.request.view_args is None
        assert erlen.request.blueprint is None
        assert isinstance(erlen.request.routing_exception, NotFound)


def test_body_limits_from_config(app: erlen.Erlen) -> None:
    app.config.update(MAX_CONTENT_LENGTH=10, MAX_FORM_MEMORY_SIZE=20, MAX_FORM_PARTS=3)
    with app.test_request_context():
        assert erlen.request.max_content_length == 10
        assert erlen.request.max_form_memory_size == 20
        assert erlen.request.max_form_parts == 3
        erlen.request.max_content_length = 99
        erlen.request.max_form_memory_size = 98
        erlen.request.max_form_parts = 97
        assert erlen.request.max_content_length == 99
        assert erlen.request.max_form_memory_size == 98
        assert erlen.request.max_form_parts == 97


def test_body_limit_defaults(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert erlen.request.max_content_length == 16 * 1024 * 1024
        assert erlen.request.max_form_memory_size == 500_000
        assert erlen.request.max_form_parts == 1_000


def test_request_outside_app_uses_werkzeug_defaults() -> None:
    req = erlen.Request.from_values("/")
    assert req.max_content_length is None
    assert req.max_form_memory_size == 500_000
    assert req.max_form_parts == 1_000


def test_max_content_length_413(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64

    @app.post("/")
    def index() -> str:
        return erlen.request.form.get("f", "none")

    assert client.post("/", data={"f": "small"}).data == b"small"
    rv = client.post("/", data={"f": "x" * 200})
    assert rv.status_code == 413


@pytest.mark.wsgi_only(
    "under ASGI the body is read before the view, with the config limit"
)
def test_max_content_length_raised_per_request(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 64

    @app.before_request
    def allow_big() -> None:
        if erlen.request.endpoint == "upload":
            erlen.request.max_content_length = 1000

    @app.post("/upload")
    def upload() -> str:
        return str(len(erlen.request.form["f"]))

    @app.post("/small")
    def small() -> str:
        return str(len(erlen.request.form["f"]))

    assert client.post("/upload", data={"f": "x" * 200}).data == b"200"
    assert client.post("/small", data={"f": "x" * 200}).status_code == 413


def test_max_form_memory_size_413(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 10

    @app.post("/")
    def index() -> str:
        return erlen.request.form["f"]

    assert client.post("/", data={"f": "short"}).data == b"short"
    rv = client.post("/", data={"f": "x" * 100}, content_type="multipart/form-data")
    assert rv.status_code == 413


def test_max_form_parts_413(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.config["MAX_FORM_PARTS"] = 2

    @app.post("/")
    def index() -> str:
        return str(len(erlen.request.form))

    data = {f"f{i}": "v" for i in range(5)}
    rv = client.post("/", data=data, content_type="multipart/form-data")
    assert rv.status_code == 413
    assert (
        client.post("/", data={"a": "1"}, content_type="multipart/form-data").data
        == b"1"
    )


def test_max_content_length_in_view_raises(app: erlen.Erlen) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4
    with app.test_request_context(method="POST", data=b"0123456789"):
        with pytest.raises(RequestEntityTooLarge):
            erlen.request.get_data()


def test_invalid_json_400(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.post("/")
    def index() -> t.Any:
        return erlen.request.get_json()

    app.config["TESTING"] = False
    rv = client.post("/", data="{not json", content_type="application/json")
    assert rv.status_code == 400

    with app.test_request_context(
        method="POST", data="{not json", content_type="application/json"
    ):
        with pytest.raises(Exception) as exc_info:
            erlen.request.get_json()
        assert exc_info.value.code == 400  # type: ignore[attr-defined]
        assert exc_info.value.description.startswith(  # type: ignore[attr-defined]
            "Invalid JSON body:"
        )


def test_invalid_json_description_in_response(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.post("/")
    def index() -> t.Any:
        return erlen.request.json

    @app.errorhandler(400)
    def bad_request(e: Exception) -> tuple[str, int]:
        return e.description, 400  # type: ignore[attr-defined]

    rv = client.post("/", data="[1, 2", content_type="application/json")
    assert rv.status_code == 400
    assert rv.get_data(as_text=True).startswith("Invalid JSON body:")


def test_get_json_silent_and_valid(app: erlen.Erlen) -> None:
    with app.test_request_context(json={"a": [1, 2]}):
        assert erlen.request.get_json() == {"a": [1, 2]}
    with app.test_request_context(
        method="POST", data="nope", content_type="application/json"
    ):
        assert erlen.request.get_json(silent=True) is None


def test_request_json_module_is_app_json(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert erlen.request.json_module is app.json


def test_debug_files_key_error(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.debug = True

    @app.post("/")
    def index() -> str:
        return erlen.request.files["upload"].filename or ""

    with pytest.raises(DebugFilesKeyError) as exc_info:
        client.post("/", data={"upload": "not a file"})
    message = str(exc_info.value)
    assert "upload" in message
    assert "multipart/form-data" in message


def test_files_key_error_without_debug(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.post("/")
    def index() -> str:
        return erlen.request.files["upload"].filename or ""

    rv = client.post("/", data={"upload": "not a file"})
    assert rv.status_code == 400


def test_files_multipart_in_debug(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.debug = True

    @app.post("/")
    def index() -> str:
        return erlen.request.files["upload"].read().decode()

    rv = client.post("/", data={"upload": (io.BytesIO(b"data"), "a.txt")})
    assert rv.data == b"data"


def test_response_defaults(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return "<p>hi</p>"

    rv = client.get("/")
    assert rv.mimetype == "text/html"
    assert rv.content_type == "text/html; charset=utf-8"
    assert erlen.Response().mimetype == "text/html"


def test_response_location_not_autocorrected(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.redirect("/target")  # type: ignore[return-value]

    assert client.get("/").headers["Location"] == "/target"


def test_response_max_cookie_size(app: erlen.Erlen) -> None:
    default = erlen.Response().max_cookie_size
    assert default == 4093
    app.config["MAX_COOKIE_SIZE"] = 100
    with app.app_context():
        response = erlen.Response()
        assert response.max_cookie_size == 100
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            response.set_cookie("big", "x" * 200)
        assert any("cookie is too large" in str(w.message) for w in caught)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            response.set_cookie("small", "x" * 10)


def test_response_json(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> dict[str, int]:
        return {"a": 1}

    rv = client.get("/")
    assert rv.mimetype == "application/json"
    assert rv.json == {"a": 1}


def test_json_wrong_content_type_415(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.post("/")
    def index() -> t.Any:
        return erlen.request.get_json()

    rv = client.post("/", data='{"a": 1}', content_type="text/plain")
    assert rv.status_code == 415
    rv = client.post("/", data='{"a": 1}', content_type="application/json")
    assert rv.json == {"a": 1}


def test_invalid_json_in_debug(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.debug = True

    @app.post("/")
    def index() -> t.Any:
        return erlen.request.get_json()

    @app.errorhandler(400)
    def bad_request(e: Exception) -> tuple[str, int]:
        return e.description, 400  # type: ignore[attr-defined]

    rv = client.post("/", data="{", content_type="application/json")
    assert rv.status_code == 400
    assert rv.get_data(as_text=True).startswith("Invalid JSON body")


def test_debug_files_key_error_names_transmitted_file(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    app.debug = True

    @app.post("/")
    def index() -> str:
        return erlen.request.files["upload"].filename or ""

    with pytest.raises(DebugFilesKeyError) as exc_info:
        client.post(
            "/",
            data="upload=photo.jpg",
            content_type="application/x-www-form-urlencoded",
        )
    message = str(exc_info.value)
    assert "transmitted some file names" in message
    assert "'photo.jpg'" in message


def test_form_data_routing_redirect_in_debug(
    app: erlen.Erlen, client: erlen.testing.ErlenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from werkzeug.routing import RequestRedirect

    from erlen.debughelpers import FormDataRoutingRedirect

    app.debug = True

    @app.route("/user/", methods=["GET", "POST"])
    def user() -> str:
        return erlen.request.form["status"]

    rv = client.post("/user", data={"status": "kept"}, follow_redirects=True)
    assert rv.data == b"kept"
    monkeypatch.setattr(RequestRedirect, "code", 301)
    assert client.get("/user").status_code == 301
    with pytest.raises(FormDataRoutingRedirect) as exc_info:
        client.post("/user", data={"status": "lost"})
    message = str(exc_info.value)
    assert "canonical URL 'http://localhost/user/'" in message
    assert "trailing slash" in message
    app.debug = False
    assert client.post("/user", data={"status": "lost"}).status_code == 301


def test_response_body_sent_as_is_and_special_cases_kept(app: erlen.Erlen) -> None:
    """A plain body skips Werkzeug's closing iterator; HEAD, bodiless statuses,
    close callbacks and streams keep Werkzeug's handling."""
    closed: list[str] = []

    @app.route("/plain", methods=["GET", "HEAD"])
    def plain() -> str:
        return "hello"

    @app.get("/callback")
    def callback() -> erlen.Response:
        response = erlen.make_response("bye")
        response.call_on_close(lambda: closed.append("closed"))
        return response

    @app.get("/stream")
    def stream() -> t.Iterator[str]:
        return iter(["a", "b"])

    @app.get("/empty")
    def empty() -> tuple[str, int]:
        return "ignored", 204

    environ = app.test_request_context("/plain").request.environ
    status: list[str] = []
    body = app.wsgi_app(environ, lambda s, h, e=None: status.append(s))
    assert body == [b"hello"] and status == ["200 OK"]

    client = app.test_client()
    assert client.get("/plain").data == b"hello"
    head = client.head("/plain")
    assert head.data == b"" and head.headers["Content-Length"] == "5"
    callback_response = client.get("/callback")
    assert callback_response.data == b"bye"
    callback_response.close()
    assert closed == ["closed"]
    assert client.get("/stream").data == b"ab"
    empty_response = client.get("/empty")
    assert empty_response.status_code == 204 and empty_response.data == b""


def test_query_string_that_is_not_utf8_is_a_400(app: erlen.Erlen) -> None:
    """Servers that pass raw bytes through must not turn them into a 500."""

    @app.get("/search")
    def search() -> str:
        return erlen.request.args.get("q", "")

    environ = app.test_request_context("/search").request.environ
    environ["QUERY_STRING"] = "q=\xff"
    status: list[str] = []
    body = b"".join(app.wsgi_app(environ, lambda s, h, e=None: status.append(s)))
    assert status == ["400 BAD REQUEST"]
    assert b"not valid UTF-8" in body
    assert app.test_client().get("/search?q=%C3%A9").text == "é"


def test_mount_root_without_slash_redirects(app: erlen.Erlen) -> None:
    """An app mounted at /app answers GET /app with a redirect to /app/."""

    @app.get("/")
    def index() -> str:
        return "root"

    client = app.test_client()
    environ = app.test_request_context("/").request.environ
    environ.update(SCRIPT_NAME="/app", PATH_INFO="")
    response = client.open(environ)
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/app/"
    assert client.get("/", base_url="http://localhost/app/").text == "root"
