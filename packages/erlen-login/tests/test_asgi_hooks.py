"""Under the ASGI entry, which erlen-login hooks run on the event loop and which in the pool."""

from __future__ import annotations

import asyncio
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import User

from erlen import Erlen
from erlen import g
from erlen import Response
from erlen import session
from erlen.asgi import thread_pool
from erlen.ext import is_nonblocking
from erlen_login import current_user
from erlen_login import login_user
from erlen_login import LoginManager
from erlen_login import logout_user


class _Recorder:
    """Threads that ran views and cookie writes, and the app's pool submissions."""

    def __init__(self, app: Erlen, monkeypatch: pytest.MonkeyPatch) -> None:
        self.view: list[str] = []
        self.cookies: list[str] = []
        self.submitted = 0
        recorder = self
        pool = thread_pool(app)
        submit = ThreadPoolExecutor.submit

        def counting_submit(
            executor: ThreadPoolExecutor, *args: t.Any, **kwargs: t.Any
        ) -> t.Any:
            if executor is pool:
                recorder.submitted += 1
            return submit(executor, *args, **kwargs)

        monkeypatch.setattr(ThreadPoolExecutor, "submit", counting_submit)

        class RecordingResponse(Response):
            def set_cookie(self, key: str, *args: t.Any, **kwargs: t.Any) -> None:
                if key == "remember_token":
                    recorder.cookies.append(threading.current_thread().name)
                super().set_cookie(key, *args, **kwargs)

        app.response_class = RecordingResponse

    def here(self) -> None:
        self.view.append(threading.current_thread().name)


def _app(users: dict[str, User], **config: t.Any) -> tuple[Erlen, LoginManager]:
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test secret key", TESTING=True, **config)
    return app, LoginManager(app)


def test_remember_cookie_is_written_on_the_loop(
    users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, manager = _app(users)

    @manager.user_loader
    def load_user(user_id: str) -> User | None:
        return users.get(user_id)

    rec = _Recorder(app, monkeypatch)

    @app.post("/login")
    async def login() -> str:
        rec.here()
        return str(login_user(users["1"], remember=True))

    @app.post("/logout")
    async def logout() -> str:
        rec.here()
        return str(logout_user())

    @app.get("/me")
    async def me() -> str:
        rec.here()
        return t.cast(str, current_user.name)

    client = app.test_client(asgi=True)
    assert client.post("/login").text == "True"
    assert client.get_cookie("remember_token") is not None
    assert rec.cookies == rec.view[:1]  # set by the hook, on the view's thread
    assert not rec.cookies[0].startswith("erlen-asgi")
    # With a sync loader nothing goes to the pool: the user-preloading hook
    # may block only when a loader is async.
    assert is_nonblocking(manager._update_remember_cookie)
    assert is_nonblocking(manager._preload_hook)
    assert client.get("/me").text == "Alice"
    assert client.post("/logout").text == "True"
    assert client.get_cookie("remember_token") is None
    assert rec.submitted == 0


def test_remember_cookie_in_a_sync_view_is_written_in_the_pool(
    users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, manager = _app(users)
    manager.user_loader(users.get)
    rec = _Recorder(app, monkeypatch)

    @app.post("/login")
    def login() -> str:
        rec.here()
        return str(login_user(users["2"], remember=True))

    client = app.test_client(asgi=True)
    assert client.post("/login").text == "True"
    assert client.get_cookie("remember_token") is not None
    assert rec.cookies == rec.view
    assert rec.cookies[0].startswith("erlen-asgi")


@pytest.mark.parametrize("loader_first", [False, True])
def test_async_loaders_are_called_by_the_pool_hook(
    users: dict[str, User], loader_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An async loader cannot run on the loop from sync code: a pool hook loads the user."""
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test secret key", TESTING=True)
    manager = LoginManager()

    async def load_user(user_id: str) -> User | None:
        await asyncio.sleep(0)
        return users.get(user_id)

    if loader_first:
        manager.user_loader(load_user)
        manager.init_app(app)
    else:
        manager.init_app(app)
        manager.user_loader(load_user)
    assert manager._preload_hook in app.before_request_funcs[None]
    assert not is_nonblocking(manager._preload_hook)
    rec = _Recorder(app, monkeypatch)

    @app.get("/login")
    def login() -> str:
        return str(login_user(users["1"]))

    @app.get("/me")
    async def me() -> str:
        await asyncio.sleep(0)
        if not current_user.is_authenticated:
            return "anonymous"
        return t.cast(str, current_user.name)

    client = app.test_client(asgi=True)
    assert client.get("/me").text == "anonymous"
    client.get("/login")
    rec.submitted = 0
    assert client.get("/me").text == "Alice"
    assert rec.submitted == 1  # the preload hook's one hop


def test_an_async_hook_added_before_the_async_loader_sees_the_user(
    users: dict[str, User],
) -> None:
    """The preload hook is registered by init_app, so it runs before hooks
    added afterwards, whenever the loader is registered."""
    app, manager = _app(users)

    @app.before_request
    async def who() -> None:
        g.who = current_user.is_authenticated

    @manager.user_loader
    async def load_user(user_id: str) -> User | None:
        return users.get(user_id)

    @app.get("/login")
    def login() -> str:
        return str(login_user(users["1"]))

    @app.get("/me")
    async def me() -> str:
        return str(g.who)

    client = app.test_client(asgi=True)
    client.get("/login")
    assert client.get("/me").text == "True"


def test_flask_login_session_marker_warns_on_the_loop(
    users: dict[str, User],
) -> None:
    """``session["_remember"] = "set"`` calls the user model: it still works after
    an async view, with a warning that it waited on the loop."""
    app, manager = _app(users)
    manager.user_loader(users.get)

    @app.post("/old-style")
    async def old_style() -> str:
        login_user(users["2"])
        session["_remember"] = "set"
        return "ok"

    @app.post("/old-style-sync")
    def old_style_sync() -> str:
        login_user(users["2"])
        session["_remember"] = "set"
        return "ok"

    client = app.test_client(asgi=True)
    with pytest.warns(RuntimeWarning, match="login_user.user, remember=True") as seen:
        assert client.post("/old-style").text == "ok"
    # It points at the view that set the marker, not at erlen-login.
    assert seen[0].filename == __file__
    assert seen[0].lineno == old_style.__code__.co_firstlineno
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("remember_token")
    assert client.post("/old-style-sync").text == "ok"
    assert client.get_cookie("remember_token") is not None
