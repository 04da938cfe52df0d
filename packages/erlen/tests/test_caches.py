"""Every cache the app keeps (docs/internals.md) follows changes Flask allows:
hooks added with decorators or straight into the registries (as Flask-Caching
does), before, between and during requests; blueprints; views; config."""

from __future__ import annotations

import threading
import typing as t

import pytest
from werkzeug.routing import Rule

import erlen

#: Through the WSGI and the ASGI entry, the apps made in helpers too.
pytestmark = pytest.mark.usefixtures("any_app_entry")


@pytest.fixture
def app() -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.secret_key = "k" * 40

    @app.route("/")
    def index() -> str:
        return "index"

    return app


def _tag(name: str) -> t.Callable[[erlen.Response], erlen.Response]:
    def after(response: erlen.Response) -> erlen.Response:
        response.headers.add("X-Hook", name)
        return response

    return after


def test_after_request_appended_to_registry_between_requests(app: erlen.Erlen) -> None:
    client = app.test_client()
    assert "X-Hook" not in client.get("/").headers
    app.after_request_funcs[None].append(_tag("direct"))
    assert client.get("/").headers.getlist("X-Hook") == ["direct"]
    app.after_request_funcs.setdefault(None, []).append(_tag("setdefault"))
    assert client.get("/").headers.getlist("X-Hook") == ["setdefault", "direct"]
    app.after_request_funcs[None].pop()
    assert client.get("/").headers.getlist("X-Hook") == ["direct"]
    app.after_request_funcs[None] = [_tag("replaced")]
    assert client.get("/").headers.getlist("X-Hook") == ["replaced"]
    del app.after_request_funcs[None]
    assert "X-Hook" not in client.get("/").headers


def test_after_request_appended_during_the_request(app: erlen.Erlen) -> None:
    @app.route("/add")
    def add() -> str:
        app.after_request_funcs[None].append(_tag("during"))
        return "added"

    client = app.test_client()
    client.get("/")
    assert client.get("/add").headers.getlist("X-Hook") == ["during"]


def test_before_and_teardown_appended_to_registries(app: erlen.Erlen) -> None:
    events: list[str] = []
    client = app.test_client()
    client.get("/")
    app.before_request_funcs[None].append(lambda: events.append("before"))
    app.teardown_request_funcs[None].append(lambda exc: events.append("teardown"))
    app.teardown_appcontext_funcs.append(lambda exc: events.append("appcontext"))
    client.get("/")
    assert events == ["before", "teardown", "appcontext"]
    app.teardown_appcontext_funcs.clear()
    events.clear()
    client.get("/")
    assert events == ["before", "teardown"]


def test_url_value_preprocessor_appended_to_registry(app: erlen.Erlen) -> None:
    seen: list[t.Any] = []

    @app.route("/item/<int:id>")
    def item(id: int) -> str:
        return str(id)

    client = app.test_client()
    client.get("/item/1")
    app.url_value_preprocessors[None].append(lambda e, v: seen.append(v))
    client.get("/item/2")
    assert seen == [{"id": 2}]


