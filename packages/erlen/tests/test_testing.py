"""The test client, ``EnvironBuilder`` and the CLI runner."""

from __future__ import annotations

import importlib.metadata
import typing as t
from datetime import date

import click
import pytest
from werkzeug.test import EnvironBuilder as WerkzeugEnvironBuilder

import erlen
from erlen.testing import EnvironBuilder
from erlen.testing import ErlenClient
from erlen.testing import ErlenCliRunner


def test_environ_defaults(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return erlen.request.remote_addr or ""

    @app.route("/agent")
    def agent() -> str:
        return erlen.request.user_agent.string

    assert client.get("/").data == b"127.0.0.1"
    assert (
        client.get("/agent").data
        == f"Werkzeug/{importlib.metadata.version('werkzeug')}".encode()
    )
    with client:
        client.get("/")
        assert erlen.request.url == "http://localhost/"
        assert erlen.request.remote_addr == "127.0.0.1"


def test_environ_base_override(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return erlen.request.remote_addr or ""

    client.environ_base["REMOTE_ADDR"] = "10.0.0.1"
    assert client.get("/").data == b"10.0.0.1"
    assert client.get("/", environ_base={"REMOTE_ADDR": "10.0.0.2"}).data == b"10.0.0.2"
    assert (
        client.get("/", environ_overrides={"REMOTE_ADDR": "10.0.0.3"}).data
        == b"10.0.0.3"
    )


def test_environ_builder_base_url_from_config(app: erlen.Erlen) -> None:
    app.config.update(
        SERVER_NAME="example.test:8080",
        APPLICATION_ROOT="/root",
        PREFERRED_URL_SCHEME="https",
    )
    builder = EnvironBuilder(app, "/page?x=1")
    try:
        assert builder.base_url == "https://example.test:8080/root/"
        assert builder.path == "/page"
        assert builder.query_string == "x=1"
        environ = builder.get_environ()
    finally:
        builder.close()
    assert environ["SCRIPT_NAME"] == "/root"
    assert environ["HTTP_HOST"] == "example.test:8080"
    assert environ["wsgi.url_scheme"] == "https"


def test_environ_builder_defaults(app: erlen.Erlen) -> None:
    builder = EnvironBuilder(app)
    assert builder.base_url == "http://localhost/"
    assert builder.path == "/"
    builder.close()


def test_environ_builder_subdomain_and_scheme(app: erlen.Erlen) -> None:
    app.config["SERVER_NAME"] = "example.test"
    builder = EnvironBuilder(app, subdomain="api", url_scheme="https")
    assert builder.base_url == "https://api.example.test/"
    builder.close()
    builder = EnvironBuilder(app, "http://other.test/x")
    assert builder.base_url == "http://other.test/"
    assert builder.path == "/x"
    builder.close()
    with pytest.raises(ValueError, match="base_url"):
        EnvironBuilder(app, base_url="http://x.test/", subdomain="a")
    with pytest.raises(ValueError, match="base_url"):
        EnvironBuilder(app, base_url="http://x.test/", url_scheme="https")


def test_subdomain_request(app: erlen.Erlen) -> None:
    app.config["SERVER_NAME"] = "example.test"
    app.subdomain_matching = True
    app.url_map.default_subdomain = ""

    @app.route("/", subdomain="<user>")
    def profile(user: str) -> str:
        return f"profile of {user}"

    client = app.test_client()
    rv = client.get("/", subdomain="ann")
    assert rv.data == b"profile of ann"
    with app.test_request_context("/", subdomain="bob"):
        assert erlen.request.host == "bob.example.test"


def test_url_scheme(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return erlen.request.url

    assert client.get("/", url_scheme="https").data == b"https://localhost/"


def test_client_open_forms(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return f"{erlen.request.method} {erlen.request.full_path}"

    builder = EnvironBuilder(app, "/?a=1", method="POST")
    try:
        assert client.open(builder).data == b"POST /?a=1"
    finally:
        builder.close()
    wz_builder = WerkzeugEnvironBuilder("/?b=2")
    environ = wz_builder.get_environ()
    wz_builder.close()
    assert client.open(environ).data == b"GET /?b=2"
    request = erlen.Request(environ)
    assert client.open(request).data == b"GET /?b=2"
    assert client.open("/?c=3", method="POST").data == b"POST /?c=3"


def test_cookies_kept(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/set")
    def set_cookie() -> erlen.Response:
        rv = erlen.make_response("set")
        rv.set_cookie("flavour", "oatmeal")
        return rv

    @app.route("/get")
    def get_cookie() -> str:
        return erlen.request.cookies.get("flavour", "none")

    assert client.get("/get").data == b"none"
    client.get("/set")
    assert client.get("/get").data == b"oatmeal"
    assert client.get_cookie("flavour").value == "oatmeal"  # type: ignore[union-attr]
    client.delete_cookie("flavour")
    assert client.get("/get").data == b"none"
    client.set_cookie("flavour", "chocolate")
    assert client.get("/get").data == b"chocolate"


def test_no_cookies(app: erlen.Erlen) -> None:
    @app.route("/set")
    def set_cookie() -> erlen.Response:
        rv = erlen.make_response("set")
        rv.set_cookie("flavour", "oatmeal")
        return rv

    @app.route("/get")
    def get_cookie() -> str:
        return erlen.request.cookies.get("flavour", "none")

    client = app.test_client(use_cookies=False)
    client.get("/set")
    assert client.get("/get").data == b"none"


def test_session_persists(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/set/<value>")
    def set_value(value: str) -> str:
        erlen.session["value"] = value
        return "ok"

    @app.route("/get")
    def get_value() -> str:
        return erlen.session.get("value", "none")  # type: ignore[no-any-return]

    client.get("/set/42")
    assert client.get("/get").data == b"42"


def test_session_transaction(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return str(erlen.session.get("user"))

    @app.route("/set")
    def set_() -> str:
        erlen.session["from_view"] = True
        return ""

    with client.session_transaction() as sess:
        assert len(sess) == 0
        sess["user"] = "ann"
    assert client.get("/").data == b"ann"

    client.get("/set")
    with client.session_transaction() as sess:
        assert sess["user"] == "ann"
        assert sess["from_view"] is True
        sess["user"] = "bob"
        sess["pair"] = (1, b"two")
    assert client.get("/").data == b"bob"
    with client.session_transaction() as sess:
        assert sess["pair"] == (1, b"two")


def test_session_transaction_not_saved_on_error(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        return str(erlen.session.get("user"))

    with pytest.raises(ZeroDivisionError):
        with client.session_transaction() as sess:
            sess["user"] = "ann"
            1 / 0  # noqa: B018
    assert client.get("/").data == b"None"


def test_session_transaction_no_cookies(app: erlen.Erlen) -> None:
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError, match="use_cookies"):
        with client.session_transaction():
            pass


def test_session_transaction_no_secret_key(app: erlen.Erlen) -> None:
    app.secret_key = None
    client = app.test_client()
    with pytest.raises(RuntimeError, match="did not open a session.*SECRET_KEY"):
        with client.session_transaction() as sess:
            sess["x"] = 1


def test_session_transaction_with_server_name(app: erlen.Erlen) -> None:
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/")
    def index() -> str:
        return str(erlen.session.get("user"))

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = "carl"
    assert client.get("/").data == b"carl"


def test_with_client_keeps_context(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        erlen.session["seen"] = True
        erlen.g.value = "kept"
        return "ok"

    @app.route("/other")
    def other() -> str:
        return "other"

    with client:
        client.get("/?q=1")
        assert erlen.request.args["q"] == "1"
        assert erlen.session["seen"] is True
        assert erlen.g.value == "kept"
        client.get("/other")
        assert erlen.request.path == "/other"
        assert "value" not in erlen.g
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()
    client.get("/")
    assert not erlen.has_request_context()


def test_with_client_teardown(app: erlen.Erlen, client: ErlenClient) -> None:
    """As in Flask, teardown runs when the request ends; the kept context is a re-push."""
    torn_down: list[str] = []

    @app.route("/")
    def index() -> str:
        return "ok"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(erlen.request.path)

    with client:
        client.get("/")
        assert torn_down == ["/"]
        assert erlen.request.path == "/"
    assert torn_down[-1] == "/"
    assert not erlen.has_request_context()


def test_with_client_nesting_raises(client: ErlenClient) -> None:
    with client:
        with pytest.raises(RuntimeError, match="nest"):
            with client:
                pass


def test_with_client_keeps_context_after_error(app: erlen.Erlen) -> None:
    app.testing = False

    @app.route("/")
    def index() -> str:
        raise ValueError("boom")

    client = app.test_client()
    with client:
        assert client.get("/?x=1").status_code == 500
        assert erlen.request.args["x"] == "1"


def test_follow_redirects(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return erlen.redirect("/target")

    @app.route("/target")
    def target() -> str:
        return "arrived"

    rv = client.get("/", follow_redirects=True)
    assert rv.data == b"arrived"
    assert rv.request.path == "/target"
    assert len(rv.history) == 1
    assert rv.history[0].status_code == 302
    assert client.get("/").status_code == 302


def test_follow_redirects_keeps_last_context(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> t.Any:
        return erlen.redirect("/target")

    @app.route("/target")
    def target() -> str:
        return "arrived"

    client = app.test_client()
    with client:
        client.get("/", follow_redirects=True)
        assert erlen.request.path == "/target"


def test_json_argument_uses_app_json(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.post("/")
    def index() -> t.Any:
        return {
            "raw": erlen.request.get_data(as_text=True),
            "parsed": erlen.request.json,
        }

    rv = client.post("/", json={"when": date(2021, 2, 3)})
    assert rv.json == {
        "raw": '{"when": "Wed, 03 Feb 2021 00:00:00 GMT"}',
        "parsed": {"when": "Wed, 03 Feb 2021 00:00:00 GMT"},
    }
    assert rv.request.mimetype == "application/json"


def test_json_argument_custom_provider(app: erlen.Erlen) -> None:
    class Provider(erlen.json.provider.DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return super().dumps({"wrapped": obj}, **kwargs)

    app.json = Provider(app)

    @app.post("/")
    def index() -> str:
        return erlen.request.get_data(as_text=True)

    assert app.test_client().post("/", json=[1]).data == b'{"wrapped": [1]}'
    with app.test_request_context(json={"x": 1}):
        assert erlen.request.get_json() == {"wrapped": {"x": 1}}


def test_response_json(app: erlen.Erlen, client: ErlenClient) -> None:
    @app.route("/")
    def index() -> t.Any:
        return erlen.jsonify(a=1, b=[1, 2])

    @app.route("/text")
    def text() -> str:
        return "not json"

    rv = client.get("/")
    assert rv.json == {"a": 1, "b": [1, 2]}
    assert rv.json_module is app.json
    assert client.get("/text").json is None


def test_test_client_class(app: erlen.Erlen) -> None:
    class MyClient(ErlenClient):
        pass

    app.test_client_class = MyClient
    assert isinstance(app.test_client(), MyClient)


def test_cli_runner_invokes_app_command(app: erlen.Erlen) -> None:
    @app.cli.command("hello")
    @click.option("--name", default="World")
    def hello(name: str) -> None:
        click.echo(f"Hello {name} from {erlen.current_app.name}")

    runner = app.test_cli_runner()
    assert isinstance(runner, ErlenCliRunner)
    result = runner.invoke(args=["hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello World from erlen_test\n"
    result = runner.invoke(args=["hello", "--name", "Ann"])
    assert result.output == "Hello Ann from erlen_test\n"


def test_cli_runner_command_object(app: erlen.Erlen) -> None:
    @app.cli.command()
    def where() -> None:
        click.echo(str(erlen.has_app_context()))

    result = app.test_cli_runner().invoke(where)
    assert result.exit_code == 0, result.output
    assert result.output == "True\n"


def test_cli_runner_with_appcontext(app: erlen.Erlen) -> None:
    from erlen.cli import with_appcontext

    @click.command()
    @with_appcontext
    def plain() -> None:
        click.echo(erlen.current_app.name)

    result = app.test_cli_runner().invoke(plain)
    assert result.exit_code == 0, result.output
    assert result.output == "erlen_test\n"


def test_cli_runner_class(app: erlen.Erlen) -> None:
    class MyRunner(ErlenCliRunner):
        pass

    app.test_cli_runner_class = MyRunner
    assert isinstance(app.test_cli_runner(), MyRunner)


def test_path_is_full_url(app: erlen.Erlen) -> None:
    with app.test_request_context("https://example.test/x?y=1"):
        assert erlen.request.url_root == "https://example.test/"
        assert erlen.request.host == "example.test"
        assert erlen.request.script_root == ""
        assert erlen.request.path == "/x"
        assert erlen.request.args["y"] == "1"


def test_environ_builder_json_dumps(app: erlen.Erlen) -> None:
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    builder = EnvironBuilder(app, json="\u20ac")
    try:
        assert builder.input_stream.read().decode() == '"\u20ac"'  # type: ignore[union-attr]
    finally:
        builder.close()


def test_json_argument_needs_no_app_context(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    popped: list[object] = []

    @app.post("/")
    def index() -> str:
        return f"Hello, {erlen.request.json['name']}!"

    with erlen.appcontext_popped.connected_to(lambda sender: popped.append(1), app):
        rv = client.post("/", json={"name": "erlen"})
    assert rv.data == b"Hello, erlen!"
    assert popped == [1]


def test_reuse_client(app: erlen.Erlen, client: ErlenClient) -> None:
    with client:
        assert client.get("/").status_code == 404
    with client:
        assert client.get("/").status_code == 404
    assert not erlen.has_request_context()


def test_session_transaction_keeps_preserved_context(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        return ""

    with client:
        client.get("/?kept=1")
        req = erlen.request._get_current_object()  # type: ignore[attr-defined]
        with client.session_transaction() as sess:
            sess["x"] = 1
            assert erlen.request._get_current_object() is req  # type: ignore[attr-defined]
        assert erlen.request._get_current_object() is req  # type: ignore[attr-defined]


def test_session_kept_across_followed_redirect(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.route("/")
    def index() -> t.Any:
        erlen.session["redirected"] = True
        return erlen.redirect("/target")

    @app.route("/target")
    def target() -> str:
        return str(erlen.session["redirected"])

    with client:
        rv = client.get("/", follow_redirects=True)
        assert rv.data == b"True"
        assert erlen.session["redirected"] is True


def test_cli_runner_custom_obj(app: erlen.Erlen) -> None:
    from erlen.cli import ScriptInfo

    called: list[bool] = []

    def create_app() -> erlen.Erlen:
        called.append(True)
        return app

    @app.cli.command("hello")
    def hello() -> None:
        click.echo("hi")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["hello"], obj=ScriptInfo(create_app=create_app))
    assert result.output == "hi\n"
    assert called == [True]


def test_with_client_failed_request_context_not_repushed(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    torn_down: list[str] = []

    @app.route("/fail")
    def fail() -> str:
        raise ValueError("propagated")

    @app.route("/ok")
    def ok() -> str:
        return "ok"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(erlen.request.path)

    with client:
        with pytest.raises(ValueError):
            client.get("/fail")
        assert not erlen.has_request_context()
        client.get("/ok")
        assert erlen.request.path == "/ok"
    assert not erlen.has_request_context()
    assert torn_down.count("/fail") == 1


def test_session_transaction_with_application_root(app: erlen.Erlen) -> None:
    app.config["APPLICATION_ROOT"] = "/root"

    @app.route("/")
    def index() -> str:
        return str(erlen.session.get("user"))

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = "dee"
    assert client.get("/").data == b"dee"
    assert client.get_cookie("session", path="/root") is not None
