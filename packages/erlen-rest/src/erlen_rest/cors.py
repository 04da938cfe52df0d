"""``crossdomain``: add CORS headers to a view's responses."""

from __future__ import annotations

import collections.abc as cabc
import datetime as dt
import functools
import typing as t

from erlen import current_app
from erlen import make_response
from erlen import request

__all__ = ["crossdomain"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def crossdomain(
    origin: str | cabc.Iterable[str] | None = None,
    methods: cabc.Iterable[str] | None = None,
    headers: str | cabc.Iterable[str] | None = None,
    expose_headers: str | cabc.Iterable[str] | None = None,
    max_age: int | dt.timedelta = 21600,
    attach_to_all: bool = True,
    automatic_options: bool = True,
    credentials: bool = False,
) -> t.Callable[[F], F]:
    """Decorate a view to send ``Access-Control-*`` headers (prefer a dedicated CORS package)."""

    def join(value: str | cabc.Iterable[str] | None, upper: bool = True) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            items = [value]
        else:
            items = list(value)
        return ", ".join(v.upper() if upper else v for v in items)

    methods_value = join(sorted(x.upper() for x in methods)) if methods else None
    headers_value = join(headers)
    expose_value = join(expose_headers)
    origin_value = (
        origin if isinstance(origin, str) or origin is None else ", ".join(origin)
    )
    seconds = max_age.total_seconds() if isinstance(max_age, dt.timedelta) else max_age

    def decorator(f: F) -> F:
        @functools.wraps(f)
        def wrapped(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if automatic_options and request.method == "OPTIONS":
                resp = current_app.make_default_options_response()
            else:
                resp = make_response(f(*args, **kwargs))
            if not attach_to_all and request.method != "OPTIONS":
                return resp
            h = resp.headers
            if origin_value is not None:
                h["Access-Control-Allow-Origin"] = origin_value
            h["Access-Control-Allow-Methods"] = (
                methods_value
                or current_app.make_default_options_response().headers.get("Allow", "")
            )
            h["Access-Control-Max-Age"] = str(int(seconds))
            if credentials:
                h["Access-Control-Allow-Credentials"] = "true"
            if headers_value is not None:
                h["Access-Control-Allow-Headers"] = headers_value
            if expose_value is not None:
                h["Access-Control-Expose-Headers"] = expose_value
            return resp

        return t.cast(F, wrapped)

    return decorator
