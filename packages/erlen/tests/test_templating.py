"""Jinja integration: rendering, streaming, autoescape, globals, filters and loaders."""

from __future__ import annotations

import logging
import os
import time
import typing as t
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound
from markupsafe import Markup

import erlen
from erlen.templating import DispatchingJinjaLoader

HERE = Path(__file__).parent


def test_render_template(app: erlen.Erlen) -> None:
    with app.app_context():
        assert erlen.render_template("b_value.html", value=42) == "42"
        assert erlen.render_template(["b_missing.html", "b_value.html"], value=1) == "1"
        with pytest.raises(TemplateNotFound):
            erlen.render_template("b_missing.html")


def test_render_template_in_view(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        return erlen.render_template("b_value.html", value="<view>")

    rv = client.get("/")
    assert rv.data == b"&lt;view&gt;"
    assert rv.mimetype == "text/html"


def test_render_template_string(app: erlen.Erlen) -> None:
    with app.app_context():
        assert erlen.render_template_string("{{ a }}+{{ b }}", a=1, b=2) == "1+2"
        assert erlen.render_template_string("{{ x }}", x="<b>") == "&lt;b&gt;"
        assert erlen.render_template_string("{{ x }}", x=Markup("<b>")) == "<b>"
        assert erlen.render_template_string("{{ x|safe }}", x="<b>") == "<b>"
        tmpl = app.jinja_env.from_string("{{ x }}")
        assert erlen.render_template(tmpl, x="&") == "&amp;"


def test_render_outside_app_context(app: erlen.Erlen) -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen.render_template_string("x")


def test_autoescape_by_extension(app: erlen.Erlen) -> None:
    context = {"text": "<p>", "html": Markup("<p>")}
    with app.app_context():
        assert erlen.render_template("b_escape.html", **context) == "&lt;p&gt;|<p>"
        assert erlen.render_template("b_escape.svg", **context) == "&lt;p&gt;|<p>"
        assert erlen.render_template("b_escape.txt", **context) == "<p>|<p>"
        assert (
            erlen.render_template_string(
                "{% autoescape false %}{{ text }}{% endautoescape %}", **context
            )
            == "<p>"
        )
    for name in ("a.html", "a.htm", "a.xml", "a.xhtml", "a.svg", None):
        assert app.select_jinja_autoescape(name) is True
    for name in ("a.txt", "a.js", "a.css", "a.html.j2"):
        assert app.select_jinja_autoescape(name) is False


def test_default_globals(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return ""

    with app.test_request_context("/page"):
        erlen.session["user"] = "ann"
        erlen.g.name = "gee"
        rv = erlen.render_template("b_globals.html")
    assert rv == "/page|ann|gee|test key|/"


def test_default_globals_are_registered(app: erlen.Erlen) -> None:
    env_globals = app.jinja_env.globals
    for name in (
        "url_for",
        "get_flashed_messages",
        "config",
        "request",
        "session",
        "g",
    ):
        assert name in env_globals
    assert env_globals["config"] is app.config


def test_globals_outside_request(app: erlen.Erlen) -> None:
    with app.app_context():
        erlen.g.name = "gee"
        assert erlen.render_template_string("{{ g.name }}|{{ config.TESTING }}") == (
            "gee|True"
        )


def test_default_context_uses_concrete_objects(app: erlen.Erlen) -> None:
    captured: dict[str, t.Any] = {}

    def record(sender: t.Any, template: t.Any, context: dict[str, t.Any]) -> None:
        captured.update(context)

    with erlen.template_rendered.connected_to(record, app):
        with app.test_request_context():
            erlen.render_template_string("")
            assert captured["request"] is erlen.request._get_current_object()  # type: ignore[attr-defined]
            assert captured["g"] is erlen.g._get_current_object()  # type: ignore[attr-defined]


def test_context_processors(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @app.context_processor
    def app_values() -> dict[str, t.Any]:
        return {"who": "app", "app_only": 1}

    @bp.context_processor
    def bp_values() -> dict[str, t.Any]:
        return {"who": "bp", "bp_only": 2}

    @bp.app_context_processor
    def everywhere() -> dict[str, t.Any]:
        return {"everywhere": 3}

    source = "{{ who }} {{ app_only }} {{ bp_only }} {{ everywhere }}"

    @app.route("/")
    def index() -> str:
        return erlen.render_template_string(source)

    @bp.route("/bp")
    def bp_index() -> str:
        return erlen.render_template_string(source)

    @bp.route("/explicit")
    def explicit() -> str:
        return erlen.render_template_string(source, who="view")

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/").data == b"app 1  3"
    assert client.get("/bp").data == b"bp 1 2 3"
    assert client.get("/explicit").data == b"view 1 2 3"


def test_nested_blueprint_context_processors(app: erlen.Erlen) -> None:
    parent = erlen.Blueprint("parent", __name__, url_prefix="/p")
    child = erlen.Blueprint("child", __name__, url_prefix="/c")

    @parent.context_processor
    def parent_values() -> dict[str, str]:
        return {"level": "parent", "p": "yes"}

    @child.context_processor
    def child_values() -> dict[str, str]:
        return {"level": "child"}

    @child.route("/")
    def index() -> str:
        return erlen.render_template_string("{{ level }} {{ p }}")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert app.test_client().get("/p/c/").data == b"child yes"


def test_template_filter(app: erlen.Erlen) -> None:
    @app.template_filter
    def reverse(s: str) -> str:
        return s[::-1]

    @app.template_filter()
    def upper2(s: str) -> str:
        return s.upper()

    @app.template_filter("shout")
    def make_loud(s: str) -> str:
        return s.upper() + "!"

    def twice(s: str) -> str:
        return s * 2

    app.add_template_filter(twice)
    app.add_template_filter(twice, "double")
    assert app.jinja_env.filters["reverse"] is reverse
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ 'ab'|reverse }} {{ 'ab'|upper2 }} {{ 'ab'|shout }}"
            " {{ 'ab'|twice }} {{ 'ab'|double }}"
        )
    assert rendered == "ba AB AB! abab abab"


