"""CSRFProtect under the ASGI entry: its hook runs on the event loop for ``async def`` views."""

from __future__ import annotations

import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest

from erlen import Erlen
from erlen import request
from erlen import stream_request_body
from erlen.asgi import AsgiInput
from erlen.asgi import thread_pool
from erlen.ext import is_nonblocking
from erlen_forms import CSRFProtect
from erlen_forms import generate_csrf
from erlen_forms._asgi import body_unreadable_here


@pytest.fixture
def threads(app: Erlen) -> dict[str, str]:
    """The thread that read ``request.form`` (the CSRF hook) and the one that ran the view."""
    seen: dict[str, str] = {}

    class RecordingRequest(app.request_class):  # type: ignore[name-defined, misc]
        @property
        def form(self) -> t.Any:
            seen.setdefault("form", threading.current_thread().name)
            return super().form

    app.request_class = RecordingRequest
    return seen


@pytest.fixture
def submitted(app: Erlen, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every call handed to the app's ASGI thread pool."""
    calls: list[object] = []
    pool = thread_pool(app)
    submit = ThreadPoolExecutor.submit

    def counting_submit(
        executor: ThreadPoolExecutor, fn: t.Any, *args: t.Any, **kwargs: t.Any
    ) -> t.Any:
        if executor is pool:
            calls.append(args[0] if args else fn)
        return submit(executor, fn, *args, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "submit", counting_submit)
    return calls


def _routes(app: Erlen, threads: dict[str, str]) -> None:
    @app.get("/token")
    def token() -> str:
        return generate_csrf()

    @app.post("/async")
    async def async_view() -> str:
        threads["view"] = threading.current_thread().name
        return "posted " + request.form["name"]

    @app.get("/async-get")
    async def async_get() -> str:
        return "got"

    @app.post("/sync")
    def sync_view() -> str:
        threads["view"] = threading.current_thread().name
        return "posted " + request.form["name"]

    @app.post("/upload")
    @stream_request_body
    async def upload() -> str:
        size = 0
        async for chunk in request.stream_body():
            size += len(chunk)
        return f"received {size}"


def test_check_runs_on_the_loop_for_async_views(
    app: Erlen,
    csrf: CSRFProtect,
    threads: dict[str, str],
    submitted: list[object],
) -> None:
    _routes(app, threads)
    client = app.test_client(asgi=True)
    token = client.get("/token").text
    submitted.clear()
    reply = client.post("/async", data={"csrf_token": token, "name": "x"})
    assert reply.text == "posted x"
    assert threads["form"] == threads["view"]  # the hook read the form there
    assert not threads["view"].startswith("erlen-asgi")
    assert submitted == []  # nothing of the request went to the pool
    assert is_nonblocking(csrf._check_default)
    assert client.post("/async", data={"name": "x"}).status_code == 400
    # A GET to an async view passes the hook on the loop too.
    submitted.clear()
    assert client.get("/async-get").text == "got"
    assert submitted == []


def test_sync_views_still_check_in_the_pool(
    app: Erlen, csrf: CSRFProtect, threads: dict[str, str]
) -> None:
    _routes(app, threads)
    client = app.test_client(asgi=True)
    token = client.get("/token").text
    assert client.post("/sync", data={"csrf_token": token, "name": "y"}).text == (
        "posted y"
    )
    assert threads["form"] == threads["view"]
    assert threads["view"].startswith("erlen-asgi")


def test_streamed_body_is_not_waited_for_on_the_loop(
    app: Erlen, csrf: CSRFProtect, threads: dict[str, str]
) -> None:
    """The token of a streamed upload comes from a header; its body reaches the view."""
    _routes(app, threads)
    client = app.test_client(asgi=True)
    token = client.get("/token").text
    data = {"name": "z" * 100}
    reply = client.post("/upload", data=data, headers={"X-CSRFToken": token})
    assert reply.text == "received 105"  # name=zzz...
    assert "form" not in threads
    refused = client.post("/upload", data={"csrf_token": token, **data})
    assert refused.status_code == 400
    assert "X-CSRFToken header" in refused.text
    app.config["MAX_CONTENT_LENGTH"] = 10
    too_big = client.post("/async", data={"csrf_token": token, **data})
    assert too_big.status_code == 413


def test_body_adapter_matches_the_core(app: Erlen) -> None:
    """erlen_forms._asgi relies on erlen.asgi.AsgiInput and its ``complete`` flag."""
    assert isinstance(AsgiInput.__dict__.get("complete"), property)
    seen: dict[str, bool] = {}

    @app.post("/stream-async")
    @stream_request_body
    async def stream_async() -> str:
        seen["stream-async"] = body_unreadable_here()
        return "".join([c.decode() async for c in request.stream_body()])

    @app.post("/stream-sync")
    @stream_request_body
    def stream_sync() -> str:
        seen["stream-sync"] = body_unreadable_here()
        return request.get_data(as_text=True)

    @app.post("/read")
    async def read() -> str:
        seen["read"] = body_unreadable_here()
        return request.get_data(as_text=True)

    asgi = app.test_client(asgi=True)
    for path in ("/stream-async", "/stream-sync", "/read"):
        assert asgi.post(path, data=b"abc").text == "abc"
    assert seen == {"stream-async": True, "stream-sync": False, "read": False}
    assert app.test_client().post("/stream-sync", data=b"abc").text == "abc"
    assert seen["stream-sync"] is False  # WSGI: nothing is pending
