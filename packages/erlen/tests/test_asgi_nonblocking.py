"""Hooks marked ``erlen.ext.nonblocking`` run on the ASGI loop; unmarked sync ones in the pool."""

from __future__ import annotations

import asyncio
import threading
import typing as t

import pytest
from test_asgi import http_scope
from test_asgi import run

import erlen
from erlen.ext import is_nonblocking
from erlen.ext import nonblocking


def _threads_of(app: erlen.Erlen, path: str = "/async") -> dict[str, bool]:
    """Serve ``path`` through the ASGI entry; say which steps ran on the loop's thread."""
    loop_thread = threading.get_ident()  # run() drives the loop in this thread
    app.config["SEEN"] = seen = {}
    rv = run(app, http_scope(path))
    assert rv.status == 200, rv.body
    return {step: ident == loop_thread for step, ident in seen.items()}


def _saw(step: str) -> None:
    erlen.current_app.config["SEEN"][step] = threading.get_ident()


@pytest.fixture
def hooked(app: erlen.Erlen) -> erlen.Erlen:
    @app.route("/async")
    async def async_view() -> str:
        _saw("view")
        return "ok"

    @app.route("/sync")
    def sync_view() -> str:
        _saw("view")
        return "ok"

    @app.route("/count")
    async def count() -> str:
        _saw("view")
        erlen.session["n"] = erlen.session.get("n", 0) + 1
        return str(erlen.session["n"])

    return app


def test_marked_hooks_of_an_async_view_run_on_the_loop(hooked: erlen.Erlen) -> None:
    @hooked.before_request
    @nonblocking
    def before() -> None:
        _saw("before")

    @hooked.after_request
    @nonblocking
    def after(response: erlen.Response) -> erlen.Response:
        _saw("after")
        return response

    @hooked.teardown_request
    @nonblocking
    def teardown_request(exc: BaseException | None) -> None:
        _saw("teardown_request")

    @hooked.teardown_appcontext
    @nonblocking
    def teardown_appcontext(exc: BaseException | None) -> None:
        _saw("teardown_appcontext")

    assert _threads_of(hooked) == {
        "before": True,
        "view": True,
        "after": True,
        "teardown_request": True,
        "teardown_appcontext": True,
    }


def test_a_conditional_mark_is_asked_on_every_request(hooked: erlen.Erlen) -> None:
    """``nonblocking(unless=...)``: on the loop while the condition is false, in
    the pool from the request where it turns true (an extension's setting)."""
    may_block = {"before": False, "after": False, "after_this_request": False}

    @hooked.before_request
    @nonblocking(unless=lambda: may_block["before"])
    def before() -> None:
        _saw("before")
        # A condition may read the app: it is asked inside the request.
        assert erlen.current_app.config["SEEN"] is not None

        @erlen.after_this_request
        @nonblocking(unless=lambda: may_block["after_this_request"])
        def after_this(response: erlen.Response) -> erlen.Response:
            _saw("after_this_request")
            return response

    def after(response: erlen.Response) -> erlen.Response:
        _saw("after")
        return response

    hooked.after_request(nonblocking(after, unless=lambda: may_block["after"]))

    on_loop = {s: True for s in ("before", "view", "after_this_request", "after")}
    assert _threads_of(hooked) == on_loop
    may_block["before"] = True
    assert _threads_of(hooked) == {**on_loop, "before": False}
    may_block["before"] = False
    for step in ("after", "after_this_request"):
        # Either after-hook sends the response's finalizing, both hooks, to the pool.
        may_block[step] = True
        assert _threads_of(hooked) == {
            **on_loop,
            "after": False,
            "after_this_request": False,
        }
        may_block[step] = False
    assert _threads_of(hooked) == on_loop
    assert is_nonblocking(before)
    may_block["before"] = True
    assert not is_nonblocking(before)


def test_a_conditional_mark_on_teardown_counts_as_none(hooked: erlen.Erlen) -> None:
    """Popping is planned before the contexts exist: the condition is not asked."""

    def never_asked() -> bool:
        raise AssertionError("asked outside the request")

    @hooked.teardown_appcontext
    @nonblocking(unless=never_asked)
    def teardown(exc: BaseException | None) -> None:
        _saw("teardown")

    assert _threads_of(hooked) == {"view": True, "teardown": False}


