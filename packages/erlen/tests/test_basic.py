"""The app object from the user's side: construction, routing, responses, hooks."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import pytest
from werkzeug.datastructures import Headers
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter
from werkzeug.routing import RequestRedirect
from werkzeug.wrappers import Response as WerkzeugResponse

import erlen
from erlen.testing import ErlenClient

HERE = Path(__file__).parent


# -- construction, paths, resources --------------------------------------------


def test_name_is_import_name(app: erlen.Erlen) -> None:
    assert erlen.Erlen("some.module").name == "some.module"
    assert app.name == "erlen_test"


def test_name_of_main_module_is_the_script_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", "/srv/project/manage.py", raising=False)
    assert erlen.Erlen("__main__", root_path="/srv/project").name == "manage"


def test_name_of_main_module_without_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    assert erlen.Erlen("__main__", root_path=str(HERE)).name == "__main__"


def test_repr(app: erlen.Erlen) -> None:
    assert repr(app) == "<Erlen 'erlen_test'>"


def test_root_path_from_import_name() -> None:
    app = erlen.Erlen(__name__)
    assert app.root_path == str(HERE)
    assert app.static_folder == str(HERE / "static")
    assert app.template_folder == "templates"


def test_instance_path_explicit_absolute(tmp_path: Path) -> None:
    app = erlen.Erlen(__name__, instance_path=str(tmp_path))
    assert app.instance_path == str(tmp_path)


def test_instance_path_relative_is_an_error() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        erlen.Erlen(__name__, instance_path="instance")


def test_instance_path_next_to_test_module() -> None:
    app = erlen.Erlen(__name__)
    assert app.instance_path == str(HERE / "instance")


def test_instance_path_of_uninstalled_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a_config_module_app.py").write_text(
        "import erlen\napp = erlen.Erlen(__name__)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import a_config_module_app  # type: ignore[import-not-found]

        assert a_config_module_app.app.instance_path == str(tmp_path / "instance")
    finally:
        sys.modules.pop("a_config_module_app", None)


def test_instance_path_of_uninstalled_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "a_config_package_app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import erlen\napp = erlen.Erlen(__name__)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import a_config_package_app  # type: ignore[import-not-found]

        assert a_config_package_app.app.instance_path == str(tmp_path / "instance")
    finally:
        sys.modules.pop("a_config_package_app", None)


def test_instance_path_of_installed_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_packages = tmp_path / "lib" / "python3.x" / "site-packages"
    pkg = site_packages / "a_site_app"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("import erlen\napp = erlen.Erlen(__name__)\n")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.syspath_prepend(str(site_packages))
    try:
        import a_site_app  # type: ignore[import-not-found]

        assert a_site_app.app.instance_path == str(
            tmp_path / "var" / "a_site_app-instance"
        )
    finally:
        sys.modules.pop("a_site_app", None)


def test_auto_find_instance_path_can_be_overridden(tmp_path: Path) -> None:
    class MyApp(erlen.Erlen):
        def auto_find_instance_path(self) -> str:
            return str(tmp_path / "custom")

    assert MyApp(__name__).instance_path == str(tmp_path / "custom")


def test_instance_relative_config(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text("FROM_INSTANCE = 42\n")
    app = erlen.Erlen(
        __name__, instance_path=str(tmp_path), instance_relative_config=True
    )
    assert app.config.root_path == str(tmp_path)
    app.config.from_pyfile("settings.py")
    assert app.config["FROM_INSTANCE"] == 42


@pytest.mark.parametrize("mode", ["r", "rt", "rb"])
def test_open_resource_read_modes(mode: str) -> None:
    app = erlen.Erlen(__name__)
    with app.open_resource("static/a_index.html", mode) as f:
        data = f.read()
    text = data if isinstance(data, str) else data.decode()
    assert "<h1>Hello from a static file</h1>" in text


def test_open_resource_default_is_binary() -> None:
    app = erlen.Erlen(__name__)
    with app.open_resource("static/a_index.html") as f:
        assert isinstance(f.read(), bytes)


def test_open_resource_with_encoding(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    app = erlen.Erlen(__name__, root_path=str(tmp_path))
    with app.open_resource("latin.txt", "r", encoding="latin-1") as f:
        assert f.read() == "caf\xe9"


@pytest.mark.parametrize("mode", ["w", "x", "a", "r+", "wb", "rb+"])
def test_open_resource_write_modes_are_errors(mode: str) -> None:
    app = erlen.Erlen(__name__)
    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("static/a_index.html", mode)


def test_open_instance_resource(tmp_path: Path) -> None:
    app = erlen.Erlen(__name__, instance_path=str(tmp_path))
    with app.open_instance_resource("notes.txt", "w") as f:
        f.write("caf\xe9")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "caf\xe9"
    with app.open_instance_resource("notes.txt") as f:
        assert f.read() == "caf\xe9".encode()
    with app.open_instance_resource("notes.txt", "r") as f:
        assert f.read() == "caf\xe9"


def test_static_files(client: ErlenClient) -> None:
    rv = client.get("/static/a_index.html")
    assert rv.status_code == 200
    assert b"Hello from a static file" in rv.data
    assert rv.mimetype == "text/html"
    rv.close()
    assert client.get("/static/a_missing.html").status_code == 404


def test_static_url_path_and_folder(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.txt").write_text("asset")
    app = erlen.Erlen(
        __name__, root_path=str(tmp_path), static_folder="assets", static_url_path="/s"
    )
    assert app.static_url_path == "/s"
    rv = app.test_client().get("/s/a.txt")
    assert rv.data == b"asset"
    rv.close()
    with app.test_request_context():
        assert erlen.url_for("static", filename="a.txt") == "/s/a.txt"


def test_no_static_folder() -> None:
    app = erlen.Erlen(__name__, static_folder=None)
    assert not app.has_static_folder
    assert "static" not in app.view_functions
    assert app.test_client().get("/static/a_index.html").status_code == 404


# -- routing ---------------------------------------------------------------------


def test_route_and_methods(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return erlen.request.method

    @app.route("/more", methods=["post", "Put"])
    def more() -> str:
        return erlen.request.method

    assert client.get("/").data == b"GET"
    assert client.post("/").data == b"POST"
    assert client.post("/more").data == b"POST"
    assert client.put("/more").data == b"PUT"
    rv = client.get("/more")
    assert rv.status_code == 405
    assert sorted(rv.allow) == ["OPTIONS", "POST", "PUT"]


def test_method_shortcuts(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.get("/")
    def get() -> str:
        return "get"

    @app.post("/")
    def post() -> str:
        return "post"

    @app.put("/")
    def put() -> str:
        return "put"

    @app.delete("/")
    def delete() -> str:
        return "delete"

    @app.patch("/")
    def patch() -> str:
        return "patch"

    for method in ("get", "post", "put", "delete", "patch"):
        assert client.open("/", method=method.upper()).data == method.encode()
    assert client.head("/").status_code == 200


@pytest.mark.parametrize("shortcut", ["get", "post", "put", "delete", "patch"])
def test_method_shortcut_rejects_methods(app: erlen.Erlen, shortcut: str) -> None:
    with pytest.raises(TypeError, match="'methods'"):
        getattr(app, shortcut)("/", methods=["GET"])


def test_methods_as_string_is_an_error(app: erlen.Erlen) -> None:
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/", "index", lambda: "", methods="POST")
    with pytest.raises(TypeError, match="list of strings"):

        @app.route("/", methods="GET")
        def index() -> str:
            return ""


def test_view_methods_attribute(app: erlen.Erlen, client: ErlenClient) -> None:
    def view() -> str:
        return erlen.request.method

    view.methods = ["POST"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert client.post("/").data == b"POST"
    assert client.get("/").status_code == 405


def test_add_url_rule(app: erlen.Erlen, client: ErlenClient) -> None:
    def index() -> str:
        return "index"

    app.add_url_rule("/", view_func=index)
    app.add_url_rule("/other", "other_name", index)
    assert app.view_functions["index"] is index
    assert app.view_functions["other_name"] is index
    assert client.get("/").data == b"index"
    assert client.get("/other").data == b"index"
    with app.test_request_context():
        assert erlen.url_for("other_name") == "/other"


def test_add_url_rule_without_view_or_endpoint(app: erlen.Erlen) -> None:
    with pytest.raises(TypeError):
        app.add_url_rule("/")


def test_endpoint_clash(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return "first"

    # The same function under the same endpoint again is fine.
    app.add_url_rule("/again", "index", index)

    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):

        @app.route("/other", endpoint="index")
        def other() -> str:
            return "second"


def test_endpoint_decorator(app: erlen.Erlen, client: ErlenClient) -> None:
    from werkzeug.routing import Rule
    from werkzeug.routing import Submount

    app.url_map.add(Rule("/foo", endpoint="bar"))
    app.url_map.add(Submount("/sub", [Rule("/baz", endpoint="sub.baz")]))

    @app.endpoint("bar")
    def bar() -> str:
        return "bar"

    @app.endpoint("sub.baz")
    def baz() -> str:
        return "baz"

    assert client.get("/foo").data == b"bar"
    assert client.get("/sub/baz").data == b"baz"


def test_automatic_options(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        raise AssertionError("the view is not called for OPTIONS")

    rv = client.options("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert sorted(rv.allow) == ["GET", "HEAD", "OPTIONS", "POST"]


def test_automatic_options_off_per_rule(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/", provide_automatic_options=False)
    def index() -> str:
        return "index"

    rv = client.options("/")
    assert rv.status_code == 405
    assert "OPTIONS" not in rv.allow


def test_automatic_options_off_on_view(app: erlen.Erlen, client: ErlenClient) -> None:
    def index() -> str:
        return "view: " + erlen.request.method

    index.provide_automatic_options = False  # type: ignore[attr-defined]
    index.methods = ["GET", "OPTIONS"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=index)
    assert client.options("/").data == b"view: OPTIONS"


def test_automatic_options_off_in_config(app: erlen.Erlen, client: ErlenClient) -> None:
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.route("/")
    def index() -> str:
        return "index"

    assert client.options("/").status_code == 405


def test_explicit_options_method_is_the_view(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/", methods=["GET", "OPTIONS"])
    def index() -> str:
        return "custom " + erlen.request.method

    assert client.options("/").data == b"custom OPTIONS"


def test_required_methods(app: erlen.Erlen, client: ErlenClient) -> None:
    def index() -> str:
        return erlen.request.method

    index.required_methods = ["DELETE"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=index, methods=["GET"])
    assert client.delete("/").data == b"DELETE"
    assert client.get("/").data == b"GET"
    assert sorted(client.options("/").allow) == ["DELETE", "GET", "HEAD", "OPTIONS"]


def test_automatic_head(app: erlen.Erlen, client: ErlenClient) -> None:
    calls = []

    @app.route("/")
    def index() -> erlen.Response:
        calls.append(erlen.request.method)
        return erlen.Response("body", headers={"X-Method": erlen.request.method})

    rv = client.head("/")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["X-Method"] == "HEAD"
    assert rv.content_length == 4
    assert calls == ["HEAD"]


def test_405_has_allow_header(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/", methods=["POST", "PUT"])
    def index() -> str:
        return ""

    rv = client.get("/")
    assert rv.status_code == 405
    assert sorted(rv.allow) == ["OPTIONS", "POST", "PUT"]
    assert client.delete("/").status_code == 405


def test_404(app: erlen.Erlen, client: ErlenClient) -> None:
    rv = client.get("/missing")
    assert rv.status_code == 404
    assert b"Not Found" in rv.data


def test_url_variables_and_builtin_converters(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/int/<int:value>")
    def int_view(value: int) -> str:
        return repr(value)

    @app.route("/path/<path:value>")
    def path_view(value: str) -> str:
        return value

    @app.route("/s/<name>")
    def str_view(name: str) -> str:
        return name

    assert client.get("/int/42").data == b"42"
    assert client.get("/int/x").status_code == 404
    assert client.get("/path/a/b/c").data == b"a/b/c"
    assert client.get("/s/h%C3%A9").data == "h\xe9".encode()
    with app.test_request_context():
        assert erlen.url_for("int_view", value=3) == "/int/3"
        assert erlen.url_for("str_view", name="a b", q="1") == "/s/a%20b?q=1"


def test_custom_converter(app: erlen.Erlen, client: ErlenClient) -> None:
    class ListConverter(BaseConverter):
        def to_python(self, value: str) -> list[str]:
            return value.split(",")

        def to_url(self, value: t.Any) -> str:
            base_to_url = super().to_url
            return ",".join(base_to_url(x) for x in value)

    app.url_map.converters["list"] = ListConverter

    @app.route("/<list:args>")
    def index(args: list[str]) -> str:
        return "|".join(args)

    assert client.get("/1,2,3").data == b"1|2|3"
    with app.test_request_context():
        assert erlen.url_for("index", args=["a", "b"]) == "/a,b"


def test_route_defaults(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/page/", defaults={"page": 1})
    @app.route("/page/<int:page>")
    def pages(page: int) -> str:
        return f"page {page}"

    assert client.get("/page/").data == b"page 1"
    assert client.get("/page/3").data == b"page 3"


def test_strict_slashes_redirect(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return "folder"

    @app.route("/file")
    def file() -> str:
        return "file"

    rv = client.get("/folder")
    assert rv.status_code == 308
    assert rv.location == "http://localhost/folder/"
    assert client.get("/folder", follow_redirects=True).data == b"folder"
    assert client.get("/file/").status_code == 404


def test_strict_slashes_off(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/folder/", strict_slashes=False)
    def folder() -> str:
        return "folder"

    assert client.get("/folder").data == b"folder"
    assert client.get("/folder/").data == b"folder"


def test_post_redirect_keeps_form_data(app: erlen.Erlen, client: ErlenClient) -> None:
    app.debug = True

    @app.route("/user/", methods=["GET", "POST"])
    def user() -> str:
        return erlen.request.form["status"]

    rv = client.post("/user", data={"status": "kept"}, follow_redirects=True)
    assert rv.data == b"kept"


def test_debug_redirect_that_drops_form_data_is_explained(
    app: erlen.Erlen, client: ErlenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from erlen.debughelpers import FormDataRoutingRedirect

    @app.route("/user/", methods=["GET", "POST"])
    def user() -> str:
        return erlen.request.form["status"]

    monkeypatch.setattr(RequestRedirect, "code", 301)

    # Outside debug mode the redirect is sent.
    assert client.post("/user", data={"status": "x"}).status_code == 301

    app.debug = True
    with pytest.raises(FormDataRoutingRedirect) as exc_info:
        client.post("/user", data={"status": "x"})
    message = str(exc_info.value)
    assert "canonical URL 'http://localhost/user/'" in message
    assert "trailing slash" in message
    assert isinstance(exc_info.value, AssertionError)
    # GET is still redirected in debug mode.
    assert client.get("/user").status_code == 301


def test_host_matching(client: ErlenClient) -> None:
    app = erlen.Erlen(__name__, host_matching=True, static_host="static.example.com")

    @app.route("/", host="example.com")
    def index() -> str:
        return "example"

    @app.route("/", host="<sub>.example.org")
    def org(sub: str) -> str:
        return f"org {sub}"

    client = app.test_client()
    assert client.get("/", "http://example.com/").data == b"example"
    assert client.get("/", "http://docs.example.org/").data == b"org docs"
    assert client.get("/", "http://other.test/").status_code == 404
    rv = client.get("/static/a_index.html", "http://static.example.com/")
    assert rv.status_code == 200
    rv.close()
    assert client.get("/static/a_index.html", "http://example.com/").status_code == 404
    with app.test_request_context("/", "http://example.com/"):
        assert erlen.url_for("org", sub="x") == "http://x.example.org/"


def test_static_host_requires_host_matching() -> None:
    with pytest.raises(AssertionError, match="static_host"):
        erlen.Erlen(__name__, static_host="example.com")
    with pytest.raises(AssertionError, match="static_host"):
        erlen.Erlen(__name__, host_matching=True)
    # Without a static folder, host matching needs no static host.
    erlen.Erlen(__name__, host_matching=True, static_folder=None)


def test_subdomain_matching(app: erlen.Erlen) -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/", subdomain="<user>")
    def user(user: str) -> str:
        return f"user {user}"

    @app.route("/")
    def index() -> str:
        return "index"

    client = app.test_client()
    assert client.get("/", "http://alice.example.test/").data == b"user alice"
    assert client.get("/", "http://example.test/").data == b"index"
    with app.app_context():
        assert (
            erlen.url_for("user", user="bob", _external=True)
            == "http://bob.example.test/"
        )


def test_subdomain_with_default_subdomain() -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    app.url_map.default_subdomain = "www"

    @app.route("/")
    def index() -> str:
        return "www"

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    client = app.test_client()
    assert client.get("/", "http://www.example.test/").data == b"www"
    assert client.get("/", "http://api.example.test/").data == b"api"


def test_server_name_does_not_restrict_without_subdomain_matching(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/", subdomain="api")
    def api() -> str:
        return "api"

    assert client.get("/", "http://example.test/").data == b"index"
    assert client.get("/", "http://api.example.test/").data == b"index"
    assert client.get("/", "http://other.test/").data == b"index"


def test_url_for_outside_request_needs_server_name(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return ""

    with app.app_context():
        with pytest.raises(RuntimeError, match="SERVER_NAME"):
            erlen.url_for("index")
    app.config.update(SERVER_NAME="example.test", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert erlen.url_for("index") == "https://example.test/"


# -- make_response: every kind of return value -----------------------------------


def _wsgi_app(environ: t.Any, start_response: t.Any) -> list[bytes]:
    start_response("201 CREATED", [("X-From", "wsgi")])
    return [b"from wsgi ", environ["PATH_INFO"].encode()]


def _generator() -> t.Iterator[str]:
    yield "Hello "
    yield "World"


@pytest.mark.parametrize(
    ("rv", "status", "body", "mimetype"),
    [
        ("text \u2603", 200, "text \u2603".encode(), "text/html"),
        (b"bytes", 200, b"bytes", "text/html"),
        (bytearray(b"bytearray"), 200, b"bytearray", "text/html"),
        ({"a": 1}, 200, b'{"a":1}\n', "application/json"),
        ([1, "two"], 200, b'[1,"two"]\n', "application/json"),
        (erlen.Response("resp", 202), 202, b"resp", "text/html"),
        (WerkzeugResponse("wz", mimetype="text/plain"), 200, b"wz", "text/plain"),
        (_wsgi_app, 201, b"from wsgi /", "text/plain"),
    ],
)
def test_view_return_values(
    app: erlen.Erlen,
    client: ErlenClient,
    rv: t.Any,
    status: int,
    body: bytes,
    mimetype: str,
) -> None:
    app.add_url_rule("/", "index", lambda: rv)
    resp = client.get("/")
    assert resp.status_code == status
    assert resp.data == body
    if mimetype != "text/plain":
        assert resp.mimetype == mimetype


def test_text_response_has_utf8_charset(app: erlen.Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/", "index", lambda: "\u2603")
    rv = client.get("/")
    assert rv.headers["Content-Type"] == "text/html; charset=utf-8"
    assert rv.get_data(as_text=True) == "\u2603"


def test_wsgi_callable_headers(app: erlen.Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/", "index", lambda: _wsgi_app)
    rv = client.get("/")
    assert rv.headers["X-From"] == "wsgi"
    assert isinstance(rv, erlen.Response)


def test_generator_and_iterator_are_streamed(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/gen")
    def gen() -> t.Iterator[str]:
        return _generator()

    @app.route("/iter")
    def it() -> t.Iterator[bytes]:
        return iter([b"a", b"b", b"c"])

    assert client.get("/gen").data == b"Hello World"
    with app.test_request_context():
        assert app.make_response(_generator()).is_streamed
    assert client.get("/iter").data == b"abc"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Foo": "bar"},
        [("X-Foo", "bar")],
        Headers({"X-Foo": "bar"}),
    ],
    ids=["dict", "list", "Headers"],
)
def test_tuple_with_headers(
    app: erlen.Erlen, client: ErlenClient, headers: t.Any
) -> None:
    app.add_url_rule("/two", "two", lambda: ("body", headers))
    app.add_url_rule("/three", "three", lambda: ("body", 201, headers))
    rv = client.get("/two")
    assert (rv.status_code, rv.data, rv.headers["X-Foo"]) == (200, b"body", "bar")
    rv = client.get("/three")
    assert (rv.status_code, rv.data, rv.headers["X-Foo"]) == (201, b"body", "bar")


def test_tuple_with_status(app: erlen.Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/int", "int", lambda: ("body", 404))
    app.add_url_rule("/str", "str", lambda: ("body", "418 I'M A TEAPOT"))
    app.add_url_rule("/strcode", "strcode", lambda: ("body", "201"))
    app.add_url_rule("/dict", "dict", lambda: ({"a": 1}, 400))
    app.add_url_rule("/list", "list", lambda: (["x"], 201, {"X-A": "1"}))
    rv = client.get("/int")
    assert (rv.status_code, rv.data) == (404, b"body")
    rv = client.get("/str")
    assert rv.status == "418 I'M A TEAPOT"
    assert rv.status_code == 418
    assert client.get("/strcode").status_code == 201
    rv = client.get("/dict")
    assert (rv.status_code, rv.json) == (400, {"a": 1})
    rv = client.get("/list")
    assert (rv.status_code, rv.json, rv.headers["X-A"]) == (201, ["x"], "1")


def test_tuple_with_response_object(app: erlen.Erlen, client: ErlenClient) -> None:
    app.add_url_rule(
        "/status", "status", lambda: (erlen.Response("r", headers={"X-A": "1"}), 203)
    )
    app.add_url_rule(
        "/headers", "headers", lambda: (erlen.Response("r", 202), {"X-B": "2"})
    )
    rv = client.get("/status")
    assert (rv.status_code, rv.data, rv.headers["X-A"]) == (203, b"r", "1")
    rv = client.get("/headers")
    assert (rv.status_code, rv.headers["X-B"]) == (202, "2")


def test_headers_in_tuple_extend_response_headers(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.add_url_rule(
        "/",
        "index",
        lambda: (
            erlen.Response("r", headers={"X-Keep": "1", "X-Replace": "old"}),
            {"X-Replace": "new"},
        ),
    )
    rv = client.get("/")
    assert rv.headers["X-Keep"] == "1"
    assert rv.headers.getlist("X-Replace") == ["new"]


def test_none_return_names_the_endpoint(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def forgot_return() -> None:
        pass

    with pytest.raises(TypeError) as exc_info:
        client.get("/")
    message = str(exc_info.value)
    assert "'forgot_return'" in message
    assert "did not return a valid response" in message
    assert "returned None" in message


def test_none_in_tuple_is_an_error(app: erlen.Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/", "index", lambda: (None, 200))
    with pytest.raises(TypeError, match="returned None"):
        client.get("/")


@pytest.mark.parametrize("rv", [("a",), ("a", 200, {}, "extra"), ()])
def test_invalid_tuple_length(app: erlen.Erlen, client: ErlenClient, rv: t.Any) -> None:
    app.add_url_rule("/", "index", lambda: rv)
    with pytest.raises(TypeError, match="valid response tuple"):
        client.get("/")


@pytest.mark.parametrize("rv", [42, 1.5, object(), {"a"}])
def test_invalid_return_type(app: erlen.Erlen, client: ErlenClient, rv: t.Any) -> None:
    app.add_url_rule("/", "index", lambda: rv)
    with pytest.raises(TypeError) as exc_info:
        client.get("/")
    message = str(exc_info.value)
    assert "did not return a valid response" in message
    assert f"it was a {type(rv).__name__}" in message


def test_callable_that_is_not_wsgi(app: erlen.Erlen, client: ErlenClient) -> None:
    def not_wsgi() -> str:
        return "x"

    app.add_url_rule("/", "index", lambda: not_wsgi)
    with pytest.raises(TypeError) as exc_info:
        client.get("/")
    assert "WSGI callable" in str(exc_info.value)
    assert "it was a function" in str(exc_info.value)


def test_app_make_response(app: erlen.Erlen) -> None:
    with app.test_request_context():
        rv = app.make_response("hello")
        assert isinstance(rv, erlen.Response)
        assert (rv.status_code, rv.data) == (200, b"hello")
        rv = app.make_response(("hello", 400, {"X-A": "b"}))
        assert (rv.status_code, rv.headers["X-A"]) == (400, "b")
        rv = app.make_response(WerkzeugResponse("wz", 201))
        assert isinstance(rv, erlen.Response)
        assert rv.status_code == 201
        rv = app.make_response(NotFound())
        assert rv.status_code == 404


def test_make_response_helper(app: erlen.Erlen, client: ErlenClient) -> None:
    with app.app_context():
        rv = erlen.make_response()
        assert (rv.status_code, rv.data, rv.mimetype) == (200, b"", "text/html")
        rv = erlen.make_response("Hello")
        assert rv.data == b"Hello"
        rv = erlen.make_response("Not found", 404)
        assert (rv.status_code, rv.data) == (404, b"Not found")
        rv = erlen.make_response("x", 201, {"X-A": "1"})
        assert (rv.status_code, rv.headers["X-A"]) == (201, "1")
        rv = erlen.make_response({"a": 1}, 202)
        assert (rv.status_code, rv.json) == (202, {"a": 1})
        rv = erlen.make_response(_generator())
        assert rv.get_data() == b"Hello World"

    @app.route("/")
    def index() -> erlen.Response:
        resp = erlen.make_response("with cookie")
        resp.set_cookie("name", "value")
        resp.headers["X-Extra"] = "yes"
        return resp

    rv = client.get("/")
    assert rv.headers["X-Extra"] == "yes"
    assert "name=value" in rv.headers["Set-Cookie"]


def test_make_response_helper_needs_app_context() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        erlen.make_response("x")


def test_response_class_override(client: ErlenClient) -> None:
    class MyResponse(erlen.Response):
        default_mimetype = "text/plain"

    class MyApp(erlen.Erlen):
        response_class = MyResponse

    app = MyApp(__name__)
    app.add_url_rule("/", "index", lambda: "x")
    app.add_url_rule("/wz", "wz", lambda: WerkzeugResponse("wz"))
    client = app.test_client()
    rv = client.get("/")
    assert rv.mimetype == "text/plain"
    with app.test_request_context():
        assert isinstance(app.make_response(WerkzeugResponse("wz")), MyResponse)


# -- hooks ---------------------------------------------------------------------


def test_before_request_short_circuits(app: erlen.Erlen, client: ErlenClient) -> None:
    called = []

    @app.before_request
    def first() -> str | None:
        called.append("first")
        if erlen.request.args.get("stop"):
            return "stopped"
        return None

    @app.before_request
    def second() -> None:
        called.append("second")

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        called.append("after")
        return response

    @app.route("/")
    def index() -> str:
        called.append("view")
        return "view"

    assert client.get("/").data == b"view"
    assert called == ["first", "second", "view", "after"]
    called.clear()
    assert client.get("/?stop=1").data == b"stopped"
    assert called == ["first", "after"]


def test_before_request_runs_for_404(app: erlen.Erlen, client: ErlenClient) -> None:
    seen = []

    @app.before_request
    def before() -> None:
        seen.append(erlen.request.path)

    assert client.get("/missing").status_code == 404
    assert seen == ["/missing"]


def test_after_request_order_and_response_replacement(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    order = []

    @app.after_request
    def registered_first(response: erlen.Response) -> erlen.Response:
        order.append("first")
        response.headers["X-Order"] = ",".join(order)
        return response

    @app.after_request
    def registered_second(response: erlen.Response) -> erlen.Response:
        order.append("second")
        return erlen.Response("replaced")

    app.add_url_rule("/", "index", lambda: "view")
    rv = client.get("/")
    assert order == ["second", "first"]
    assert rv.data == b"replaced"
    assert rv.headers["X-Order"] == "second,first"


def test_after_request_order_blueprint_before_app(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    order = []
    bp = erlen.Blueprint("bp", __name__)

    @bp.after_request
    def bp_after(response: erlen.Response) -> erlen.Response:
        order.append("bp")
        return response

    @bp.after_app_request
    def bp_app_after(response: erlen.Response) -> erlen.Response:
        order.append("bp-app")
        return response

    @app.after_request
    def app_after(response: erlen.Response) -> erlen.Response:
        order.append("app")
        return response

    bp.add_url_rule("/bp", "index", lambda: "bp")
    app.register_blueprint(bp)
    client.get("/bp")
    # after_app_request joins the app list at registration, after app_after.
    assert order == ["bp", "bp-app", "app"]


def test_after_this_request(app: erlen.Erlen, client: ErlenClient) -> None:
    order = []

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        order.append("after_request")
        return response

    @app.route("/")
    def index() -> str:
        @erlen.after_this_request
        def once(response: erlen.Response) -> erlen.Response:
            order.append("after_this_request")
            response.headers["X-Once"] = "1"
            return response

        return "index"

    rv = client.get("/")
    assert rv.headers["X-Once"] == "1"
    assert order == ["after_this_request", "after_request"]
    order.clear()
    app.after_request_funcs[None].clear()


def test_teardown_request_receives_none(app: erlen.Erlen, client: ErlenClient) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    app.add_url_rule("/", "index", lambda: "ok")
    client.get("/")
    assert seen == [None]


def test_teardown_request_receives_the_exception(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError("boom")

    assert client.get("/").status_code == 500
    assert len(seen) == 1
    assert isinstance(seen[0], ZeroDivisionError)


def test_teardown_request_receives_propagated_exception(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError):
        client.get("/")
    assert isinstance(seen[0], ZeroDivisionError)


def test_teardown_request_does_not_see_handled_errors(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.errorhandler(ZeroDivisionError)
    def handle(e: ZeroDivisionError) -> tuple[str, int]:
        return "handled", 400

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError

    assert client.get("/").status_code == 400
    assert seen == [None]


def test_all_teardown_functions_run_when_one_raises(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    ran = []

    class FirstError(Exception):
        pass

    class SecondError(Exception):
        pass

    @app.teardown_request
    def registered_first(exc: BaseException | None) -> None:
        ran.append("registered_first")
        raise SecondError

    @app.teardown_request
    def registered_second(exc: BaseException | None) -> None:
        ran.append("registered_second")
        raise FirstError

    @app.teardown_request
    def registered_third(exc: BaseException | None) -> None:
        ran.append("registered_third")

    @app.teardown_appcontext
    def app_teardown(exc: BaseException | None) -> None:
        ran.append("appcontext")

    app.add_url_rule("/", "index", lambda: "ok")
    with pytest.raises(FirstError):
        client.get("/")
    assert ran == [
        "registered_third",
        "registered_second",
        "registered_first",
        "appcontext",
    ]
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_all_teardown_appcontext_functions_run(app: erlen.Erlen) -> None:
    ran = []

    @app.teardown_appcontext
    def first(exc: BaseException | None) -> None:
        ran.append("first")

    @app.teardown_appcontext
    def second(exc: BaseException | None) -> None:
        ran.append("second")
        raise KeyError("second")

    with pytest.raises(KeyError, match="second"):
        with app.app_context():
            pass
    assert ran == ["second", "first"]
    assert not erlen.has_app_context()


def test_teardown_with_test_request_context(app: erlen.Erlen) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    with app.test_request_context():
        assert seen == []
    assert seen == [None]
    with pytest.raises(ValueError):
        with app.test_request_context():
            raise ValueError("in block")
    assert isinstance(seen[1], ValueError)


def test_url_value_preprocessor_and_url_defaults(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.url_defaults
    def add_language(endpoint: str, values: dict[str, t.Any]) -> None:
        if "lang_code" in values or not app.url_map.is_endpoint_expecting(
            endpoint, "lang_code"
        ):
            return
        values["lang_code"] = erlen.g.lang_code

    @app.url_value_preprocessor
    def pull_language(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        erlen.g.lang_code = values.pop("lang_code", None) if values else None

    @app.route("/<lang_code>/")
    def index() -> str:
        return erlen.url_for("about")

    @app.route("/<lang_code>/about")
    def about() -> str:
        return erlen.url_for("index") + " " + erlen.g.lang_code

    assert client.get("/de/").data == b"/de/about"
    assert client.get("/fr/about").data == b"/fr/ fr"


def test_url_value_preprocessor_runs_before_before_request(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    order = []

    @app.before_request
    def before() -> None:
        order.append("before_request")

    @app.url_value_preprocessor
    def pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        order.append(f"preprocess {endpoint} {values}")

    @app.route("/<int:n>")
    def view(n: int) -> str:
        return str(n)

    assert client.get("/3").data == b"3"
    assert order == ["preprocess view {'n': 3}", "before_request"]


def test_setup_method_after_first_request(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.add_url_rule("/", "index", lambda: "ok")
    client.get("/")

    with pytest.raises(AssertionError) as exc_info:

        @app.route("/late")
        def late() -> str:
            return "late"

    message = str(exc_info.value)
    assert "The setup method 'route' can no longer be called on the application" in (
        message
    )
    assert "already handled its first request" in message
    for name, arg in [
        ("add_url_rule", "/x"),
        ("before_request", lambda: None),
        ("after_request", lambda r: r),
        ("teardown_request", lambda e: None),
        ("errorhandler", 404),
        ("url_defaults", lambda e, v: None),
        ("template_filter", "f"),
        ("teardown_appcontext", lambda e: None),
        ("register_blueprint", erlen.Blueprint("late", __name__)),
    ]:
        with pytest.raises(AssertionError, match=f"'{name}'"):
            getattr(app, name)(arg)


def test_app_is_a_wsgi_callable(app: erlen.Erlen) -> None:
    app.add_url_rule("/", "index", lambda: "wsgi")
    statuses = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.append(status)

    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder("/").get_environ()
    body = b"".join(app(environ, start_response))
    assert body == b"wsgi"
    assert statuses == ["200 OK"]


@pytest.mark.wsgi_only("wraps wsgi_app, which the ASGI entry does not call")
def test_wsgi_app_can_be_wrapped(app: erlen.Erlen, client: ErlenClient) -> None:
    app.add_url_rule("/", "index", lambda: "inner")
    inner = app.wsgi_app

    def middleware(environ: t.Any, start_response: t.Any) -> t.Any:
        def sr(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Any:
            return start_response(status, [*headers, ("X-Middleware", "1")], exc_info)

        return inner(environ, sr)

    app.wsgi_app = middleware  # type: ignore[method-assign]
    rv = client.get("/")
    assert rv.headers["X-Middleware"] == "1"


def test_request_blueprint_is_none_on_app_routes(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        return f"{erlen.request.blueprint}|{erlen.request.blueprints}|{erlen.request.endpoint}"

    assert client.get("/").data == b"None|[]|index"


def test_async_view_and_hooks(app: erlen.Erlen, client: ErlenClient) -> None:
    order = []

    @app.before_request
    async def before() -> None:
        order.append("before")

    @app.after_request
    async def after(response: erlen.Response) -> erlen.Response:
        order.append("after")
        return response

    @app.route("/")
    async def index() -> str:
        return "async"

    assert client.get("/").data == b"async"
    assert order == ["before", "after"]


def test_direct_registry_changes_before_first_request(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.add_url_rule("/", "index", lambda: "index")
    with app.test_request_context():
        pass
    seen = []
    app.before_request_funcs.setdefault(None, []).append(lambda: seen.append("before"))
    app.teardown_request_funcs.setdefault(None, []).append(
        lambda exc: seen.append("teardown")
    )
    client.get("/")
    assert seen == ["before", "teardown"]


def test_contexts_do_not_end_setup(app: erlen.Erlen, client: ErlenClient) -> None:
    with app.app_context():
        pass
    with app.test_request_context():
        pass

    @app.route("/")
    def index() -> str:
        return "still allowed"

    assert client.get("/").data == b"still allowed"


def test_options_lists_methods_of_all_rules_for_the_url(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    app.get("/")(lambda: "get")
    app.add_url_rule("/", "post", lambda: "post", methods=["POST"])
    assert sorted(client.options("/").allow) == ["GET", "HEAD", "OPTIONS", "POST"]
    assert client.post("/").data == b"post"


def test_strict_slashes_redirect_keeps_query_string(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/folder/")
    def folder() -> str:
        return erlen.request.args["q"]

    rv = client.get("/folder?q=x")
    assert rv.location == "http://localhost/folder/?q=x"


def test_subdomain_matching_rejects_other_hosts() -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/", "index", lambda: "index")
    client = app.test_client()
    assert client.get("/", "http://example.test/").data == b"index"
    with pytest.warns(UserWarning, match="server name"):
        assert client.get("/", "http://other.test/").status_code == 404


def test_before_request_return_value_forms(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.before_request
    def before() -> t.Any:
        kind = erlen.request.args.get("kind")
        if kind == "tuple":
            return "denied", 403, {"X-Reason": "tuple"}
        if kind == "dict":
            return {"denied": True}
        if kind == "abort":
            erlen.abort(erlen.Response("aborted", 401))
        return None

    app.add_url_rule("/", "index", lambda: "view")
    rv = client.get("/?kind=tuple")
    assert (rv.status_code, rv.data, rv.headers["X-Reason"]) == (
        403,
        b"denied",
        "tuple",
    )
    assert client.get("/?kind=dict").json == {"denied": True}
    rv = client.get("/?kind=abort")
    assert (rv.status_code, rv.data) == (401, b"aborted")
    assert client.get("/").data == b"view"


def test_request_pipeline_order(app: erlen.Erlen, client: ErlenClient) -> None:
    order: list[str] = []

    def signal(name: str) -> t.Callable[..., None]:
        def receiver(sender: t.Any, **kwargs: t.Any) -> None:
            assert sender is app
            order.append(name)

        return receiver

    receivers = {
        erlen.appcontext_pushed: signal("appcontext_pushed"),
        erlen.request_started: signal("request_started"),
        erlen.request_finished: signal("request_finished"),
        erlen.request_tearing_down: signal("request_tearing_down"),
        erlen.appcontext_tearing_down: signal("appcontext_tearing_down"),
        erlen.appcontext_popped: signal("appcontext_popped"),
    }

    @app.url_value_preprocessor
    def preprocess(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        order.append("url_value_preprocessor")

    @app.before_request
    def before() -> None:
        order.append("before_request")

    @app.after_request
    def after(response: erlen.Response) -> erlen.Response:
        order.append("after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        order.append("teardown_request")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        order.append("teardown_appcontext")

    @app.route("/")
    def index() -> str:
        order.append("view")

        @erlen.after_this_request
        def once(response: erlen.Response) -> erlen.Response:
            order.append("after_this_request")
            return response

        return "ok"

    for sig, receiver in receivers.items():
        sig.connect(receiver, app)
    try:
        assert client.get("/").data == b"ok"
    finally:
        for sig, receiver in receivers.items():
            sig.disconnect(receiver, app)
    assert order == [
        "appcontext_pushed",
        "request_started",
        "url_value_preprocessor",
        "before_request",
        "view",
        "after_this_request",
        "after_request",
        "request_finished",
        "teardown_request",
        "request_tearing_down",
        "teardown_appcontext",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]


def test_request_reuses_an_active_app_context(app: erlen.Erlen) -> None:
    with app.app_context() as app_ctx:
        erlen.g.value = "outer"
        with app.test_request_context():
            assert erlen.g.value == "outer"
            assert erlen.current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert erlen.has_app_context()
        assert app_ctx.g.value == "outer"


def test_popping_the_wrong_context(app: erlen.Erlen) -> None:
    outer = app.test_request_context("/outer")
    inner = app.test_request_context("/inner")
    outer.push()
    inner.push()
    try:
        with pytest.raises(AssertionError, match="Popped wrong request context"):
            outer.pop()
    finally:
        while erlen.has_request_context():
            erlen.globals._cv_request.get().pop()
        while erlen.has_app_context():
            erlen.globals._cv_app.get().pop()


def test_test_request_context_matches_the_url(app: erlen.Erlen) -> None:
    @app.route("/users/<int:user_id>", methods=["GET", "POST"])
    def user(user_id: int) -> str:
        return ""

    with app.test_request_context("/users/3", method="POST"):
        req = erlen.request
        assert req.endpoint == "user"
        assert req.view_args == {"user_id": 3}
        assert req.url_rule is not None and req.url_rule.rule == "/users/<int:user_id>"
        assert req.method == "POST"
    with app.test_request_context("/missing"):
        assert erlen.request.url_rule is None
        assert isinstance(erlen.request.routing_exception, NotFound)


def test_instance_path_of_namespace_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "a_ns_pkg").mkdir(parents=True)
    (project / "a_ns_pkg" / "a_ns_app.py").write_text(
        "import erlen\napp = erlen.Erlen(__name__)\n"
    )
    monkeypatch.syspath_prepend(str(project))
    try:
        from a_ns_pkg import a_ns_app  # type: ignore[import-not-found]

        assert a_ns_app.app.instance_path == str(project / "instance")
    finally:
        sys.modules.pop("a_ns_pkg.a_ns_app", None)
        sys.modules.pop("a_ns_pkg", None)


def test_instance_path_of_package_in_other_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site_packages = tmp_path / "env" / "lib" / "python3.x" / "site-packages"
    (site_packages / "a_env_app").mkdir(parents=True)
    (site_packages / "a_env_app" / "__init__.py").write_text(
        "import erlen\napp = erlen.Erlen(__name__)\n"
    )
    monkeypatch.syspath_prepend(str(site_packages))
    try:
        import a_env_app  # type: ignore[import-not-found]

        assert a_env_app.app.instance_path == str(
            tmp_path / "env" / "var" / "a_env_app-instance"
        )
    finally:
        sys.modules.pop("a_env_app", None)


def test_static_file_max_age(app: erlen.Erlen, client: ErlenClient) -> None:
    from datetime import timedelta

    rv = client.get("/static/a_index.html")
    assert rv.cache_control.max_age is None
    assert rv.cache_control.no_cache
    rv.close()
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = timedelta(hours=1)
    rv = client.get("/static/a_index.html")
    assert rv.cache_control.max_age == 3600
    rv.close()
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 60
    rv = client.get("/static/a_index.html")
    assert rv.cache_control.max_age == 60
    rv.close()


def test_get_send_file_max_age_override(client: ErlenClient) -> None:
    class MyApp(erlen.Erlen):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 7 if filename and filename.endswith(".html") else None

    app = MyApp(__name__)
    rv = app.test_client().get("/static/a_index.html")
    assert rv.cache_control.max_age == 7
    rv.close()


def test_send_static_file_without_static_folder() -> None:
    app = erlen.Erlen(__name__, static_folder=None)
    assert app.static_url_path is None
    with app.test_request_context():
        with pytest.raises(RuntimeError, match="does not have a static folder"):
            app.send_static_file("a_index.html")


def test_app_template_decorators(app: erlen.Erlen) -> None:
    @app.template_filter
    def bare_filter(s: str) -> str:
        return s[::-1]

    @app.template_filter("named_filter")
    def some_filter(s: str) -> str:
        return s.upper()

    @app.template_test()
    def is_one(n: int) -> bool:
        return n == 1

    @app.template_test
    def is_two(n: int) -> bool:
        return n == 2

    @app.template_global
    def answer() -> int:
        return 42

    @app.template_global("named_global")
    def other() -> str:
        return "g"

    app.add_template_filter(str.lower, "lower_it")
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ 'ab'|bare_filter }} {{ 'ab'|named_filter }} {{ 1 is is_one }}"
            " {{ 2 is is_two }} {{ answer() }} {{ named_global() }}"
            " {{ 'AB'|lower_it }}"
        )
    assert rendered == "ba AB True True 42 g ab"


def test_should_ignore_error_override(client: ErlenClient) -> None:
    seen: list[BaseException | None] = []

    class MyApp(erlen.Erlen):
        def should_ignore_error(self, error: BaseException | None) -> bool:
            return isinstance(error, ValueError)

    app = MyApp(__name__)

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/<kind>")
    def index(kind: str) -> str:
        raise ValueError if kind == "value" else KeyError

    client = app.test_client()
    assert client.get("/value").status_code == 500
    assert client.get("/key").status_code == 500
    assert seen[0] is None
    assert isinstance(seen[1], KeyError)
