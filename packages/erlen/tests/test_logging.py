"""``app.logger`` and the default handler that writes to ``wsgi.errors``."""

from __future__ import annotations

import io
import logging
import sys
import typing as t

import pytest

import erlen
from erlen.logging import default_handler
from erlen.logging import has_level_handler
from erlen.logging import wsgi_errors_stream


@pytest.fixture(autouse=True)
def reset_logging(pytestconfig: pytest.Config) -> t.Iterator[None]:
    """Run without pytest's capture handlers, and undo what the app's logger did."""
    root_handlers = logging.root.handlers[:]
    root_level = logging.root.level
    logging.root.handlers = []
    logger = logging.getLogger("erlen_test")
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    plugin = pytestconfig.pluginmanager.unregister(name="logging-plugin")
    yield
    logging.root.handlers[:] = root_handlers
    logging.root.setLevel(root_level)
    logger.handlers = []
    logger.setLevel(logging.NOTSET)
    if plugin is not None:
        pytestconfig.pluginmanager.register(plugin, "logging-plugin")


def test_logger_name(app: erlen.Erlen) -> None:
    assert app.logger.name == "erlen_test"
    assert app.logger is logging.getLogger("erlen_test")


def test_logger_name_of_main_module() -> None:
    main_app = erlen.Erlen("__main__")
    assert main_app.logger.name == main_app.name


def test_logger_level(app: erlen.Erlen) -> None:
    assert app.logger.level == logging.NOTSET
    assert app.logger.getEffectiveLevel() == logging.WARNING


def test_logger_debug_level(app: erlen.Erlen) -> None:
    app.debug = True
    assert app.logger.level == logging.DEBUG


def test_logger_keeps_user_level(app: erlen.Erlen) -> None:
    logging.getLogger("erlen_test").setLevel(logging.ERROR)
    app.debug = True
    assert app.logger.level == logging.ERROR


def test_default_handler_added(app: erlen.Erlen) -> None:
    assert default_handler in app.logger.handlers


def test_default_handler_not_added_when_configured(app: erlen.Erlen) -> None:
    handler = logging.StreamHandler(io.StringIO())
    logging.root.addHandler(handler)
    assert default_handler not in app.logger.handlers


def test_default_handler_not_added_with_own_handler(app: erlen.Erlen) -> None:
    logging.getLogger("erlen_test").addHandler(logging.NullHandler())
    assert default_handler not in app.logger.handlers


def test_has_level_handler() -> None:
    logger = logging.getLogger("erlen_test")
    assert not has_level_handler(logger)
    handler = logging.StreamHandler()
    logging.root.addHandler(handler)
    assert has_level_handler(logger)
    logger.propagate = False
    try:
        assert not has_level_handler(logger)
    finally:
        logger.propagate = True
    handler.setLevel(logging.ERROR)
    assert not has_level_handler(logger)


def test_wsgi_errors_stream(
    app: erlen.Erlen, client: erlen.testing.ErlenClient
) -> None:
    @app.route("/")
    def index() -> str:
        app.logger.error("in the view")
        assert (
            wsgi_errors_stream._get_current_object()
            is erlen.request.environ[  # type: ignore[attr-defined]
                "wsgi.errors"
            ]
        )
        return ""

    stream = io.StringIO()
    client.get("/", errors_stream=stream)
    assert "ERROR in test_logging: in the view" in stream.getvalue()
    assert wsgi_errors_stream._get_current_object() is sys.stderr  # type: ignore[attr-defined]


def test_default_handler_outside_request_uses_stderr(
    app: erlen.Erlen, capsys: pytest.CaptureFixture[str]
) -> None:
    app.logger.warning("outside")
    assert "WARNING in test_logging: outside" in capsys.readouterr().err


def test_unhandled_exception_logged_to_wsgi_errors(app: erlen.Erlen) -> None:
    app.testing = False

    @app.route("/")
    def index() -> str:
        raise ZeroDivisionError("logged")

    stream = io.StringIO()
    rv = app.test_client().get("/", errors_stream=stream)
    assert rv.status_code == 500
    output = stream.getvalue()
    assert "Exception on / [GET]" in output
    assert "ZeroDivisionError: logged" in output
    assert "Traceback" in output


def test_log_format(app: erlen.Erlen) -> None:
    stream = io.StringIO()
    with app.test_request_context(errors_stream=stream):
        app.logger.error("formatted")
    line = stream.getvalue().strip()
    assert line.startswith("[")
    assert line.endswith("] ERROR in test_logging: formatted")
