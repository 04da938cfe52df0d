"""Shared fixtures for the core's tests."""

from __future__ import annotations

import inspect
import os
import sys
import typing as t
from pathlib import Path

import pytest

import erlen
from erlen.globals import _cv_app
from erlen.globals import _cv_request
from erlen.testing_asgi import AsgiClient

HERE = Path(__file__).parent

_ENV_VARS = (
    "ERLEN_APP",
    "ERLEN_DEBUG",
    "ERLEN_ENV_FILE",
    "ERLEN_RUN_FROM_CLI",
    "ERLEN_SKIP_DOTENV",
    "WERKZEUG_RUN_MAIN",
    "FLASK_APP",
    "FLASK_DEBUG",
)


@pytest.fixture(autouse=True)
def _standard_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test without the ERLEN_* variables of the outer shell."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _reset_os_environ() -> t.Iterator[None]:
    """Restore ``os.environ`` after tests that set variables directly."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def leak_detector() -> t.Iterator[None]:
    """Fail a test that leaves an app or request context pushed."""
    yield
    leaks = []
    while (ctx := _cv_request.get(None)) is not None:
        leaks.append(ctx)
        ctx.pop()
    while (app_ctx := _cv_app.get(None)) is not None:
        leaks.append(app_ctx)
        app_ctx.pop()
    assert leaks == []


#: Tests that use the test client run through both entry points, unless marked
#: ``wsgi_only`` (they test something ASGI does differently, said in the mark).
ENTRY_POINTS = ("wsgi", "asgi")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "wsgi_only(reason): the test holds only under the WSGI entry"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a test client through both entry points.

    Tests on the ``app`` fixture get ``entry``; tests that make their own apps
    (or whose module uses the ``any_app_entry`` fixture, for apps made in
    helpers) get ``any_app_entry``, which sets the client class of every app.
    """
    if metafunc.definition.get_closest_marker("wsgi_only"):
        return
    try:
        source = inspect.getsource(metafunc.function)
    except (OSError, TypeError):  # pragma: no cover
        return
    if "client" not in source:
        return
    if "entry" in metafunc.fixturenames:
        metafunc.parametrize("entry", ENTRY_POINTS, indirect=True)
    elif "any_app_entry" in metafunc.fixturenames:  # asked for by the module
        metafunc.parametrize("any_app_entry", ENTRY_POINTS, indirect=True)
    else:  # apps made here, in a helper or at module level
        metafunc.fixturenames.append("any_app_entry")
        metafunc.parametrize("any_app_entry", ENTRY_POINTS, indirect=True)


@pytest.fixture
def entry(request: pytest.FixtureRequest) -> str:
    """The entry point the test client drives: ``"wsgi"`` or ``"asgi"``."""
    return getattr(request, "param", "wsgi")


@pytest.fixture
def any_app_entry(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The entry point the test clients of every app in the test drive."""
    entry: str = getattr(request, "param", "wsgi")
    if entry == "asgi":
        monkeypatch.setattr(erlen.Erlen, "test_client_class", AsgiClient)
    return entry


@pytest.fixture
def app(entry: str) -> erlen.Erlen:
    """A testing app rooted in the tests folder (templates/ and static/ are here).

    Under the ``asgi`` entry, ``app.test_client()`` drives the ASGI entry.
    """
    app = erlen.Erlen("erlen_test", root_path=str(HERE))
    app.config.update(TESTING=True, SECRET_KEY="test key")
    if entry == "asgi":
        app.test_client_class = AsgiClient
    return app


@pytest.fixture
def app_ctx(app: erlen.Erlen) -> t.Iterator[erlen.ctx.AppContext]:
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def req_ctx(app: erlen.Erlen) -> t.Iterator[erlen.ctx.RequestContext]:
    with app.test_request_context() as ctx:
        yield ctx


@pytest.fixture
def client(app: erlen.Erlen) -> erlen.testing.ErlenClient:
    return app.test_client()


@pytest.fixture
def test_apps(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[None]:
    """Put tests/test_apps on sys.path; forget modules imported from it afterwards."""
    monkeypatch.syspath_prepend(str(HERE / "test_apps"))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        sys.modules.pop(name, None)
