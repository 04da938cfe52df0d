"""Errors raised by the REST layer, and :func:`abort` that carries data to the client."""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException

__all__ = ["RestError", "SpecsError", "ValidationError", "abort"]


def abort(code: int = 500, message: str | None = None, **kwargs: t.Any) -> t.NoReturn:
    """Raise an HTTP error; ``message`` and keyword arguments become the response body.

    The exception gets a ``data`` attribute only when there is something to
    send, so handlers can tell an explicit body from the default one.
    """
    cls = default_exceptions.get(code)
    exc: HTTPException = cls() if cls is not None else HTTPException()
    if cls is None:
        exc.code = code
    if message or kwargs:
        data = dict(kwargs)
        if message:
            data["message"] = str(message)
        exc.data = data  # type: ignore[attr-defined]
    raise exc


class RestError(Exception):
    """Base class for errors of the REST layer."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg

    def __str__(self) -> str:
        return self.msg


class ValidationError(RestError):
    """A value failed validation while marshalling or parsing."""


class SpecsError(RestError):
    """The API's description cannot be turned into a valid document."""