def test_blueprint_hooks_appended_to_registry(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.route("/bp")
    def bp_index() -> str:
        return "bp"

    app.register_blueprint(bp)
    client = app.test_client()
    client.get("/bp")
    app.after_request_funcs.setdefault("bp", []).append(_tag("bp"))
    assert client.get("/bp").headers.getlist("X-Hook") == ["bp"]
    assert "X-Hook" not in client.get("/").headers


def test_setup_after_a_test_context_still_applies(app: erlen.Erlen) -> None:
    with app.test_request_context("/"):
        app.preprocess_request()
    bp = erlen.Blueprint("late", __name__)

    @bp.route("/late")
    def late() -> str:
        return "late"

    bp.after_app_request(_tag("bp-app-wide"))
    app.register_blueprint(bp)
    app.after_request(_tag("app"))
    client = app.test_client()
    assert client.get("/late").headers.getlist("X-Hook") == ["app", "bp-app-wide"]


def test_setup_methods_after_first_request_are_refused(app: erlen.Erlen) -> None:
    app.test_client().get("/")
    with pytest.raises(AssertionError, match="setup method 'add_url_rule'"):
        app.add_url_rule("/x", view_func=lambda: "x")
    with pytest.raises(AssertionError, match="setup method 'after_request'"):
        app.after_request(_tag("late"))


def test_rule_and_view_added_directly_after_first_request(app: erlen.Erlen) -> None:
    client = app.test_client()
    client.get("/")
    app.url_map.add(Rule("/direct", endpoint="direct"))
    app.view_functions["direct"] = lambda: "direct"
    assert client.get("/direct").data == b"direct"
    app.view_functions["index"] = lambda: "replaced"
    assert client.get("/").data == b"replaced"


def test_security_header_config_changes_apply(app: erlen.Erlen) -> None:
    client = app.test_client()
    assert client.get("/").headers["X-Frame-Options"] == "DENY"
    app.config["SECURITY_HEADERS"]["X-Frame-Options"] = "SAMEORIGIN"
    assert client.get("/").headers["X-Frame-Options"] == "SAMEORIGIN"
    app.config["SECURITY_HEADERS"] = {}
    assert "X-Frame-Options" not in client.get("/").headers
    https = "https://localhost"
    assert "Strict-Transport-Security" not in client.get("/", base_url=https).headers
    app.config["SESSION_COOKIE_SECURE"] = True
    assert "Strict-Transport-Security" in client.get("/", base_url=https).headers
    app.config["STRICT_TRANSPORT_SECURITY"] = "max-age=60"
    hsts = client.get("/", base_url=https).headers["Strict-Transport-Security"]
    assert hsts == "max-age=60"


def test_secret_key_change_applies(app: erlen.Erlen) -> None:
    @app.route("/set")
    def set_value() -> str:
        erlen.session["v"] = "x"
        return ""

    @app.route("/get")
    def get_value() -> str:
        return str(erlen.session.get("v"))

    client = app.test_client()
    client.get("/set")
    assert client.get("/get").data == b"x"
    app.secret_key = "n" * 40
    assert client.get("/get").data == b"None"  # the old cookie no longer verifies
    app.config["SECRET_KEY_FALLBACKS"] = ["k" * 40]
    client.get("/set")
    assert client.get("/get").data == b"x"


def test_two_apps_sharing_the_session_interface_keep_their_keys() -> None:
    apps = [erlen.Erlen(__name__), erlen.Erlen(__name__)]
    for n, app in enumerate(apps):
        app.secret_key = f"{n}" * 40

        @app.route("/")
        def index() -> str:
            erlen.session["n"] = erlen.session.get("n", 0) + 1
            return str(erlen.session["n"])

    assert apps[0].session_interface is apps[1].session_interface
    clients = [app.test_client() for app in apps]
    for _ in range(2):
        for client in clients:
            client.get("/")
    cookie = clients[0].get_cookie("session")
    assert cookie is not None
    clients[1].set_cookie("session", cookie.value)
    assert clients[1].get("/").data == b"1"  # app 0's cookie does not verify in app 1


def test_response_class_and_mimetype_changes_apply(app: erlen.Erlen) -> None:
    client = app.test_client()
    assert client.get("/").content_type == "text/html; charset=utf-8"

    class TextResponse(erlen.Response):
        default_mimetype = "text/plain"

    app.response_class = TextResponse
    assert client.get("/").content_type == "text/plain; charset=utf-8"
    TextResponse.default_mimetype = "text/csv"
    assert client.get("/").content_type == "text/csv; charset=utf-8"


def test_hooks_appended_to_registries_reach_async_views(app: erlen.Erlen) -> None:
    """The ASGI entry awaits async views' hooks itself: from the same chain."""
    events: list[str] = []
    bp = erlen.Blueprint("abp", __name__)

    @bp.route("/abp/<int:id>")
    async def abp_item(id: int) -> str:
        events.append(f"view {id}")
        return "abp"

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/abp/1").data == b"abp"
    events.clear()

    async def app_before() -> None:
        events.append("app before")

    app.before_request_funcs[None].append(app_before)
    app.before_request_funcs.setdefault("abp", []).append(
        lambda: events.append("bp before")
    )
    app.url_value_preprocessors["abp"].append(
        lambda endpoint, values: events.append(f"values {values}")
    )
    app.after_request_funcs[None].append(_tag("app"))
    app.after_request_funcs["abp"].append(_tag("bp"))
    response = client.get("/abp/2")
    assert events == ["values {'id': 2}", "app before", "bp before", "view 2"]
    assert response.headers.getlist("X-Hook") == ["bp", "app"]

    app.before_request_funcs["abp"].append(lambda: "stopped by a hook")
    assert client.get("/abp/3").data == b"stopped by a hook"
    del app.before_request_funcs["abp"]
    app.url_value_preprocessors.clear()
    app.after_request_funcs[None].clear()
    events.clear()
    response = client.get("/abp/4")
    assert events == ["app before", "view 4"]
    assert response.headers.getlist("X-Hook") == ["bp"]


def test_after_hooks_appended_during_an_async_view(
    app: erlen.Erlen, any_app_entry: str
) -> None:
    threads: list[str] = []

    async def mark(response: erlen.Response) -> erlen.Response:
        response.headers["X-Async"] = "yes"
        return response

    def sync_mark(response: erlen.Response) -> erlen.Response:
        threads.append(threading.current_thread().name)
        return response

    @app.route("/add")
    async def add() -> str:
        app.after_request_funcs[None] += [mark, sync_mark]
        return "added"

    client = app.test_client()
    client.get("/")
    assert client.get("/add").headers["X-Async"] == "yes"
    if any_app_entry == "asgi":  # a sync hook never runs on the server's loop
        assert threads[0].startswith("erlen-asgi")
    else:
        assert threads == [threading.current_thread().name]


def _host_app() -> erlen.Erlen:
    app = erlen.Erlen(__name__)

    @app.route("/")
    def index() -> str:
        return erlen.request.host

    return app


def test_known_hosts_follow_trusted_hosts() -> None:
    app = _host_app()
    client = app.test_client()
    for _ in range(2):  # the second request finds the host remembered
        assert client.get("/", headers={"Host": "a.example:80"}).text == "a.example"
    app.config["TRUSTED_HOSTS"] = ["b.example"]
    assert client.get("/", headers={"Host": "a.example"}).status_code == 400
    assert client.get("/", headers={"Host": "b.example"}).text == "b.example"
    app.config["TRUSTED_HOSTS"] = None
    assert client.get("/", headers={"Host": "a.example"}).text == "a.example"


def test_known_hosts_follow_server_name_and_url_map() -> None:
    app = _host_app()

    @app.route("/url")
    def url() -> str:
        return erlen.url_for("url", _external=True)

    client = app.test_client()
    for _ in range(2):
        assert client.get("/url", headers={"Host": "a.example"}).text == (
            "http://a.example/url"
        )
    app.config["SERVER_NAME"] = "b.example"
    assert client.get("/url", headers={"Host": "a.example"}).text == (
        "http://b.example/url"
    )
    app.config["SERVER_NAME"] = None
    app.url_map.add(Rule("/new", endpoint="new"))
    app.view_functions["new"] = lambda: "new"
    assert client.get("/new", headers={"Host": "a.example"}).text == "new"


def test_known_hosts_are_bounded_and_per_app() -> None:
    app, other = _host_app(), _host_app()
    client = app.test_client()
    for i in range(200):  # many hosts, as a hostile client may send
        host = f"h{i}.example"
        assert client.get("/", headers={"Host": host}).text == host
        assert client.get("/", headers={"Host": host}).text == host
    assert 0 < len(app._known_hosts) <= 64
    assert other._known_hosts == {}
    long_host = ".".join(["a" * 60] * 5)  # longer than any remembered host
    assert client.get("/", headers={"Host": long_host}).text == long_host
    assert long_host not in {key[1] for key in app._known_hosts}


@pytest.mark.parametrize("host", [".example.com", "a..b", "A.Example:80", "[::1]:8080"])
def test_known_hosts_answer_as_the_first_request(host: str) -> None:
    first = _host_app().test_client().get("/", headers={"Host": host})
    client = _host_app().test_client()
    for _ in range(3):  # a rejected host is never remembered
        rv = client.get("/", headers={"Host": host})
        assert (rv.status_code, rv.text) == (first.status_code, first.text)


def test_known_hosts_skip_request_classes_with_their_own_host() -> None:
    app = _host_app()
    calls: list[str] = []

    class Request(erlen.Request):
        @property
        def host(self) -> str:  # type: ignore[override]
            calls.append("host")
            return "own.example"

    app.request_class = Request
    client = app.test_client()
    for _ in range(2):
        assert client.get("/").text == "own.example"
    assert len(calls) >= 2
    assert app._known_hosts == {}


def test_create_url_adapter_takes_the_request_proxy() -> None:
    # Flask-RESTful calls app.create_url_adapter(flask.request) from its
    # error router: the proxy is not a request class, so nothing is remembered.
    app = _host_app()

    @app.route("/adapter")
    def adapter() -> str:
        bound = app.create_url_adapter(erlen.request)  # type: ignore[arg-type]
        assert bound is not None
        return bound.match("/adapter")[0]

    client = app.test_client()
    for _ in range(2):
        assert client.get("/adapter", headers={"Host": "a.example"}).text == "adapter"