def test_a_condition_that_raises_is_the_apps_500(hooked: erlen.Erlen) -> None:
    broken = [True]

    def condition() -> bool:
        if broken:
            broken.pop()
            raise RuntimeError("condition broke")
        return False

    @hooked.before_request
    @nonblocking(unless=condition)
    def before() -> None:
        _saw("before")

    @hooked.errorhandler(500)
    def failed(e: Exception) -> tuple[str, int]:
        return "the app's 500", 500

    hooked.config["PROPAGATE_EXCEPTIONS"] = False

    rv = run(hooked, http_scope("/async"))
    assert (rv.status, rv.body) == (500, b"the app's 500")
    assert _threads_of(hooked) == {"before": True, "view": True}


def test_a_conditional_mark_refuses_a_method() -> None:
    class Hooks:
        def before(self) -> None:
            pass

    with pytest.raises(TypeError, match="every instance of its class"):
        nonblocking(Hooks().before, unless=lambda: False)
    with pytest.raises(TypeError, match="takes a hook"):
        nonblocking()  # type: ignore[call-overload]
    assert not is_nonblocking(Hooks.before)


def test_one_unmarked_teardown_sends_popping_to_the_pool(hooked: erlen.Erlen) -> None:
    @hooked.teardown_appcontext
    @nonblocking
    def marked(exc: BaseException | None) -> None:
        _saw("marked")

    @hooked.teardown_appcontext
    def unmarked(exc: BaseException | None) -> None:
        _saw("unmarked")

    @hooked.after_request
    def after(response: erlen.Response) -> erlen.Response:
        _saw("after")
        return response

    assert _threads_of(hooked) == {
        "view": True,
        "after": False,
        "unmarked": False,
        "marked": False,
    }


def test_a_teardown_signal_receiver_sends_popping_to_the_pool(
    hooked: erlen.Erlen,
) -> None:
    @hooked.teardown_appcontext
    @nonblocking
    def marked(exc: BaseException | None) -> None:
        _saw("marked")

    def receiver(sender: erlen.Erlen, **extra: t.Any) -> None:
        _saw("signal")

    with erlen.appcontext_tearing_down.connected_to(receiver, hooked):
        assert _threads_of(hooked) == {"view": True, "marked": False, "signal": False}
    assert _threads_of(hooked) == {"view": True, "marked": True}


def test_a_sync_only_app_pops_in_the_step_that_ran_its_view(app: erlen.Erlen) -> None:
    # Without async views the whole request is one pool step: marked teardown
    # runs there too, in the view's thread, rather than after a second hop.
    @app.route("/sync")
    def sync_view() -> str:
        _saw("view")
        erlen.g.view_thread = threading.get_ident()
        return "ok"

    @app.teardown_appcontext
    @nonblocking
    def marked(exc: BaseException | None) -> None:
        _saw("marked")
        assert erlen.g.view_thread == threading.get_ident()

    assert _threads_of(app, "/sync") == {"view": False, "marked": False}


def test_a_subclass_teardown_method_is_not_assumed_nonblocking() -> None:
    class Custom(erlen.Erlen):
        def do_teardown_appcontext(self, exc: t.Any = None) -> None:
            _saw("subclass")
            super().do_teardown_appcontext(exc)

    app = Custom(__name__)

    @app.route("/async")
    async def async_view() -> str:
        _saw("view")
        return "ok"

    @app.teardown_appcontext
    @nonblocking
    def marked(exc: BaseException | None) -> None:
        pass

    assert _threads_of(app) == {"view": True, "subclass": False}


class _ServerSideSessions(erlen.sessions.SecureCookieSessionInterface):
    """A session interface whose methods stand for a store's I/O (Redis, a table)."""

    def open_session(
        self, app: erlen.Erlen, request: erlen.Request
    ) -> erlen.sessions.SecureCookieSession | None:
        _saw("open_session")
        return super().open_session(app, request)

    def save_session(
        self,
        app: erlen.Erlen,
        session: erlen.sessions.SessionMixin,
        response: erlen.Response,
    ) -> None:
        _saw("save_session")
        super().save_session(app, session, response)