def test_template_test(app: erlen.Erlen) -> None:
    @app.template_test
    def boolean(value: t.Any) -> bool:
        return isinstance(value, bool)

    @app.template_test()
    def even(value: int) -> bool:
        return value % 2 == 0

    @app.template_test("positive")
    def is_positive(value: int) -> bool:
        return value > 0

    def odd(value: int) -> bool:
        return value % 2 == 1

    app.add_template_test(odd)
    app.add_template_test(odd, "uneven")
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ x is boolean }} {{ 2 is even }} {{ -1 is positive }}"
            " {{ 3 is odd }} {{ 3 is uneven }}",
            x=False,
        )
    assert rendered == "True True False True True"


def test_template_global(app: erlen.Erlen) -> None:
    @app.template_global
    def one() -> int:
        return 1

    @app.template_global()
    def two() -> int:
        return 2

    @app.template_global("three")
    def make_three() -> int:
        return 3

    def four() -> int:
        return 4

    app.add_template_global(four)
    app.add_template_global(four, "vier")
    assert app.jinja_env.globals["one"] is one
    with app.app_context():
        rendered = erlen.render_template_string(
            "{{ one() }}{{ two() }}{{ three() }}{{ four() }}{{ vier() }}"
        )
    assert rendered == "12344"


def test_blueprint_template_filter_test_global(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_template_filter()
    def rev(s: str) -> str:
        return s[::-1]

    @bp.app_template_test("big")
    def is_big(n: int) -> bool:
        return n > 100

    @bp.app_template_global()
    def answer() -> int:
        return 42

    app.register_blueprint(bp)
    with app.app_context():
        assert (
            erlen.render_template_string(
                "{{ 'ab'|rev }} {{ 500 is big }} {{ answer() }}"
            )
            == "ba True 42"
        )


def test_tojson_uses_app_json(app: erlen.Erlen) -> None:
    with app.app_context():
        rendered = erlen.render_template_string(
            "<script>var x = {{ data|tojson }};</script>",
            data={"b": "</script>", "a": 1},
        )
    assert rendered == (
        '<script>var x = {"a": 1, "b": "\\u003c/script\\u003e"};</script>'
    )

    class Provider(erlen.json.provider.DefaultJSONProvider):
        def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
            return '"custom"'

    custom = erlen.Erlen("custom")
    custom.json = Provider(custom)
    with custom.app_context():
        assert erlen.render_template_string("{{ 1|tojson }}") == '"custom"'


def test_blueprint_template_folder_searched_after_app(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__, template_folder="templates/b_bp")
    app.register_blueprint(bp)
    with app.app_context():
        assert erlen.render_template("b_shared.html") == "app version"
        assert erlen.render_template("b_bp_only.html", value=5) == (
            "only in blueprint 5"
        )
    assert "b_bp_only.html" in app.jinja_env.list_templates()
    assert isinstance(app.jinja_env.loader, DispatchingJinjaLoader)


def test_blueprints_searched_in_registration_order(tmp_path: Path) -> None:
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "page.html").write_text(name)
    app = erlen.Erlen("ordered", root_path=str(tmp_path))
    app.register_blueprint(
        erlen.Blueprint(
            "first", __name__, root_path=str(tmp_path), template_folder="first"
        )
    )
    app.register_blueprint(
        erlen.Blueprint(
            "second", __name__, root_path=str(tmp_path), template_folder="second"
        )
    )
    with app.app_context():
        assert erlen.render_template("page.html") == "first"


