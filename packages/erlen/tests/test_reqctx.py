"""The request context: ``request``, ``session``, copying it and per-request hooks."""

from __future__ import annotations

import io
import threading
import typing as t

import pytest

import erlen
from erlen.globals import request_ctx


def test_request_outside_context_raises() -> None:
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        erlen.request.args  # noqa: B018
    with pytest.raises(RuntimeError, match="test_request_context"):
        erlen.request.args  # noqa: B018


def test_session_outside_context_raises() -> None:
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        erlen.session.get("x")


def test_request_ctx_proxy_outside_context_raises(app: erlen.Erlen) -> None:
    with app.app_context():
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            request_ctx.request  # noqa: B018


def test_test_request_context(app: erlen.Erlen) -> None:
    assert not erlen.has_request_context()
    with app.test_request_context("/path?a=1", method="POST", data={"b": "2"}):
        assert erlen.has_request_context()
        assert erlen.has_app_context()
        assert erlen.request.path == "/path"
        assert erlen.request.args["a"] == "1"
        assert erlen.request.method == "POST"
        assert erlen.request.form["b"] == "2"
        assert erlen.current_app._get_current_object() is app  # type: ignore[attr-defined]
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_request_context_repr(app: erlen.Erlen) -> None:
    ctx = app.test_request_context("/x")
    assert repr(ctx) == "<RequestContext 'http://localhost/x' [GET] of erlen_test>"


