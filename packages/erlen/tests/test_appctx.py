"""The application context: ``current_app``, ``g``, teardown and its signals."""

from __future__ import annotations

import typing as t

import pytest

import erlen
from erlen.globals import app_ctx
from erlen.globals import request_ctx


def test_current_app_outside_context_raises() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen.current_app.name  # noqa: B018


def test_g_outside_context_raises() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        erlen.g.x = 1
    with pytest.raises(RuntimeError, match=r"app\.app_context\(\)"):
        erlen.g.get("x")


def test_app_ctx_proxy_outside_context_raises() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        app_ctx.app  # noqa: B018


def test_app_context_alone(app: erlen.Erlen) -> None:
    assert not erlen.has_app_context()
    with app.app_context() as ctx:
        assert erlen.has_app_context()
        assert not erlen.has_request_context()
        assert erlen.current_app._get_current_object() is app  # type: ignore[attr-defined]
        assert app_ctx._get_current_object() is ctx  # type: ignore[attr-defined]
        assert ctx.app is app
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            erlen.request.path  # noqa: B018
    assert not erlen.has_app_context()


def test_app_context_url_for_with_server_name(app: erlen.Erlen) -> None:
    app.config["SERVER_NAME"] = "example.test"

    @app.route("/thing")
    def thing() -> str:
        return ""

    with app.app_context():
        assert erlen.url_for("thing") == "http://example.test/thing"


def test_g_namespace(app_ctx: erlen.ctx.AppContext) -> None:
    g = erlen.g
    assert "x" not in g
    assert g.get("x") is None
    assert g.get("x", 4) == 4
    g.x = 1
    assert "x" in g
    assert g.get("x") == 1
    assert g.setdefault("x", 2) == 1
    assert g.setdefault("y", 3) == 3
    assert g.y == 3
    assert sorted(g) == ["x", "y"]
    assert g.pop("x") == 1
    assert "x" not in g
    assert g.pop("x", "gone") == "gone"
    with pytest.raises(KeyError):
        g.pop("x")
    with pytest.raises(AttributeError):
        g.missing  # noqa: B018
    del g.y
    with pytest.raises(AttributeError):
        del g.y
    assert list(g) == []


def test_g_repr(app: erlen.Erlen) -> None:
    with app.app_context():
        assert repr(erlen.g) == "<erlen.g of 'erlen_test'>"
    assert repr(app.app_ctx_globals_class()).startswith("<erlen.ctx._AppCtxGlobals")


def test_g_is_per_context(app: erlen.Erlen) -> None:
    with app.app_context():
        erlen.g.value = 1
    with app.app_context():
        assert "value" not in erlen.g


def test_g_shared_with_request_context(app: erlen.Erlen) -> None:
    with app.app_context():
        erlen.g.value = 42
        with app.test_request_context():
            assert erlen.g.value == 42


def test_custom_app_ctx_globals_class(app: erlen.Erlen) -> None:
    class MyGlobals(erlen.ctx._AppCtxGlobals):
        spam = "eggs"

    app.app_ctx_globals_class = MyGlobals
    with app.app_context():
        assert erlen.g.spam == "eggs"


def test_push_same_context_twice(app: erlen.Erlen) -> None:
    torn_down: list[BaseException | None] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(exc)

    ctx = app.app_context()
    ctx.push()
    ctx.push()
    erlen.g.value = 1
    ctx.pop()
    assert erlen.has_app_context()
    assert erlen.g.value == 1
    assert torn_down == []
    ctx.pop()
    assert not erlen.has_app_context()
    assert torn_down == [None]


def test_pop_wrong_app_context(app: erlen.Erlen) -> None:
    outer = app.app_context()
    inner = app.app_context()
    outer.push()
    inner.push()
    with pytest.raises(AssertionError, match="Popped wrong app context"):
        outer.pop()
    # The wrong pop still unwound its token; clean the rest up.
    while erlen.has_app_context():
        erlen.globals._cv_app.get().pop()


def test_nested_app_contexts_of_two_apps(app: erlen.Erlen) -> None:
    other = erlen.Erlen("other")
    with app.app_context():
        with other.app_context():
            assert erlen.current_app.name == "other"
        assert erlen.current_app.name == "erlen_test"


def test_teardown_appcontext_receives_exception(app: erlen.Erlen) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    with pytest.raises(ZeroDivisionError):
        with app.app_context():
            1 / 0  # noqa: B018
    assert len(seen) == 1
    assert isinstance(seen[0], ZeroDivisionError)

    with app.app_context():
        pass
    assert seen[1] is None


