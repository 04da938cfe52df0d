"""The app's logger: ``app.logger`` is the ``logging`` logger named after the app."""

from __future__ import annotations

import logging
import sys
import typing as t

from werkzeug.local import LocalProxy

from .globals import request

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Erlen


@LocalProxy
def wsgi_errors_stream() -> t.TextIO:
    """The WSGI error stream of the current request, or ``sys.stderr`` outside one."""
    from .globals import _cv_request

    if _cv_request.get(None) is not None:
        return request.environ["wsgi.errors"]  # type: ignore[no-any-return]
    return sys.stderr


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler in the logger's chain handles its effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


#: Logs to the request's ``wsgi.errors`` stream, or stderr outside a request.
default_handler = logging.StreamHandler(wsgi_errors_stream)  # type: ignore[call-overload]
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def create_logger(app: Erlen) -> logging.Logger:
    """Return the logger for ``app``, set to DEBUG in debug mode.

    The :data:`default_handler` is added only when nothing else in the chain
    would handle the logger's level, so logging configured by the user wins.
    """
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
