"""JSON providers: how an app turns Python values into JSON text and responses.

``app.json`` holds one provider instance. Replace it (``app.json_provider_class``
or ``app.json = MyProvider(app)``) to use another JSON library everywhere the
app writes or reads JSON: :func:`~erlen.json.jsonify`, dict and list view
returns, ``request.get_json()`` and the ``|tojson`` template filter.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import math
import typing as t
import uuid
import weakref

from werkzeug.http import http_date

if t.TYPE_CHECKING:  # pragma: no cover
    from ..app import Erlen
    from ..wrappers import Response


class JSONProvider:
    """The interface every JSON provider implements; subclass it for another library.

    A subclass must implement :meth:`dumps` and :meth:`loads`; :meth:`dump`,
    :meth:`load` and :meth:`response` are built on them.

    :param app: the app this provider serves. It is held through a weak proxy,
        so the provider never keeps the app alive.
    """

    def __init__(self, app: Erlen) -> None:
        self._app: Erlen = weakref.proxy(app)  # type: ignore[assignment]

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        """Serialize ``obj`` as JSON and write it to the text file ``fp``."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse JSON text (``str`` or UTF-8 ``bytes``) into Python values."""
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        """Read the whole file ``fp`` and parse it as JSON."""
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(
        self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
    ) -> t.Any:
        """Pick the value to serialize from :meth:`response`'s arguments.

        No arguments gives ``None``, one positional argument is used as is,
        several become a list, and keyword arguments become an object.
        """
        if args:
            if kwargs:
                raise TypeError(
                    "app.json.response() takes either args or kwargs, not both."
                    " Pass one dict or list, or keyword arguments."
                )
            return args[0] if len(args) == 1 else args
        return kwargs or None

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Return a response whose body is the arguments serialized as JSON.

        Takes either positional or keyword arguments, not both (see
        :meth:`_prepare_response_obj`). The mimetype is ``application/json``.
        """
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


def _default(o: t.Any) -> t.Any:
    """Convert values the stdlib encoder does not know; used as its ``default`` hook.

    Dates become HTTP dates, ``Decimal`` and ``UUID`` become strings, dataclass
    instances become dicts and objects with ``__html__`` become their HTML.
    """
    if isinstance(o, datetime.date):
        return http_date(o)
    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    html = getattr(o, "__html__", None)
    if html is not None:
        return str(html())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


#: The attributes the prebuilt encoders of :class:`DefaultJSONProvider` depend on.
_ENCODER_ATTRS = frozenset(("default", "ensure_ascii", "sort_keys", "allow_nan"))


def _reject_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:32]} is out of range")
    return value


_STRICT_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float
)


class DefaultJSONProvider(JSONProvider):
    """The provider every app starts with: the stdlib :mod:`json` plus extra types.

    Beyond what :mod:`json` handles it serializes dates and datetimes (as HTTP
    dates), ``Decimal``, ``UUID``, dataclass instances and objects with an
    ``__html__`` method (see :meth:`default`).

    Configure it by setting attributes on ``app.json`` (``app.json.sort_keys =
    False``) or in a subclass. Encoders are built once and reused; setting one
    of these attributes on the instance rebuilds them.
    """

    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)
    """Called for values the stdlib cannot serialize; returns a serializable value
    or raises ``TypeError``."""

    ensure_ascii = True
    """Escape every non-ASCII character, so the output is plain ASCII."""

    sort_keys = True
    """Sort object keys. Keys must then all be of comparable types."""

    compact: bool | None = None
    """Whether :meth:`response` writes compact JSON. ``None`` means compact unless
    the app is in debug mode, where the output is indented by 2 spaces."""

    mimetype = "application/json"
    """The mimetype of :meth:`response`'s responses."""

    allow_nan = False
    """Whether ``NaN`` and ``Infinity`` are read and written. They are not
    valid JSON, so by default :meth:`loads` rejects them with ``ValueError``
    (a 400 for ``request.json``) and :meth:`dumps` raises ``ValueError``
    instead of writing them. Set it to ``True`` for the stdlib's behaviour."""

    def __setattr__(self, name: str, value: t.Any) -> None:
        super().__setattr__(name, value)
        if name in _ENCODER_ATTRS:
            self.__dict__.pop("_encoders", None)

    def _encoder(self, style: str) -> json.JSONEncoder:
        """Return the cached encoder for ``style``: "plain", "compact" or "pretty"."""
        encoders: dict[str, json.JSONEncoder] | None = self.__dict__.get("_encoders")
        if encoders is None:
            encoders = self.__dict__["_encoders"] = {}
        encoder = encoders.get(style)
        if encoder is None:
            options: dict[str, t.Any] = {
                "default": self.default,
                "ensure_ascii": self.ensure_ascii,
                "sort_keys": self.sort_keys,
                "allow_nan": self.allow_nan,
            }
            if style == "compact":
                options["separators"] = (",", ":")
            elif style == "pretty":
                options["indent"] = 2
            encoder = encoders[style] = json.JSONEncoder(**options)
        return encoder

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        """Serialize ``obj`` to a JSON string with this provider's settings.

        Keyword arguments are passed to :func:`json.dumps` and take precedence
        over the provider's ``default``, ``ensure_ascii`` and ``sort_keys``.
        """
        if not kwargs:
            return self._encoder("plain").encode(obj)
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs.setdefault("allow_nan", self.allow_nan)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        """Parse JSON text with :func:`json.loads`, passing keyword arguments on.

        ``NaN``, ``Infinity`` and numbers too large for a float (``1e999``)
        raise ``ValueError`` unless :attr:`allow_nan`.
        """
        if self.allow_nan:
            return json.loads(s, **kwargs)
        if kwargs:
            kwargs.setdefault("parse_constant", _reject_constant)
            kwargs.setdefault("parse_float", _finite_float)
            return json.loads(s, **kwargs)
        if isinstance(s, (bytes, bytearray)):
            s = s.decode(json.detect_encoding(s), "surrogatepass")
        elif s.startswith("\ufeff"):
            return json.loads(s)  # the stdlib's error for a BOM
        return _STRICT_DECODER.decode(s)

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        """Return a response with the arguments serialized as JSON, plus a newline.

        Output is compact, or indented when :attr:`compact` is ``None`` and the
        app is in debug mode, or when :attr:`compact` is ``False``.
        """
        obj = self._prepare_response_obj(args, kwargs)
        compact = self.compact
        pretty = compact is False or (compact is None and self._app.debug)
        if type(self).dumps is DefaultJSONProvider.dumps:
            body = self._encoder("pretty" if pretty else "compact").encode(obj)
        elif pretty:
            body = self.dumps(obj, indent=2)
        else:
            body = self.dumps(obj, separators=(",", ":"))
        return self._app.response_class(f"{body}\n", mimetype=self.mimetype)
