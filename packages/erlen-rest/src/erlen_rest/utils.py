"""Small helpers shared by the REST modules, with the names Flask-RESTX exposes."""

from __future__ import annotations

import collections.abc as cabc
import re
import typing as t
from http import HTTPStatus

from werkzeug.wrappers import Response as _WerkzeugResponse

__all__ = [
    "camel_to_dash",
    "default_id",
    "import_check_view_func",
    "import_werkzeug_response",
    "merge",
    "not_none",
    "not_none_sorted",
    "to_view_name",
    "unpack",
]

_FIRST_CAP = re.compile(r"(.)([A-Z][a-z]+)")
_ALL_CAP = re.compile(r"([a-z0-9])([A-Z])")


def merge(first: t.Any, second: t.Any) -> t.Any:
    """Deep-merge two dicts into a new one; ``second`` wins on conflicts."""
    if not isinstance(second, dict):
        return second
    result = dict(first) if isinstance(first, dict) else {}
    for key, value in second.items():
        if key in result and isinstance(result[key], dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = merge({}, value) if isinstance(value, dict) else value
    return result


def camel_to_dash(value: str) -> str:
    """Turn ``CamelCase`` into ``camel_case`` (used for default endpoint names)."""
    first = _FIRST_CAP.sub(r"\1_\2", value)
    return _ALL_CAP.sub(r"\1_\2", first).lower()


def default_id(resource: str, method: str) -> str:
    """The default operation id: ``get_todo_list`` for ``TodoList.get``."""
    return f"{method.lower()}_{camel_to_dash(resource)}"


def not_none(data: cabc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Return a copy of ``data`` without its ``None`` values."""
    return {k: v for k, v in data.items() if v is not None}


def not_none_sorted(data: cabc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """Like :func:`not_none`, with keys sorted."""
    return {k: v for k, v in sorted(data.items()) if v is not None}


def unpack(
    response: t.Any, default_code: int = HTTPStatus.OK
) -> tuple[t.Any, int, t.Any]:
    """Split a view's return value into ``(data, code, headers)``."""
    if not isinstance(response, tuple):
        return response, default_code, {}
    if len(response) == 1:
        return response[0], default_code, {}
    if len(response) == 2:
        data, code = response
        return data, code if code is not None else default_code, {}
    if len(response) == 3:
        data, code, headers = response
        return data, code if code is not None else default_code, headers or {}
    raise ValueError(
        "Too many response values: return data, status and headers at most"
    )


def to_view_name(view_func: t.Callable[..., t.Any]) -> str:
    """Return the endpoint name a view function gets by default."""
    assert view_func is not None, "expected a view function"
    return view_func.__name__


def import_werkzeug_response() -> type[_WerkzeugResponse]:
    """Return Werkzeug's base response class (Flask-RESTX API)."""
    return _WerkzeugResponse


def import_check_view_func() -> t.Callable[..., t.Any]:
    """Return a callable that checks a view function (no-op, Flask-RESTX API)."""

    def check(*args: t.Any, **kwargs: t.Any) -> None:
        return None

    return check


from . import cors as cors  # noqa: E402  (Flask-RESTful's ``utils.cors.crossdomain``)