def test_a_session_interface_that_may_block_saves_in_the_pool(
    hooked: erlen.Erlen,
) -> None:
    """An async view's response is finalized (its session saved) in the pool when
    the interface is not the built-in cookie one (or marked nonblocking); the
    session stays lazy, opened where the view first reads it."""
    hooked.secret_key = "secret"
    hooked.session_interface = _ServerSideSessions()

    assert _threads_of(hooked, "/count") == {
        "open_session": True,
        "view": True,
        "save_session": False,
    }
    # A view that never reads the session opens and saves nothing, as under WSGI.
    assert _threads_of(hooked, "/async") == {"view": True}


def test_the_cookie_session_and_marked_interfaces_stay_on_the_loop(
    hooked: erlen.Erlen,
) -> None:
    class Marked(_ServerSideSessions):
        @nonblocking
        def open_session(self, *args: t.Any) -> t.Any:
            return super().open_session(*args)

        @nonblocking
        def save_session(self, *args: t.Any) -> None:
            super().save_session(*args)

    hooked.secret_key = "secret"

    assert is_nonblocking(erlen.sessions.SecureCookieSessionInterface.save_session)
    assert is_nonblocking(erlen.sessions.SecureCookieSessionInterface.open_session)
    hooked.session_interface = Marked()
    assert _threads_of(hooked, "/count") == {
        "open_session": True,
        "view": True,
        "save_session": True,
    }

    # A method replaced on the instance (a test's patch) is what gets called:
    # its own mark counts, not the class's.
    interface = erlen.sessions.SecureCookieSessionInterface()
    save = interface.save_session

    def save_to_store(*args: t.Any) -> None:
        _saw("save_session")
        save(*args)

    interface.save_session = save_to_store  # type: ignore[method-assign]
    hooked.session_interface = interface
    assert _threads_of(hooked, "/count") == {"view": True, "save_session": False}


def test_a_marked_hook_reading_a_body_still_arriving_waits_in_the_pool(
    app: erlen.Erlen,
) -> None:
    """Past MAX_CONTENT_LENGTH the body is not read before the hooks (one may
    raise the limit): a marked hook that reads it then runs in the pool, as a
    sync hook would, instead of waiting for the client on the loop."""
    app.config["MAX_CONTENT_LENGTH"] = 100

    @app.before_request
    def raise_limit() -> None:
        erlen.request.max_content_length = 10_000

    @app.before_request
    @nonblocking
    def read_form() -> None:
        try:
            asyncio.get_running_loop()
            erlen.g.where = "loop"
        except RuntimeError:
            erlen.g.where = "pool"
        erlen.g.size = len(erlen.request.form["data"])

    @app.post("/upload")
    async def upload() -> str:
        return f"{erlen.g.size} {erlen.g.where}"

    client = app.test_client(asgi=True)
    assert client.post("/upload", data={"data": "x" * 5000}).text == "5000 pool"
    # A body read before the hooks (under the limit): the marked hook runs on the loop.
    assert client.post("/upload", data={"data": "x" * 50}).text == "50 loop"


def test_the_mark_changes_nothing_under_wsgi(hooked: erlen.Erlen) -> None:
    calls: list[str] = []

    @hooked.teardown_request
    @nonblocking
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    hooked.config["SEEN"] = {}
    assert hooked.test_client().get("/async").data == b"ok"
    assert hooked.test_client().get("/sync").data == b"ok"
    assert calls == ["teardown", "teardown"]


def test_marking_a_method_marks_its_function() -> None:
    class Extension:
        def teardown(self, exc: BaseException | None) -> None:
            pass

    method = Extension().teardown
    assert nonblocking(method) is method
    assert is_nonblocking(method)
    assert is_nonblocking(Extension().teardown)
    assert not is_nonblocking(lambda exc: None)


def test_what_cannot_be_marked_says_so() -> None:
    with pytest.raises(TypeError, match="cannot mark .*mark the function it calls"):
        nonblocking(len)
