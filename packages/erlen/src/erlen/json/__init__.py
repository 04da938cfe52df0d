"""JSON helpers that follow the current app's JSON provider.

Inside an app context each function delegates to ``current_app.json`` (see
:mod:`erlen.json.provider`), so an app's settings and custom provider apply.
Outside one they use the stdlib :mod:`json` with the default provider's extra
types (dates, ``Decimal``, ``UUID``, dataclasses, ``__html__``).
"""

from __future__ import annotations

import json as _json
import typing as t

from ..globals import _cv_app
from .provider import _default

if t.TYPE_CHECKING:  # pragma: no cover
    from ..wrappers import Response

__all__ = ["dump", "dumps", "jsonify", "load", "loads"]


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    """Serialize ``obj`` to a JSON string.

    :param kwargs: passed to the provider's (or :func:`json.dumps`') ``dumps``.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    """Serialize ``obj`` as JSON and write it to the text file ``fp``."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.json.dump(obj, fp, **kwargs)
        return
    kwargs.setdefault("default", _default)
    _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    """Parse JSON text (``str`` or UTF-8 ``bytes``) into Python values."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    """Read the whole file ``fp`` and parse it as JSON."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.load(fp, **kwargs)
    return _json.load(fp, **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """Return a JSON response (``application/json``) built from the arguments.

    One positional argument is serialized as is, several become a list, keyword
    arguments become an object; mixing both raises ``TypeError``. With no
    arguments the body is ``null``. Needs an active app context: it calls
    ``current_app.json.response()``.
    """
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "jsonify() needs the current application to build a response. Call it"
            " inside a view or in 'with app.app_context():'."
        )
    return ctx.app.json.response(*args, **kwargs)
