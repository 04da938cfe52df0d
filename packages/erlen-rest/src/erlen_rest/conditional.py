"""ETags and conditional requests, declared per resource method.

``@etag()`` computes a strong ETag from the JSON of a ``GET``'s response and
answers ``If-None-Match`` with 304. ``@etag(current)`` also checks
``If-Match`` on unsafe methods against ``current(**view_args)`` before the
handler runs: a stale ETag is a 412, so a client cannot overwrite a change
it has not seen.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import typing as t

from werkzeug.wrappers import Response as _BaseResponse

from erlen import make_response
from erlen import request

from .errors import abort
from .utils import unpack

__all__ = ["compute_etag", "etag"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def compute_etag(data: t.Any) -> str:
    """Return a strong ETag (a hash) for JSON-able data."""
    payload = json.dumps(
        data, sort_keys=True, default=str, separators=(",", ":")
    ).encode()
    return hashlib.sha256(payload).hexdigest()[:32]


def etag(current: t.Callable[..., str | None] | None = None) -> t.Callable[[F], F]:
    """Add ETag support to a resource method or typed endpoint function (sync or async)."""

    def precondition() -> None:
        if request.method not in {"GET", "HEAD"} and current is not None:
            expected = request.if_match
            if expected:
                value = current(**(request.view_args or {}))
                if (
                    value is None
                    or not expected.contains(value)
                    and not expected.star_tag
                ):
                    abort(
                        412,
                        "The resource changed since you last read it (If-Match did not match).",
                    )

    def finish(result: t.Any) -> t.Any:
        if isinstance(result, _BaseResponse):
            return result
        data, code, headers = unpack(result)
        if request.method in {"GET", "HEAD"} and 200 <= code < 300:
            value = (
                current(**(request.view_args or {})) if current is not None else None
            )
            value = value or compute_etag(data)
            if request.if_none_match.contains(value):
                response = make_response("", 304)
                response.set_etag(value)
                return response
            headers = dict(headers or {})
            headers["ETag"] = f'"{value}"'
        return data, code, headers

    def decorator(func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
                precondition()
                return finish(await func(*args, **kwargs))

            return t.cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            precondition()
            return finish(func(*args, **kwargs))

        return t.cast(F, wrapper)

    return decorator