def test_session_in_test_request_context(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert erlen.session.get("x") is None
        erlen.session["x"] = 1
        assert erlen.session["x"] == 1


def test_null_session_without_secret_key(app: erlen.Erlen) -> None:
    app.secret_key = None
    with app.test_request_context():
        assert erlen.session.get("x") is None
        with pytest.raises(RuntimeError, match="secret key"):
            erlen.session["x"] = 1


def test_push_same_request_context_twice(app: erlen.Erlen) -> None:
    torn_down: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(exc)

    ctx = app.test_request_context("/")
    ctx.push()
    ctx.push()
    ctx.pop()
    assert erlen.has_request_context()
    assert torn_down == []
    ctx.pop()
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()
    assert torn_down == [None]


def test_pop_wrong_request_context(app: erlen.Erlen) -> None:
    outer = app.test_request_context("/outer")
    inner = app.test_request_context("/inner")
    outer.push()
    inner.push()
    with pytest.raises(AssertionError, match="Popped wrong request context"):
        outer.pop()
    while erlen.has_request_context():
        erlen.globals._cv_request.get().pop()
    while erlen.has_app_context():
        erlen.globals._cv_app.get().pop()


def test_teardown_request_receives_exception(app: erlen.Erlen) -> None:
    seen: list[BaseException | None] = []

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(exc)

    with pytest.raises(KeyError):
        with app.test_request_context():
            raise KeyError("boom")
    assert isinstance(seen[0], KeyError)


def test_teardown_request_runs_all_even_if_one_raises(app: erlen.Erlen) -> None:
    calls: list[str] = []

    @app.teardown_request
    def first(exc: BaseException | None) -> None:
        calls.append("first")

    @app.teardown_request
    def broken(exc: BaseException | None) -> None:
        calls.append("broken")
        raise ValueError("nope")

    ctx = app.test_request_context()
    ctx.push()
    with pytest.raises(ValueError, match="nope"):
        ctx.pop()
    assert calls == ["broken", "first"]
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_copy_current_request_context_in_thread(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    results: dict[str, t.Any] = {}

    @app.route("/")
    def index() -> str:
        erlen.session["user"] = "bob"

        @erlen.copy_current_request_context
        def work(suffix: str) -> None:
            results["path"] = erlen.request.path + suffix
            results["arg"] = erlen.request.args["q"]
            results["user"] = erlen.session["user"]
            results["app"] = erlen.current_app.name
            erlen.g.in_thread = True

        thread = threading.Thread(target=work, args=("!",))
        thread.start()
        thread.join(timeout=10)
        results["thread_alive"] = thread.is_alive()
        return "ok"

    assert client.get("/?q=spam").data == b"ok"
    assert results == {
        "path": "/!",
        "arg": "spam",
        "user": "bob",
        "app": "erlen_test",
        "thread_alive": False,
    }


def test_copy_current_request_context_keeps_function_name(
    app: erlen.Erlen,
) -> None:
    with app.test_request_context():

        @erlen.copy_current_request_context
        def named() -> int:
            """Docs."""
            return 3

        assert named.__name__ == "named"
        assert named.__doc__ == "Docs."
        assert named() == 3


def test_copy_current_request_context_outside_request() -> None:
    with pytest.raises(RuntimeError, match="request context"):

        @erlen.copy_current_request_context
        def work() -> None:
            pass


def test_copy_current_request_context_async(app: erlen.Erlen) -> None:
    pytest.importorskip("asgiref")
    with app.test_request_context("/hello"):

        @erlen.copy_current_request_context
        async def work() -> str:
            return erlen.request.path

    result: list[str] = []
    thread = threading.Thread(target=lambda: result.append(work()))
    thread.start()
    thread.join(timeout=10)
    assert result == ["/hello"]


def test_after_this_request(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    order: list[str] = []

    @app.after_request
    def global_after(response: erlen.Response) -> erlen.Response:
        order.append("after_request")
        return response

    @app.route("/")
    def index() -> str:
        @erlen.after_this_request
        def add_header(response: erlen.Response) -> erlen.Response:
            order.append("after_this_request")
            response.headers["X-Foo"] = "a header"
            return response

        return "body"

    @app.route("/other")
    def other() -> str:
        return "other"

    rv = client.get("/")
    assert rv.headers["X-Foo"] == "a header"
    assert order == ["after_this_request", "after_request"]
    assert "X-Foo" not in client.get("/other").headers


def test_after_this_request_outside_request() -> None:
    with pytest.raises(RuntimeError, match="request context"):

        @erlen.after_this_request
        def f(response: erlen.Response) -> erlen.Response:
            return response


def test_request_context_keeps_session_between_copy(app: erlen.Erlen) -> None:
    with app.test_request_context() as ctx:
        erlen.session["k"] = "v"
        copied = ctx.copy()
    with copied:
        assert erlen.session["k"] == "v"
        assert erlen.request is not None


def test_request_is_closed_on_pop(app: erlen.Erlen) -> None:
    with app.test_request_context(
        method="POST", data={"f": (io.BytesIO(b"x"), "a.txt")}
    ):
        stream = erlen.request.files["f"].stream
        assert not stream.closed
    assert stream.closed


def test_proxies_are_context_local_in_threads(app: erlen.Erlen) -> None:
    seen: list[bool] = []

    def check() -> None:
        seen.append(erlen.has_request_context())

    with app.test_request_context():
        thread = threading.Thread(target=check)
        thread.start()
        thread.join(timeout=10)
    assert seen == [False]


@pytest.mark.parametrize("host", ["\x8a", "bad host", "a/b", "x.test:abc"])
def test_invalid_host_is_not_a_server_error(app: erlen.Erlen, host: str) -> None:
    """Werkzeug treats an invalid ``Host`` as empty, as Flask 3.1 does; with
    older Werkzeug releases that pass it on, it is at worst a 400."""
    from werkzeug.sansio.utils import get_host

    @app.route("/")
    def index() -> str:
        return f"[{erlen.request.host}]"

    environ = app.test_request_context().request.environ
    environ["HTTP_HOST"] = host
    with app.request_context(environ):
        response = app.full_dispatch_request()
    if get_host("http", host) != "":  # Werkzeug 3.1.0
        assert response.status_code in (200, 400)
        return
    assert response.status_code == 200
    assert response.data == b"[]"


def test_valid_idna_host(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return erlen.request.host

    environ = app.test_request_context().request.environ
    environ["HTTP_HOST"] = "ąśź.com"
    with app.request_context(environ):
        response = app.full_dispatch_request()
    assert response.status_code == 200


def test_session_open_error_pops_context(app: erlen.Erlen) -> None:
    class BrokenInterface(erlen.sessions.SecureCookieSessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> t.Any:
            raise ValueError("cannot open")

    app.session_interface = BrokenInterface()

    @app.route("/")
    def index() -> str:
        return str(erlen.session.get("x"))

    with pytest.raises(ValueError, match="cannot open"):
        app.test_client().get("/")
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()


def test_teardown_error_still_pops(app: erlen.Erlen) -> None:
    @app.teardown_request
    def broken(exc: BaseException | None) -> None:
        raise ZeroDivisionError()

    @app.route("/")
    def index() -> str:
        return "ok"

    with pytest.raises(ZeroDivisionError):
        app.test_client().get("/")
    assert not erlen.has_request_context()
    assert not erlen.has_app_context()