def test_teardown_appcontext_order_and_all_run(app: erlen.Erlen) -> None:
    calls: list[str] = []

    @app.teardown_appcontext
    def first(exc: BaseException | None) -> None:
        calls.append("first")

    @app.teardown_appcontext
    def broken(exc: BaseException | None) -> None:
        calls.append("broken")
        raise ValueError("teardown failed")

    @app.teardown_appcontext
    def last(exc: BaseException | None) -> None:
        calls.append("last")

    ctx = app.app_context()
    ctx.push()
    with pytest.raises(ValueError, match="teardown failed"):
        ctx.pop()
    assert calls == ["last", "broken", "first"]
    assert not erlen.has_app_context()


def test_teardown_appcontext_after_request(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    calls: list[str] = []

    @app.route("/")
    def index() -> str:
        return "hi"

    @app.teardown_request
    def td_request(exc: BaseException | None) -> None:
        calls.append("request")

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        calls.append("app")

    assert client.get("/").data == b"hi"
    assert calls == ["request", "app"]


def test_appcontext_signals(app: erlen.Erlen) -> None:
    events: list[tuple[str, t.Any]] = []

    def pushed(sender: erlen.Erlen, **kw: t.Any) -> None:
        events.append(("pushed", erlen.current_app.name))

    def tearing_down(sender: erlen.Erlen, **kw: t.Any) -> None:
        events.append(("tearing_down", kw["exc"]))

    def popped(sender: erlen.Erlen, **kw: t.Any) -> None:
        events.append(("popped", sender))

    with (
        erlen.appcontext_pushed.connected_to(pushed, app),
        erlen.appcontext_tearing_down.connected_to(tearing_down, app),
        erlen.appcontext_popped.connected_to(popped, app),
    ):
        with app.app_context():
            events.append(("body", None))
    assert events == [
        ("pushed", "erlen_test"),
        ("body", None),
        ("tearing_down", None),
        ("popped", app),
    ]


def test_appcontext_pushed_can_set_g(app: erlen.Erlen) -> None:
    """The documented pattern: fill ``g`` from ``appcontext_pushed`` in tests."""

    def set_user(sender: erlen.Erlen, **kw: t.Any) -> None:
        erlen.g.user = "alice"

    @app.route("/")
    def index() -> str:
        return erlen.g.user  # type: ignore[no-any-return]

    with erlen.appcontext_pushed.connected_to(set_user, app):
        assert app.test_client().get("/").data == b"alice"


def test_request_context_reuses_active_app_context(app: erlen.Erlen) -> None:
    pushes: list[object] = []

    def pushed(sender: erlen.Erlen, **kw: t.Any) -> None:
        pushes.append(sender)

    with erlen.appcontext_pushed.connected_to(pushed, app):
        with app.app_context() as actx:
            with app.test_request_context():
                assert app_ctx._get_current_object() is actx  # type: ignore[attr-defined]
                assert request_ctx.request.path == "/"
    assert pushes == [app]


def test_request_context_pushes_own_app_context_for_other_app(
    app: erlen.Erlen,
) -> None:
    other = erlen.Erlen("other")
    with other.app_context():
        with app.test_request_context():
            assert erlen.current_app.name == "erlen_test"
        assert erlen.current_app.name == "other"


def test_teardown_with_exception_handled_in_view(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def td_request(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    def index() -> str:
        try:
            raise ValueError("handled")
        except ValueError:
            pass
        return ""

    client.get("/")
    assert seen == [None, None]


def test_teardown_with_exception_handled_by_errorhandler(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    def index() -> str:
        raise ValueError("handled")

    @app.errorhandler(ValueError)
    def handle(e: ValueError) -> tuple[str, int]:
        return "handled", 400

    assert client.get("/").status_code == 400
    assert seen == [None]


def test_teardown_with_unhandled_exception(app: erlen.Erlen) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = True
    seen: list[BaseException | None] = []

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        seen.append(exc)

    @app.route("/")
    def index() -> str:
        raise ValueError("unhandled")

    with pytest.raises(ValueError, match="unhandled"):
        app.test_client().get("/")
    assert len(seen) == 1
    assert isinstance(seen[0], ValueError)


def test_context_pushed_inside_view(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    calls: list[str] = []

    @app.teardown_request
    def td_request(exc: BaseException | None) -> None:
        calls.append(f"request {erlen.request.path}")

    @app.teardown_appcontext
    def td_app(exc: BaseException | None) -> None:
        calls.append("app")

    @app.route("/")
    def index() -> str:
        with app.app_context():
            with app.test_request_context("/inner"):
                assert erlen.request.path == "/inner"
            assert erlen.request.path == "/"
        calls.append("view done")
        return erlen.request.path

    assert client.get("/").data == b"/"
    assert calls == ["request /inner", "app", "view done", "request /", "app"]
