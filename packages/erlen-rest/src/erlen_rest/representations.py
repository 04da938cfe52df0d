"""Default representations: how response data becomes a body for a media type."""

from __future__ import annotations

import decimal
import json
import typing as t
import uuid

from erlen import current_app
from erlen import make_response

__all__ = ["output_json"]


def _default(value: t.Any) -> t.Any:
    """Encode what ``json`` cannot: dates as ISO 8601, decimals and UUIDs as strings.

    Any other object is a ``TypeError`` (a 500 logged on the server, as in
    Flask-RESTX), never its ``str()``: a repr can hold fields nobody chose to send.
    """
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(
        f"Object of type {type(value).__name__} is not JSON serializable:"
        " marshal it or declare a response model"
    )


def dumps(data: t.Any) -> str:
    """Serialize with ``RESTX_JSON`` (or ``RESTFUL_JSON``) settings; indented in debug mode."""
    settings = dict(
        current_app.config.get("RESTX_JSON")
        or current_app.config.get("RESTFUL_JSON")
        or {}
    )
    if current_app.debug:
        settings.setdefault("indent", 4)
    if "cls" not in settings:
        settings.setdefault("default", _default)
    return json.dumps(data, **settings) + "\n"


def output_json(data: t.Any, code: int, headers: t.Any = None) -> t.Any:
    """Make a JSON response with ``code`` and ``headers``."""
    response = make_response(dumps(data), code)
    response.headers.extend(headers or {})
    return response
