"""Blueprints from the user's side: registration, nesting, hooks, files, CLI."""

from __future__ import annotations

import typing as t
from pathlib import Path

import click
import pytest
from werkzeug.exceptions import NotFound

import erlen
from erlen.blueprints import BlueprintSetupState
from erlen.testing import ErlenClient

# -- URL prefix, subdomain, defaults ---------------------------------------------------


def test_url_prefix(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/")
    def index() -> str:
        return erlen.request.endpoint or ""

    @bp.route("/page")
    def page() -> str:
        return erlen.url_for(".index")

    app.register_blueprint(bp)
    assert client.get("/bp/").data == b"bp.index"
    assert client.get("/bp/page").data == b"/bp/"
    assert client.get("/page").status_code == 404


def test_url_prefix_given_at_registration_wins(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/ignored")
    bp.add_url_rule("/x", "x", lambda: "x")
    app.register_blueprint(bp, url_prefix="/used")
    assert client.get("/used/x").data == b"x"
    assert client.get("/ignored/x").status_code == 404


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    [
        ("/bp", "/x", "/bp/x"),
        ("/bp/", "/x", "/bp/x"),
        ("/bp/", "x", "/bp/x"),
        ("/bp", "", "/bp"),
        ("/bp/", "", "/bp/"),
        ("/bp", "/", "/bp/"),
        ("", "/x", "/x"),
    ],
)
def test_url_prefix_and_rule_are_joined(
    app: erlen.Erlen, prefix: str, rule: str, url: str
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix=prefix)
    bp.add_url_rule(rule, "view", lambda: "ok")
    app.register_blueprint(bp)
    with app.test_request_context():
        assert erlen.url_for("bp.view") == url
    assert app.test_client().get(url).data == b"ok"


def test_subdomain(client: ErlenClient) -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    bp = erlen.Blueprint("api", __name__, subdomain="api")

    @bp.route("/")
    def index() -> str:
        return "api index"

    @app.route("/")
    def main() -> str:
        return "main"

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/", "http://api.example.test/").data == b"api index"
    assert client.get("/", "http://example.test/").data == b"main"
    with app.app_context():
        assert erlen.url_for("api.index") == "http://api.example.test/"


def test_subdomain_at_registration(client: ErlenClient) -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    bp = erlen.Blueprint("users", __name__)

    @bp.route("/")
    def index(user: str) -> str:
        return f"home of {user}"

    app.register_blueprint(bp, subdomain="<user>")
    client = app.test_client()
    assert client.get("/", "http://alice.example.test/").data == b"home of alice"


def test_blueprint_url_defaults(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__, url_defaults={"page": 1})

    @bp.route("/pages/")
    def pages(page: int) -> str:
        return f"page {page}"

    app.register_blueprint(bp)
    app.register_blueprint(
        bp, name="other", url_prefix="/other", url_defaults={"page": 9}
    )
    assert client.get("/pages/").data == b"page 1"
    assert client.get("/other/pages/").data == b"page 9"
    with app.test_request_context():
        assert erlen.url_for("bp.pages") == "/pages/"


def test_blueprint_route_defaults_merge_with_url_defaults(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_defaults={"a": "bp"})

    @bp.route("/", defaults={"b": "rule"})
    def index(a: str, b: str) -> str:
        return f"{a} {b}"

    app.register_blueprint(bp)
    assert client.get("/").data == b"bp rule"


# -- nesting ------------------------------------------------------------------------


def test_nested_blueprints(app: erlen.Erlen, client: ErlenClient) -> None:
    parent = erlen.Blueprint("parent", __name__)
    child = erlen.Blueprint("child", __name__)
    grandchild = erlen.Blueprint("grandchild", __name__)

    @parent.route("/")
    def parent_index() -> str:
        return "parent"

    @child.route("/")
    def child_index() -> str:
        return "child"

    @grandchild.route("/")
    def grandchild_index() -> str:
        r = erlen.request
        return f"{r.endpoint} {r.blueprint} {r.blueprints} {erlen.url_for('.grandchild_index')}"

    child.register_blueprint(grandchild, url_prefix="/grandchild")
    parent.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(parent, url_prefix="/parent")

    assert client.get("/parent/").data == b"parent"
    assert client.get("/parent/child/").data == b"child"
    assert client.get("/parent/child/grandchild/").data == (
        b"parent.child.grandchild.grandchild_index parent.child.grandchild"
        b" ['parent.child.grandchild', 'parent.child', 'parent']"
        b" /parent/child/grandchild/"
    )
    assert set(app.blueprints) == {"parent", "parent.child", "parent.child.grandchild"}
    assert app.blueprints["parent.child"] is child
    assert list(app.iter_blueprints()) == [parent, child, grandchild]


@pytest.mark.parametrize(
    ("parent_prefix", "child_prefix", "child_option", "url"),
    [
        ("/parent", "/child", None, "/parent/child/"),
        ("/parent/", "/child/", None, "/parent/child/"),
        ("/parent", None, "/option", "/parent/option/"),
        ("/parent", "/child", "/option", "/parent/option/"),
        (None, "/child", None, "/child/"),
        ("/parent", None, None, "/parent/"),
    ],
)
def test_nested_url_prefixes(
    app: erlen.Erlen,
    parent_prefix: str | None,
    child_prefix: str | None,
    child_option: str | None,
    url: str,
) -> None:
    parent = erlen.Blueprint("parent", __name__, url_prefix=parent_prefix)
    child = erlen.Blueprint("child", __name__, url_prefix=child_prefix)
    child.add_url_rule("/", "index", lambda: "child")
    options = {} if child_option is None else {"url_prefix": child_option}
    parent.register_blueprint(child, **options)
    app.register_blueprint(parent)
    assert app.test_client().get(url).data == b"child"


def test_nested_prefix_given_when_registering_parent(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    parent = erlen.Blueprint("parent", __name__, url_prefix="/ignored")
    child = erlen.Blueprint("child", __name__, url_prefix="/child")
    child.add_url_rule("/", "index", lambda: "child")
    parent.register_blueprint(child)
    app.register_blueprint(parent, url_prefix="/used")
    assert client.get("/used/child/").data == b"child"


def test_nested_subdomains(client: ErlenClient) -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    parent = erlen.Blueprint("parent", __name__, subdomain="api")
    child = erlen.Blueprint("child", __name__, subdomain="v1")
    only_parent = erlen.Blueprint("only_parent", __name__, url_prefix="/op")

    child.add_url_rule("/", "index", lambda: "v1 api")
    only_parent.add_url_rule("/", "index", lambda: "parent's subdomain")
    parent.register_blueprint(child)
    parent.register_blueprint(only_parent)
    app.register_blueprint(parent)

    client = app.test_client()
    assert client.get("/", "http://v1.api.example.test/").data == b"v1 api"
    assert client.get("/op/", "http://api.example.test/").data == b"parent's subdomain"
    with app.app_context():
        assert erlen.url_for("parent.child.index") == "http://v1.api.example.test/"


def test_nested_subdomain_in_registration_options(client: ErlenClient) -> None:
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    parent = erlen.Blueprint("parent", __name__)
    child = erlen.Blueprint("child", __name__)
    child.add_url_rule("/", "index", lambda: "child")
    parent.register_blueprint(child, subdomain="child")
    app.register_blueprint(parent, subdomain="parent")
    client = app.test_client()
    assert client.get("/", "http://child.parent.example.test/").data == b"child"


def test_nested_blueprint_registered_with_name(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    parent = erlen.Blueprint("parent", __name__, url_prefix="/parent")
    child = erlen.Blueprint("child", __name__)
    child.add_url_rule("/", "index", lambda: erlen.request.endpoint or "")
    parent.register_blueprint(child, url_prefix="/a")
    parent.register_blueprint(child, url_prefix="/b", name="alt")
    app.register_blueprint(parent)
    assert client.get("/parent/a/").data == b"parent.child.index"
    assert client.get("/parent/b/").data == b"parent.alt.index"


def test_register_blueprint_on_itself(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="itself"):
        bp.register_blueprint(bp)


def test_nested_hooks_run_parent_first(app: erlen.Erlen, client: ErlenClient) -> None:
    order = []
    parent = erlen.Blueprint("parent", __name__, url_prefix="/parent")
    child = erlen.Blueprint("child", __name__, url_prefix="/child")

    @app.before_request
    def app_before() -> None:
        order.append("app before")

    @parent.before_request
    def parent_before() -> None:
        order.append("parent before")

    @child.before_request
    def child_before() -> None:
        order.append("child before")

    @app.after_request
    def app_after(response: erlen.Response) -> erlen.Response:
        order.append("app after")
        return response

    @parent.after_request
    def parent_after(response: erlen.Response) -> erlen.Response:
        order.append("parent after")
        return response

    @child.after_request
    def child_after(response: erlen.Response) -> erlen.Response:
        order.append("child after")
        return response

    @app.teardown_request
    def app_teardown(exc: BaseException | None) -> None:
        order.append("app teardown")

    @parent.teardown_request
    def parent_teardown(exc: BaseException | None) -> None:
        order.append("parent teardown")

    @child.teardown_request
    def child_teardown(exc: BaseException | None) -> None:
        order.append("child teardown")

    @child.route("/")
    def index() -> str:
        order.append("view")
        return "child"

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/parent/child/").data == b"child"
    assert order == [
        "app before",
        "parent before",
        "child before",
        "view",
        "child after",
        "parent after",
        "app after",
        "child teardown",
        "parent teardown",
        "app teardown",
    ]


# -- registering twice, names -------------------------------------------------------


def test_register_twice_with_name(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.route("/")
    def index() -> str:
        return erlen.url_for(".index")

    app.register_blueprint(bp, url_prefix="/one")
    app.register_blueprint(bp, url_prefix="/two", name="two")
    assert client.get("/one/").data == b"/one/"
    assert client.get("/two/").data == b"/two/"
    assert app.blueprints == {"bp": bp, "two": bp}


def test_register_twice_without_name_is_an_error(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(ValueError) as exc_info:
        app.register_blueprint(bp)
    message = str(exc_info.value)
    assert "'bp'" in message
    assert "already registered for this blueprint" in message
    assert "name=" in message


def test_two_blueprints_with_the_same_name(app: erlen.Erlen) -> None:
    app.register_blueprint(erlen.Blueprint("bp", __name__))
    with pytest.raises(ValueError) as exc_info:
        app.register_blueprint(erlen.Blueprint("bp", __name__))
    message = str(exc_info.value)
    assert "already registered for a different blueprint" in message
    assert "name=" in message
    # A unique name fixes it.
    app.register_blueprint(erlen.Blueprint("bp", __name__), name="bp2")


def test_name_with_dot_is_an_error() -> None:
    with pytest.raises(ValueError, match="dot"):
        erlen.Blueprint("app.ui", __name__)


def test_empty_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        erlen.Blueprint("", __name__)


def test_endpoint_with_dot_is_an_error() -> None:
    bp = erlen.Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/", "a.b", lambda: "")

    def view() -> str:
        return ""

    view.__name__ = "a.b"
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/", view_func=view)


def test_setup_after_registration_is_an_error(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError) as exc_info:

        @bp.route("/late")
        def late() -> str:
            return ""

    message = str(exc_info.value)
    assert "The setup method 'route' can no longer be called on the blueprint 'bp'" in (
        message
    )
    assert "registered at least once" in message
    with pytest.raises(AssertionError, match="'before_request'"):
        bp.before_request(lambda: None)
    with pytest.raises(AssertionError, match="'record'"):
        bp.record(lambda state: None)


# -- record, record_once, setup state -----------------------------------------------------


def test_record_and_record_once(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp", subdomain="sub")
    states: list[BlueprintSetupState] = []
    once: list[BlueprintSetupState] = []
    bp.record(states.append)
    bp.record_once(once.append)

    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again", url_prefix="/again", custom=1)
    other_app = erlen.Erlen(__name__)
    other_app.register_blueprint(bp)

    assert len(states) == 3
    assert len(once) == 2
    first, second, third = states
    assert first.app is app
    assert first.blueprint is bp
    assert first.first_registration
    assert first.url_prefix == "/bp"
    assert first.subdomain == "sub"
    assert first.name == "bp"
    assert not second.first_registration
    assert second.url_prefix == "/again"
    assert second.name == "again"
    assert second.options["custom"] == 1
    assert third.app is other_app
    assert third.first_registration
    assert [s.app for s in once] == [app, other_app]


def test_make_setup_state_override(app: erlen.Erlen) -> None:
    class MyState(BlueprintSetupState):
        pass

    class MyBlueprint(erlen.Blueprint):
        def make_setup_state(
            self,
            app: erlen.Erlen,
            options: dict[str, t.Any],
            first_registration: bool = False,
        ) -> BlueprintSetupState:
            return MyState(self, app, options, first_registration)

    seen = []
    bp = MyBlueprint("bp", __name__)
    bp.record(lambda state: seen.append(type(state)))
    app.register_blueprint(bp)
    assert seen == [MyState]


def test_setup_state_add_url_rule(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")
    bp.record(lambda state: state.add_url_rule("/recorded", "rec", lambda: "rec"))
    app.register_blueprint(bp)
    assert client.get("/bp/recorded").data == b"rec"
    assert "bp.rec" in app.view_functions


# -- blueprint-local hooks ------------------------------------------------------------------


def test_blueprint_local_hooks(app: erlen.Erlen, client: ErlenClient) -> None:
    seen = []
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.before_request
    def before() -> None:
        seen.append(f"before {erlen.request.path}")

    @bp.after_request
    def after(response: erlen.Response) -> erlen.Response:
        response.headers["X-Blueprint"] = "bp"
        return response

    @bp.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(f"teardown {erlen.request.path}")

    bp.add_url_rule("/", "index", lambda: "bp")
    app.add_url_rule("/", "index", lambda: "app")
    app.register_blueprint(bp)

    rv = client.get("/")
    assert "X-Blueprint" not in rv.headers
    assert seen == []
    rv = client.get("/bp/")
    assert rv.headers["X-Blueprint"] == "bp"
    assert seen == ["before /bp/", "teardown /bp/"]


def test_blueprint_url_value_preprocessor_and_url_defaults(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/<lang_code>")

    @bp.url_defaults
    def add_language(endpoint: str, values: dict[str, t.Any]) -> None:
        values.setdefault("lang_code", erlen.g.lang_code)

    @bp.url_value_preprocessor
    def pull_language(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        assert values is not None
        erlen.g.lang_code = values.pop("lang_code")

    @bp.route("/")
    def index() -> str:
        return erlen.url_for(".about")

    @bp.route("/about")
    def about() -> str:
        return erlen.g.lang_code

    app.register_blueprint(bp)
    assert client.get("/de/").data == b"/de/about"
    assert client.get("/fr/about").data == b"fr"


def test_blueprint_url_defaults_do_not_apply_to_app_endpoints(
    app: erlen.Erlen,
) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.url_defaults
    def add_x(endpoint: str, values: dict[str, t.Any]) -> None:
        values["x"] = "bp"

    app.add_url_rule("/", "index", lambda: "")
    bp.add_url_rule("/bp", "index", lambda: "")
    app.register_blueprint(bp)
    with app.test_request_context():
        assert erlen.url_for("index") == "/"
        assert erlen.url_for("bp.index") == "/bp?x=bp"


def test_blueprint_context_processor(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.context_processor
    def bp_context() -> dict[str, t.Any]:
        return {"where": "bp"}

    @app.context_processor
    def app_context() -> dict[str, t.Any]:
        return {"where": "app", "app_value": 1}

    template = "{{ where }} {{ app_value }}"
    bp.add_url_rule("/", "index", lambda: erlen.render_template_string(template))
    app.add_url_rule("/", "index", lambda: erlen.render_template_string(template))
    app.register_blueprint(bp)
    assert client.get("/").data == b"app 1"
    assert client.get("/bp/").data == b"bp 1"


# -- app-wide hooks from a blueprint ----------------------------------------------------------


def test_app_wide_request_hooks(app: erlen.Erlen, client: ErlenClient) -> None:
    seen = []
    bp = erlen.Blueprint("bp", __name__)

    @bp.before_app_request
    def before() -> None:
        seen.append("before")

    @bp.after_app_request
    def after(response: erlen.Response) -> erlen.Response:
        seen.append("after")
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        seen.append("teardown")

    app.add_url_rule("/", "index", lambda: "app")
    app.register_blueprint(bp)
    assert client.get("/").data == b"app"
    assert seen == ["before", "after", "teardown"]


def test_app_wide_hooks_registered_once(app: erlen.Erlen, client: ErlenClient) -> None:
    seen = []
    bp = erlen.Blueprint("bp", __name__)

    @bp.before_app_request
    def before() -> None:
        seen.append("before")

    app.add_url_rule("/", "index", lambda: "app")
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    client.get("/")
    assert seen == ["before"]


def test_app_url_defaults_and_value_preprocessor(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_url_defaults
    def add_lang(endpoint: str, values: dict[str, t.Any]) -> None:
        if app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values.setdefault("lang", erlen.g.lang)

    @bp.app_url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        erlen.g.lang = values.pop("lang") if values else None

    @app.route("/<lang>/")
    def index() -> str:
        return erlen.url_for("page")

    @app.route("/<lang>/page")
    def page() -> str:
        return erlen.g.lang

    app.register_blueprint(bp)
    assert client.get("/en/").data == b"/en/page"
    assert client.get("/de/page").data == b"de"


def test_app_context_processor(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_context_processor
    def everywhere() -> dict[str, t.Any]:
        return {"everywhere": "yes"}

    app.add_url_rule(
        "/", "index", lambda: erlen.render_template_string("{{ everywhere }}")
    )
    app.register_blueprint(bp)
    assert client.get("/").data == b"yes"


def test_app_template_filter(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_template_filter
    def bare(s: str) -> str:
        return s[::-1]

    @bp.app_template_filter()
    def empty_parens(s: str) -> str:
        return s.upper()

    @bp.app_template_filter("named")
    def named_filter(s: str) -> str:
        return f"<{s}>"

    def added(s: str) -> str:
        return s * 2

    bp.add_app_template_filter(added)
    bp.add_app_template_filter(added, "added_named")
    app.register_blueprint(bp)

    filters = app.jinja_env.filters
    assert filters["bare"] is bare
    assert filters["empty_parens"] is empty_parens
    assert filters["named"] is named_filter
    assert filters["added"] is added
    assert filters["added_named"] is added
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ 'ab'|bare }} {{ 'ab'|empty_parens }} {{ 'ab'|named }}"
            " {{ 'ab'|added }} {{ 'ab'|added_named }}"
        )
    assert rendered == "ba AB &lt;ab&gt; abab abab"


def test_app_template_test(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_template_test
    def bare(n: int) -> bool:
        return n == 1

    @bp.app_template_test()
    def empty_parens(n: int) -> bool:
        return n == 2

    @bp.app_template_test("named")
    def named_test(n: int) -> bool:
        return n == 3

    bp.add_app_template_test(lambda n: n == 4, "added")
    app.register_blueprint(bp)
    assert app.jinja_env.tests["bare"] is bare
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ 1 is bare }} {{ 2 is empty_parens }} {{ 3 is named }}"
            " {{ 4 is added }} {{ 5 is added }}"
        )
    assert rendered == "True True True True False"


def test_app_template_global(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_template_global
    def bare() -> str:
        return "bare"

    @bp.app_template_global()
    def empty_parens() -> str:
        return "empty"

    @bp.app_template_global("named")
    def named_global() -> str:
        return "named"

    bp.add_app_template_global(lambda: "added", "added")
    app.register_blueprint(bp)
    assert app.jinja_env.globals["bare"] is bare
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ bare() }} {{ empty_parens() }} {{ named() }} {{ added() }}"
        )
    assert rendered == "bare empty named added"


def test_app_template_functions_need_registration(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_template_filter
    def only_after_registration(s: str) -> str:
        return s

    assert "only_after_registration" not in app.jinja_env.filters
    app.register_blueprint(bp)
    assert "only_after_registration" in app.jinja_env.filters


def test_request_blueprint(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/")
    def index() -> str:
        return f"{erlen.request.blueprint} {erlen.request.blueprints}"

    app.register_blueprint(bp)
    app.register_blueprint(bp, name="renamed", url_prefix="/renamed")
    assert client.get("/bp/").data == b"bp ['bp']"
    assert client.get("/renamed/").data == b"renamed ['renamed']"


def test_404_outside_blueprint_has_no_blueprint(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> tuple[str, int]:
        return f"blueprint={erlen.request.blueprint}", 404

    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/", "index", lambda: "")
    app.register_blueprint(bp)
    assert client.get("/bp/missing").data == b"blueprint=None"


# -- static files and templates ---------------------------------------------------------------


@pytest.fixture
def blueprintapp(test_apps: None) -> erlen.Erlen:
    from blueprintapp import app  # type: ignore[import-not-found]

    app.testing = True
    return t.cast(erlen.Erlen, app)


def test_blueprint_templates(blueprintapp: erlen.Erlen) -> None:
    client = blueprintapp.test_client()
    assert client.get("/").data == b"Hello from the Frontend"
    assert client.get("/admin/").data == b"Hello from the Admin"
    assert client.get("/admin/index2").data == b"Hello from the Admin"


def test_blueprint_missing_template(blueprintapp: erlen.Erlen) -> None:
    from jinja2 import TemplateNotFound

    with pytest.raises(TemplateNotFound):
        blueprintapp.test_client().get("/missing")


def test_blueprint_static_folder(blueprintapp: erlen.Erlen) -> None:
    client = blueprintapp.test_client()
    rv = client.get("/admin/static/test.txt")
    assert rv.status_code == 200
    assert rv.data.strip() == b"Admin File"
    rv.close()
    rv = client.get("/admin/static/css/test.css")
    assert rv.status_code == 200
    assert rv.mimetype == "text/css"
    rv.close()
    assert client.get("/admin/static/missing.txt").status_code == 404
    assert client.get("/admin/static/../__init__.py").status_code == 404
    with blueprintapp.test_request_context():
        assert (
            erlen.url_for("admin.static", filename="test.txt")
            == "/admin/static/test.txt"
        )


def test_blueprint_static_cache_max_age(blueprintapp: erlen.Erlen) -> None:
    blueprintapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    rv = blueprintapp.test_client().get("/admin/static/test.txt")
    assert rv.cache_control.max_age == 3600
    rv.close()


def test_blueprint_static_url_path(app: erlen.Erlen, client: ErlenClient) -> None:
    bp = erlen.Blueprint(
        "bp",
        __name__,
        static_folder="static",
        static_url_path="/bp-static",
        url_prefix="/bp",
    )
    app.register_blueprint(bp)
    rv = client.get("/bp/bp-static/a_index.html")
    assert rv.status_code == 200
    assert b"Hello from a static file" in rv.data
    rv.close()
    with app.test_request_context():
        assert erlen.url_for("bp.static", filename="a.css") == "/bp/bp-static/a.css"


def test_blueprint_without_static_folder_has_no_static_route(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)
    app.register_blueprint(bp)
    assert "bp.static" not in app.view_functions


def test_app_templates_win_over_blueprint_templates(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("from app")
    (tmp_path / "bp_templates").mkdir()
    (tmp_path / "bp_templates" / "page.html").write_text("from bp")
    (tmp_path / "bp_templates" / "only_bp.html").write_text("only in bp")
    app = erlen.Erlen(__name__, root_path=str(tmp_path))
    bp = erlen.Blueprint(
        "bp", __name__, root_path=str(tmp_path), template_folder="bp_templates"
    )
    bp.add_url_rule("/page", "page", lambda: erlen.render_template("page.html"))
    bp.add_url_rule("/only", "only", lambda: erlen.render_template("only_bp.html"))
    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/page").data == b"from app"
    assert client.get("/only").data == b"only in bp"


def test_blueprint_open_resource(blueprintapp: erlen.Erlen) -> None:
    admin = blueprintapp.blueprints["admin"]
    with admin.open_resource("static/test.txt") as f:
        assert f.read().strip() == b"Admin File"
    with admin.open_resource("static/test.txt", "r") as f:
        assert f.read().strip() == "Admin File"
    with pytest.raises(ValueError):
        admin.open_resource("static/test.txt", "w")


def test_blueprint_root_path(blueprintapp: erlen.Erlen) -> None:
    admin = blueprintapp.blueprints["admin"]
    assert Path(admin.root_path).name == "admin"
    assert admin.static_folder == str(Path(admin.root_path) / "static")
    assert admin.jinja_loader is not None


# -- CLI ----------------------------------------------------------------------------


def _bp_with_command(**kwargs: t.Any) -> erlen.Blueprint:
    bp = erlen.Blueprint("bp", __name__, **kwargs)

    @bp.cli.command("hello")
    def hello() -> None:
        click.echo(f"hello from {erlen.current_app.name}")

    return bp


def test_blueprint_cli_group_defaults_to_name(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp_with_command())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bp", "hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello from erlen_test\n"


def test_blueprint_cli_group_name(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp_with_command(cli_group="custom"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["custom", "hello"]).output == "hello from erlen_test\n"
    assert runner.invoke(args=["bp", "hello"]).exit_code != 0


def test_blueprint_cli_group_none_merges(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp_with_command(cli_group=None))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["hello"]).output == "hello from erlen_test\n"


def test_blueprint_cli_group_at_registration(app: erlen.Erlen) -> None:
    bp = _bp_with_command(cli_group="ignored")
    app.register_blueprint(bp, cli_group="late")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["late", "hello"]).output == "hello from erlen_test\n"


def test_blueprint_cli_group_none_at_registration(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp_with_command(), cli_group=None)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["hello"]).output == "hello from erlen_test\n"


def test_blueprint_without_commands_adds_no_group(app: erlen.Erlen) -> None:
    app.register_blueprint(erlen.Blueprint("quiet", __name__))
    assert "quiet" not in app.cli.list_commands(click.Context(app.cli))


def test_blueprint_endpoint_decorator(app: erlen.Erlen, client: ErlenClient) -> None:
    from werkzeug.routing import Rule

    app.url_map.add(Rule("/foo", endpoint="bar"))
    bp = erlen.Blueprint("bp", __name__)

    @bp.endpoint("bar")
    def foobar() -> str:
        return erlen.request.endpoint or ""

    app.register_blueprint(bp, url_prefix="/bp_prefix")
    assert client.get("/foo").data == b"bar"
    assert client.get("/bp_prefix/bar").status_code == 404


def test_blueprint_endpoint_for_blueprint_rule(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")
    bp.add_url_rule("/foo", "foo")

    @bp.endpoint("bp.foo")
    def foo() -> str:
        return "foo view"

    app.register_blueprint(bp)
    assert client.get("/bp/foo").data == b"foo view"


def test_blueprint_before_request_error_uses_blueprint_handler(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.before_request
    def before() -> None:
        raise KeyError("from before_request")

    @bp.errorhandler(KeyError)
    def handle(e: KeyError) -> tuple[str, int]:
        return "bp handled", 400

    bp.add_url_rule("/", "index", lambda: "view")
    app.register_blueprint(bp)
    rv = client.get("/bp/")
    assert (rv.status_code, rv.data) == (400, b"bp handled")


def test_url_defaults_order_app_then_blueprints(app: erlen.Erlen) -> None:
    order = []
    parent = erlen.Blueprint("parent", __name__)
    child = erlen.Blueprint("child", __name__)

    @app.url_defaults
    def app_defaults(endpoint: str, values: dict[str, t.Any]) -> None:
        order.append(f"app {endpoint}")

    @parent.url_defaults
    def parent_defaults(endpoint: str, values: dict[str, t.Any]) -> None:
        order.append(f"parent {endpoint}")

    @child.url_defaults
    def child_defaults(endpoint: str, values: dict[str, t.Any]) -> None:
        order.append(f"child {endpoint}")

    child.add_url_rule("/c", "index", lambda: "")
    parent.add_url_rule("/p", "index", lambda: "")
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    with app.test_request_context():
        assert erlen.url_for("parent.child.index") == "/c"
        assert order == [
            "app parent.child.index",
            "parent parent.child.index",
            "child parent.child.index",
        ]
        order.clear()
        erlen.url_for("parent.index")
        assert order == ["app parent.index", "parent parent.index"]


def test_url_value_preprocessor_order(app: erlen.Erlen, client: ErlenClient) -> None:
    order = []
    parent = erlen.Blueprint("parent", __name__, url_prefix="/p")
    child = erlen.Blueprint("child", __name__, url_prefix="/c")

    @app.url_value_preprocessor
    def app_pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        order.append("app")

    @parent.url_value_preprocessor
    def parent_pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        order.append("parent")

    @child.url_value_preprocessor
    def child_pre(endpoint: str | None, values: dict[str, t.Any] | None) -> None:
        order.append(f"child {endpoint} {values}")

    @child.route("/<int:n>")
    def view(n: int) -> str:
        return str(n)

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/p/c/5").data == b"5"
    assert order == ["app", "parent", "child parent.child.view {'n': 5}"]


def test_nested_blueprint_registered_twice_keeps_handlers_apart(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    parent = erlen.Blueprint("parent", __name__)
    child = erlen.Blueprint("child", __name__)

    @child.errorhandler(404)
    def child_404(e: NotFound) -> tuple[str, int]:
        return f"child 404 in {erlen.request.blueprint}", 404

    @child.route("/missing")
    def missing() -> str:
        erlen.abort(404)

    parent.register_blueprint(child, url_prefix="/one")
    parent.register_blueprint(child, url_prefix="/two", name="two")
    app.register_blueprint(parent)
    assert client.get("/one/missing").data == b"child 404 in parent.child"
    assert client.get("/two/missing").data == b"child 404 in parent.two"


def test_blueprint_registered_on_two_apps(tmp_path: Path) -> None:
    bp = erlen.Blueprint("bp", __name__)
    bp.add_url_rule("/", "index", lambda: erlen.current_app.name)
    one = erlen.Erlen("one", root_path=str(tmp_path))
    two = erlen.Erlen("two", root_path=str(tmp_path))
    one.register_blueprint(bp)
    two.register_blueprint(bp, url_prefix="/two")
    assert one.test_client().get("/").data == b"one"
    assert two.test_client().get("/two/").data == b"two"


def test_blueprint_strict_slashes_and_methods(
    app: erlen.Erlen, client: ErlenClient
) -> None:
    bp = erlen.Blueprint("bp", __name__, url_prefix="/bp")

    @bp.post("/items/")
    def create() -> tuple[str, int]:
        return "created", 201

    @bp.get("/loose/", strict_slashes=False)
    def loose() -> str:
        return "loose"

    app.register_blueprint(bp)
    assert client.post("/bp/items/").status_code == 201
    assert client.get("/bp/items/").status_code == 405
    assert client.post("/bp/items").status_code == 308
    assert client.get("/bp/loose").data == b"loose"