def test_explain_template_loading(
    app: erlen.Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    bp = erlen.Blueprint("bp", __name__, template_folder="templates/b_bp")
    app.register_blueprint(bp)
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        with app.app_context():
            assert erlen.render_template("b_shared.html") == "app version"
            with pytest.raises(TemplateNotFound):
                erlen.render_template("b_nowhere.html")
    messages = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert len(messages) == 2
    assert "Locating template 'b_shared.html'" in messages[0]
    assert "application 'erlen_test'" in messages[0]
    assert "blueprint 'bp'" in messages[0]
    assert "multiple loaders returned a match" in messages[0]
    assert "Locating template 'b_nowhere.html'" in messages[1]
    assert "could not be found" in messages[1]


def test_explain_template_loading_off(
    app: erlen.Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        with app.app_context():
            erlen.render_template("b_value.html", value=1)
    assert not [r for r in caplog.records if r.name == app.logger.name]


def _reload_app(tmp_path: Path, **config: t.Any) -> tuple[erlen.Erlen, Path]:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    page = templates / "page.html"
    page.write_text("old")
    app = erlen.Erlen("reload", root_path=str(tmp_path))
    app.config.update(config)
    return app, page


def _rewrite(page: Path, text: str) -> None:
    page.write_text(text)
    future = time.time() + 10
    os.utime(page, (future, future))


@pytest.mark.parametrize(
    ("config", "debug", "reloads"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"TEMPLATES_AUTO_RELOAD": True}, False, True),
        ({"TEMPLATES_AUTO_RELOAD": False}, True, False),
    ],
)
def test_templates_auto_reload(
    tmp_path: Path, config: dict[str, t.Any], debug: bool, reloads: bool
) -> None:
    app, page = _reload_app(tmp_path, **config)
    app.debug = debug
    with app.app_context():
        assert erlen.render_template("page.html") == "old"
        _rewrite(page, "new")
        expected = "new" if reloads else "old"
        assert erlen.render_template("page.html") == expected
    assert app.jinja_env.auto_reload is reloads


def test_debug_set_after_env_created_enables_reload(tmp_path: Path) -> None:
    app, page = _reload_app(tmp_path)
    assert app.jinja_env.auto_reload is False
    app.debug = True
    assert app.jinja_env.auto_reload is True
    with app.app_context():
        assert erlen.render_template("page.html") == "old"
        _rewrite(page, "new")
        assert erlen.render_template("page.html") == "new"


def test_stream_template(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return erlen.Response(
            erlen.stream_template("b_stream.html", items=[erlen.request.path, "<b>"])
        )

    @app.route("/string")
    def string() -> erlen.Response:
        return erlen.Response(
            erlen.stream_template_string(
                "{{ request.args.x }}{% for i in items %}{{ i }}{% endfor %}",
                items=["<", "&"],
            )
        )

    assert client.get("/").data == b"[/][&lt;b&gt;]"
    assert client.get("/string?x=1").data == b"1&lt;&amp;"


def test_stream_template_is_lazy(app: erlen.Erlen) -> None:
    with app.test_request_context():
        stream = erlen.stream_template_string("{{ value }}", value="later")
    # The request context ended; the stream carries its own.
    assert "".join(stream) == "later"


def test_stream_template_without_request(app: erlen.Erlen) -> None:
    with app.app_context():
        stream = erlen.stream_template("b_value.html", value="x")
        assert "".join(stream) == "x"


def test_render_signals(app: erlen.Erlen) -> None:
    events: list[tuple[str, t.Any, t.Any, dict[str, t.Any]]] = []

    def before(sender: t.Any, template: t.Any, context: dict[str, t.Any]) -> None:
        events.append(("before", sender, template.name, dict(context)))
        context["injected"] = "by signal"

    def after(sender: t.Any, template: t.Any, context: dict[str, t.Any]) -> None:
        events.append(("after", sender, template.name, dict(context)))

    with (
        erlen.before_render_template.connected_to(before, app),
        erlen.template_rendered.connected_to(after, app),
    ):
        with app.test_request_context():
            rv = erlen.render_template_string("{{ value }} {{ injected }}", value=1)
            assert rv == "1 by signal"
            assert erlen.render_template("b_value.html", value=2) == "2"
            assert "".join(erlen.stream_template("b_value.html", value=3)) == "3"
    assert [(e[0], e[2]) for e in events] == [
        ("before", None),
        ("after", None),
        ("before", "b_value.html"),
        ("after", "b_value.html"),
        ("before", "b_value.html"),
        ("after", "b_value.html"),
    ]
    assert all(e[1] is app for e in events)
    assert events[0][3]["value"] == 1
    assert "request" in events[0][3]
    assert events[1][3]["injected"] == "by signal"


def test_custom_jinja_environment_class(app: erlen.Erlen) -> None:
    class CustomEnvironment(erlen.templating.Environment):
        pass

    app.jinja_environment = CustomEnvironment
    assert isinstance(app.jinja_env, CustomEnvironment)
    assert app.jinja_env.app is app


def test_custom_jinja_options(app: erlen.Erlen) -> None:
    app.jinja_options = {"trim_blocks": True, "autoescape": False}
    with app.app_context():
        assert erlen.render_template_string("{{ x }}", x="<b>") == "<b>"
    assert app.jinja_env.trim_blocks


def test_debug_run_enables_auto_reload(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch
) -> None:
    import werkzeug.serving

    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *a, **kw: None)
    app.run(load_dotenv=False)
    assert not app.jinja_env.auto_reload
    app.run(debug=True, load_dotenv=False)
    assert app.jinja_env.auto_reload
    app.run(debug=False, load_dotenv=False)
    assert not app.jinja_env.auto_reload


def test_explain_template_loading_mentions_blueprint(
    app: erlen.Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    bp = erlen.Blueprint("frontend", __name__, template_folder="templates/b_bp")

    @bp.route("/missing")
    def missing() -> str:
        return erlen.render_template("b_nowhere.html")

    app.register_blueprint(bp)
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        with pytest.raises(TemplateNotFound):
            app.test_client().get("/missing")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "blueprint 'frontend'" in text
    assert "Maybe you did not place a template in the right folder?" in text


def test_blueprint_template_decorators_without_parentheses(app: erlen.Erlen) -> None:
    bp = erlen.Blueprint("bp", __name__)

    @bp.app_template_filter
    def rev(s: str) -> str:
        return s[::-1]

    @bp.app_template_test
    def big(n: int) -> bool:
        return n > 100

    @bp.app_template_global
    def answer() -> int:
        return 42

    def shout(s: str) -> str:
        return s.upper()

    bp.add_app_template_filter(shout)
    app.register_blueprint(bp)
    with app.app_context():
        assert (
            erlen.render_template_string(
                "{{ 'ab'|rev }} {{ 500 is big }} {{ answer() }} {{ 'x'|shout }}"
            )
            == "ba True 42 X"
        )
