"""Output fields: how one attribute of an object is formatted, and its JSON Schema.

A dict of fields (or a :class:`~erlen_rest.model.Model`) describes a
response; :func:`~erlen_rest.marshalling.marshal` walks it. Each field's
``__schema__`` is the JSON Schema fragment the API document uses.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import datetime as dt
import decimal
import email.utils
import fnmatch
import re
import typing as t
from urllib.parse import urlparse
from urllib.parse import urlunparse

from erlen import request
from erlen import url_for
from erlen.ext import get_app

from .errors import RestError
from .utils import camel_to_dash
from .utils import not_none

__all__ = [
    "Arbitrary",
    "Boolean",
    "ClassName",
    "Date",
    "DateTime",
    "Fixed",
    "Float",
    "FormattedString",
    "Integer",
    "List",
    "MarshallingError",
    "MinMaxMixin",
    "Nested",
    "NumberMixin",
    "Polymorph",
    "Price",
    "Raw",
    "String",
    "StringMixin",
    "Url",
    "Wildcard",
    "get_value",
    "to_marshallable_type",
]

#: Where the ``$ref`` of a nested model points in ``__schema__`` (Flask-RESTX's layout).
REF_PREFIX = "#/definitions/"


class MarshallingError(RestError):
    """A value could not be formatted by its field."""

    def __init__(self, underlying_exception: BaseException | str) -> None:
        self.underlying_exception = underlying_exception
        super().__init__(str(underlying_exception))


def is_indexable_but_not_string(obj: object) -> bool:
    """Tell whether ``obj`` supports ``obj[key]`` and is not a string."""
    return not isinstance(obj, (str, bytes)) and hasattr(obj, "__getitem__")


def is_integer_indexable(obj: object) -> bool:
    """Tell whether ``obj`` is a list or tuple (indexed by position)."""
    return isinstance(obj, (list, tuple))


def get_value(key: t.Any, obj: t.Any, default: t.Any = None) -> t.Any:
    """Read ``key`` from ``obj``: a callable, a dotted path, an index, a key or an attribute."""
    if isinstance(key, int):
        return _get_one(key, obj, default)
    if callable(key):
        return key(obj)
    if key is None:
        return default
    current = obj
    for part in str(key).split("."):
        current = _get_one(part, current, None)
        if current is None:
            return default
    return current


def _get_one(key: t.Any, obj: t.Any, default: t.Any) -> t.Any:
    if obj is None:
        return default
    if is_integer_indexable(obj):
        try:
            return obj[int(key)]
        except (ValueError, IndexError, TypeError):
            return default
    if is_indexable_but_not_string(obj):
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
    return getattr(obj, str(key), default)


def to_marshallable_type(obj: t.Any) -> t.Any:
    """Return something ``obj[key]`` works on: the object itself, or its ``__dict__``."""
    if obj is None:
        return None
    if hasattr(obj, "__marshallable__"):
        return obj.__marshallable__()
    if hasattr(obj, "__getitem__"):
        return obj
    return dict(obj.__dict__)


def _call(value: t.Any) -> t.Any:
    return value() if callable(value) else value


def get_field(field: t.Any) -> Raw:
    """Instantiate a field class, or return a field instance unchanged."""
    if isinstance(field, type) and issubclass(field, Raw):
        return field()
    if isinstance(field, Raw):
        return field
    raise MarshallingError(f"{field!r} is not a field class or instance")


class Raw:
    """A field that outputs the value as is; base of every field.

    :param default: value (or callable) used when the attribute is missing.
    :param attribute: name, dotted path or callable to read instead of the key.
    :param mask: a :class:`~erlen_rest.mask.Mask` applied to the output.
    """

    __schema_type__: t.ClassVar[str | None] = "object"
    __schema_format__: t.ClassVar[str | None] = None
    __schema_example__: t.ClassVar[t.Any] = None

    def __init__(
        self,
        default: t.Any = None,
        attribute: t.Any = None,
        title: str | None = None,
        description: str | None = None,
        required: bool | None = None,
        readonly: bool | None = None,
        example: t.Any = None,
        mask: t.Any = None,
        **kwargs: t.Any,
    ) -> None:
        self.attribute = attribute
        self.default = default
        self.title = title
        self.description = description
        self.required = bool(required)
        self.readonly = readonly
        self.example = example if example is not None else self.__schema_example__
        self.mask = mask
        self.nullable = kwargs.pop("nullable", None)
        self.extra = kwargs

    def format(self, value: t.Any) -> t.Any:
        """Turn a present, non-``None`` value into its output form."""
        return value

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        """Read ``key`` (or :attr:`attribute`) from ``obj`` and format it."""
        value = get_value(key if self.attribute is None else self.attribute, obj)
        return self.output_value(value, ordered=ordered)

    def output_value(self, value: t.Any, ordered: bool = False) -> t.Any:
        """Format an already read value, falling back to the default."""
        if value is None:
            default = _call(self.default)
            if default is None:
                return None
            value = default
        try:
            result = self.format(value)
        except MarshallingError:
            raise
        except Exception as exc:
            raise MarshallingError(exc) from exc
        if self.mask is not None and result is not None:
            from .mask import apply

            result = apply(result, self.mask, skip=True)
        return result

    def output_item(self, item: t.Any, ordered: bool = False) -> t.Any:
        """Format one element of a list (used by :class:`List`)."""
        if self.attribute is not None:
            return self.output(None, item, ordered=ordered)
        return self.output_value(item, ordered=ordered)

    def schema(self) -> dict[str, t.Any]:
        """Return this field's JSON Schema fragment."""
        return not_none(
            {
                "type": self.__schema_type__,
                "format": self.__schema_format__,
                "title": self.title,
                "description": self.description,
                "readOnly": self.readonly,
                "default": self._schema_default(),
                "example": self.example,
                **{k: v for k, v in self.extra.items() if k.startswith("x-")},
            }
        )

    def _schema_default(self) -> t.Any:
        return _call(self.default)

    @property
    def __schema__(self) -> dict[str, t.Any]:
        return not_none(self.schema())

    def clone(self, mask: t.Any = None) -> Raw:
        """Return a copy, optionally with a mask."""
        other = copy.copy(self)
        if mask is not None:
            other.mask = mask
        return other

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class NumberMixin:
    """``minimum``, ``maximum``, exclusivity and ``multipleOf`` for number-like fields."""

    def _minmax(self, kwargs: dict[str, t.Any]) -> None:
        self.minimum = kwargs.pop("min", None)
        self.exclusiveMinimum = kwargs.pop("exclusiveMin", None)
        self.maximum = kwargs.pop("max", None)
        self.exclusiveMaximum = kwargs.pop("exclusiveMax", None)
        self.multiple = kwargs.pop("multiple", None)

    def _minmax_schema(
        self, convert: t.Callable[[t.Any], t.Any] = lambda v: v
    ) -> dict[str, t.Any]:
        minimum = _call(self.minimum)
        maximum = _call(self.maximum)
        return {
            "minimum": convert(minimum) if minimum is not None else None,
            "exclusiveMinimum": self.exclusiveMinimum or None,
            "maximum": convert(maximum) if maximum is not None else None,
            "exclusiveMaximum": self.exclusiveMaximum or None,
            "multipleOf": _call(self.multiple),
        }


MinMaxMixin = NumberMixin


class StringMixin:
    """``minLength``, ``maxLength`` and ``pattern`` for string fields."""

    def _strings(self, kwargs: dict[str, t.Any]) -> None:
        self.min_length = kwargs.pop("min_length", None)
        self.max_length = kwargs.pop("max_length", None)
        self.pattern = kwargs.pop("pattern", None)

    def _strings_schema(self) -> dict[str, t.Any]:
        return {
            "minLength": _call(self.min_length),
            "maxLength": _call(self.max_length),
            "pattern": self.pattern,
        }


class String(StringMixin, Raw):
    """A string; ``enum`` lists allowed values, ``discriminator`` outputs the model name."""

    __schema_type__ = "string"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self.enum = kwargs.pop("enum", None)
        self.discriminator = kwargs.pop("discriminator", None)
        self._strings(kwargs)
        super().__init__(*args, **kwargs)
        self.required = bool(self.discriminator or self.required)

    def format(self, value: t.Any) -> t.Any:
        return str(value)

    def schema(self) -> dict[str, t.Any]:
        enum = _call(self.enum)
        schema = super().schema()
        schema.update(self._strings_schema())
        if enum:
            schema["enum"] = list(enum)
            if "example" not in schema or schema["example"] is None:
                schema["example"] = list(enum)[0]
        return schema


class Integer(NumberMixin, Raw):
    """An integer (``int(value)``)."""

    __schema_type__ = "integer"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._minmax(kwargs)
        super().__init__(*args, **kwargs)

    def format(self, value: t.Any) -> t.Any:
        return int(value)

    def schema(self) -> dict[str, t.Any]:
        schema = super().schema()
        schema.update(self._minmax_schema())
        return schema


class Float(NumberMixin, Raw):
    """A float (``float(value)``)."""

    __schema_type__ = "number"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._minmax(kwargs)
        super().__init__(*args, **kwargs)

    def format(self, value: t.Any) -> t.Any:
        if value is None:
            value = _call(self.default)
            if value is None:
                return None
        return float(value)

    def schema(self) -> dict[str, t.Any]:
        schema = super().schema()
        schema.update(self._minmax_schema())
        return schema


class Arbitrary(Float):
    """An arbitrary-precision number, output as a string (``Decimal``)."""

    def format(self, value: t.Any) -> t.Any:
        return str(decimal.Decimal(value))


class Fixed(Float):
    """A number with a fixed count of decimals, output as a string."""

    def __init__(self, decimals: int = 5, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.precision = decimal.Decimal(10) ** -decimals

    def format(self, value: t.Any) -> t.Any:
        number = decimal.Decimal(str(value) if isinstance(value, float) else value)
        if not number.is_finite():
            raise MarshallingError(
                "Cannot format a non-finite number as a fixed decimal"
            )
        return str(number.quantize(self.precision, rounding=decimal.ROUND_HALF_EVEN))


Price = Fixed


class Boolean(Raw):
    """A boolean; the strings ``"false"``, ``"0"``, ``"off"`` and ``"no"`` are false."""

    __schema_type__ = "boolean"

    def format(self, value: t.Any) -> t.Any:
        if isinstance(value, str):
            return value.strip().lower() not in {
                "",
                "false",
                "0",
                "off",
                "no",
                "n",
                "f",
            }
        return bool(value)


def _parse_datetime(value: t.Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    raise MarshallingError(f"Unable to parse {value!r} as a date-time")


class DateTime(NumberMixin, Raw):
    """A date-time, output in ISO 8601 (default) or RFC 822 format."""

    __schema_type__ = "string"
    __schema_format__ = "date-time"

    def __init__(self, dt_format: str = "iso8601", **kwargs: t.Any) -> None:
        self._minmax(kwargs)
        super().__init__(**kwargs)
        self.dt_format = dt_format

    def parse(self, value: t.Any) -> t.Any:
        """Turn a string, date or date-time into a date-time (``None`` stays ``None``)."""
        if value is None:
            return None
        return _parse_datetime(value)

    def format(self, value: t.Any) -> t.Any:
        value = self.parse(value)
        if self.dt_format == "iso8601":
            return self.format_iso8601(value)
        if self.dt_format == "rfc822":
            return self.format_rfc822(value)
        raise MarshallingError(f"Unsupported date format {self.dt_format!r}")

    def format_iso8601(self, value: dt.datetime) -> str:
        """Format as ISO 8601."""
        return value.isoformat()

    def format_rfc822(self, value: dt.datetime) -> str:
        """Format as RFC 822, in UTC."""
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.strftime("%a, %d %b %Y %H:%M:%S -0000")

    def _iso(self, value: t.Any) -> t.Any:
        return self.format_iso8601(self.parse(value)) if value is not None else None

    def _schema_default(self) -> t.Any:
        return self._iso(_call(self.default))

    def schema(self) -> dict[str, t.Any]:
        schema = super().schema()
        schema.update(self._minmax_schema(self._iso))
        return schema


class Date(DateTime):
    """A date, output in ISO 8601 (``2024-01-31``)."""

    __schema_format__ = "date"

    def __init__(self, **kwargs: t.Any) -> None:
        kwargs.pop("dt_format", None)
        super().__init__(dt_format="iso8601", **kwargs)

    def parse(self, value: t.Any) -> t.Any:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return _parse_datetime(value).date()

    def format_iso8601(self, value: t.Any) -> str:
        return t.cast(str, value.isoformat())


class FormattedString(StringMixin, Raw):
    """A string built with :meth:`str.format` from the object's attributes."""

    __schema_type__ = "string"

    def __init__(self, src_str: str, **kwargs: t.Any) -> None:
        self._strings(kwargs)
        super().__init__(**kwargs)
        self.src_str = str(src_str)

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        try:
            data = to_marshallable_type(obj)
            return self.src_str.format(**data)
        except Exception as exc:
            raise MarshallingError(exc) from exc

    def schema(self) -> dict[str, t.Any]:
        schema = super().schema()
        schema.update(self._strings_schema())
        return schema


class Url(StringMixin, Raw):
    """The URL of an endpoint, built from the object's attributes.

    :param endpoint: the endpoint; the current request's when omitted.
    :param absolute: build an absolute URL.
    :param scheme: force this scheme (implies an absolute URL makes sense).
    """

    __schema_type__ = "string"

    def __init__(
        self,
        endpoint: str | None = None,
        absolute: bool = False,
        scheme: str | None = None,
        **kwargs: t.Any,
    ) -> None:
        self._strings(kwargs)
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.absolute = absolute
        self.scheme = scheme

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        try:
            data = to_marshallable_type(obj)
            endpoint = self.endpoint if self.endpoint is not None else request.endpoint
            assert endpoint is not None, "no endpoint to build a URL for"
            arguments: set[str] = set()
            for rule in get_app().url_map.iter_rules(endpoint):
                arguments |= set(rule.arguments)
            values = {name: data[name] for name in arguments if name in data}
            url = url_for(endpoint, _external=self.absolute, **values)
        except Exception as exc:
            raise MarshallingError(exc) from exc
        if self.absolute and self.scheme:
            return urlunparse(urlparse(url)._replace(scheme=self.scheme))
        return url

    def schema(self) -> dict[str, t.Any]:
        schema = super().schema()
        schema.update(self._strings_schema())
        return schema


class Nested(Raw):
    """A nested model (or dict of fields), marshalled recursively.

    :param allow_null: output ``None`` for a missing value instead of a dict of ``None``.
    :param skip_none: leave out ``None`` values of the nested object.
    :param as_list: the value is a list of such objects.
    """

    __schema_type__ = None

    def __init__(
        self,
        model: t.Any,
        allow_null: bool = False,
        skip_none: bool = False,
        as_list: bool = False,
        **kwargs: t.Any,
    ) -> None:
        self.model = model
        self.as_list = as_list
        self.allow_null = allow_null
        self.skip_none = skip_none
        super().__init__(**kwargs)

    @property
    def nested(self) -> t.Any:
        """The nested model or dict of fields (a callable is resolved lazily)."""
        model = self.model
        if callable(model) and not isinstance(model, (dict, type)):
            return model()
        return model

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        value = get_value(key if self.attribute is None else self.attribute, obj)
        return self.output_item(value, ordered=ordered)

    def output_value(self, value: t.Any, ordered: bool = False) -> t.Any:
        return self.output_item(value, ordered=ordered)

    def output_item(self, item: t.Any, ordered: bool = False) -> t.Any:
        from .marshalling import marshal

        if item is None:
            if self.allow_null:
                return None
            default = _call(self.default)
            if default is not None:
                return default
        return marshal(item, self.nested, skip_none=self.skip_none, ordered=ordered)

    def _ref(self) -> dict[str, t.Any]:
        nested = self.nested
        name = getattr(nested, "name", None)
        if name is None:
            from .model import Model

            return Model("", nested).schema_body()
        return {"$ref": f"{REF_PREFIX}{name}"}

    def schema(self) -> dict[str, t.Any]:
        ref = self._ref()
        if self.as_list:
            return {"type": "array", "items": ref}
        if self.nullable:
            return {"anyOf": [ref, {"type": "null"}]}
        extras = not_none(
            {
                "title": self.title,
                "description": self.description,
                "readOnly": self.readonly,
            }
        )
        if extras:
            return {**extras, "allOf": [ref]}
        return ref

    def clone(self, mask: t.Any = None) -> Raw:
        other = copy.copy(self)
        if mask is not None:
            from .mask import Mask

            nested = self.nested
            masked = Mask(mask, skip=True).apply(getattr(nested, "resolved", nested))
            other.model = masked
        return other


class List(Raw):
    """A list of values formatted by one field (the container)."""

    __schema_type__ = "array"

    def __init__(self, cls_or_instance: t.Any, **kwargs: t.Any) -> None:
        self.min_items = kwargs.pop("min_items", None)
        self.max_items = kwargs.pop("max_items", None)
        self.unique = kwargs.pop("unique", None)
        super().__init__(**kwargs)
        self.container = get_field(cls_or_instance)

    def format(self, value: t.Any) -> t.Any:
        if isinstance(value, (set, frozenset)):
            value = list(value)
        if (
            isinstance(value, cabc.Mapping)
            or not isinstance(value, cabc.Iterable)
            or isinstance(value, (str, bytes))
        ):
            value = [value]
        return [self.container.output_item(item) for item in value]

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        value = get_value(key if self.attribute is None else self.attribute, obj)
        if value is None:
            default = _call(self.default)
            return self.format(default) if default is not None else None
        try:
            return self.format(value)
        except MarshallingError:
            raise
        except Exception as exc:
            raise MarshallingError(exc) from exc

    def schema(self) -> dict[str, t.Any]:
        schema = super().schema()
        schema.update(
            minItems=_call(self.min_items),
            maxItems=_call(self.max_items),
            uniqueItems=self.unique,
            items=self.container.__schema__,
        )
        schema.pop("default", None) if schema.get("default") is None else None
        return schema

    def clone(self, mask: t.Any = None) -> Raw:
        other = copy.copy(self)
        if mask is not None:
            other.container = self.container.clone(mask)
        return other


class Wildcard(List):
    """Every key of the object matching a pattern (``"*"``, ``"a*"``), formatted by one field."""

    __schema_type__ = "object"

    def wildcard_items(
        self,
        pattern: str,
        obj: t.Any,
        exclude: cabc.Container[str],
        skip_none: bool = False,
    ) -> list[tuple[str, t.Any]]:
        """Return ``(key, value)`` pairs of ``obj`` whose key matches ``pattern``."""
        if obj is None:
            keys: list[str] = []
            source: t.Any = {}
        elif isinstance(obj, cabc.Mapping):
            keys, source = list(obj.keys()), obj
        else:
            keys = [
                k
                for k in dir(obj)
                if not k.startswith("_") and not callable(getattr(obj, k, None))
            ]
            source = {k: getattr(obj, k) for k in keys}
        regex = re.compile(fnmatch.translate(pattern), re.IGNORECASE)
        items: list[tuple[str, t.Any]] = []
        for key in keys:
            if key in exclude or not regex.match(str(key)):
                continue
            value = self.container.output_item(source[key])
            if value is None and skip_none:
                continue
            items.append((key, value))
        if not items:
            default = _call(self.default)
            if default is not None:
                items.append((pattern, self.container.format(default)))
        return items

    def schema(self) -> dict[str, t.Any]:
        schema = Raw.schema(self)
        schema["additionalProperties"] = self.container.__schema__
        return schema


class Polymorph(Nested):
    """A nested object whose model depends on its class: ``{Class: model}``."""

    def __init__(
        self,
        mapping: cabc.Mapping[type, t.Any],
        required: bool = False,
        **kwargs: t.Any,
    ) -> None:
        self.mapping = dict(mapping)
        parent = self.resolve_ancestor(list(self.mapping.values()))
        super().__init__(parent, allow_null=not required, **kwargs)
        self.required = required

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        value = get_value(key if self.attribute is None else self.attribute, obj)
        if value is None:
            default = _call(self.default)
            if self.required and default is not None:
                return default
            return None if default is None else default
        return self.output_item(value, ordered=ordered)

    def output_item(self, item: t.Any, ordered: bool = False) -> t.Any:
        from .marshalling import marshal

        if item is None:
            return None
        exact = [model for cls, model in self.mapping.items() if type(item) is cls]
        candidates = exact or [
            m for cls, m in self.mapping.items() if isinstance(item, cls)
        ]
        if len(candidates) != 1:
            raise ValueError(
                f"Unable to choose a model for an object of type {type(item).__name__}"
            )
        return marshal(item, candidates[0], ordered=ordered)

    def resolve_ancestor(self, models: list[t.Any]) -> t.Any:
        """Return the one model every mapped model inherits from; a ``ValueError`` when none."""
        candidates = [set(m.ancestors) | {m.name} for m in models]
        common = set.intersection(*candidates) if candidates else set()
        parents = [p for m in models for p in m.__parents__ if p.name in common]
        if not common or not parents:
            raise ValueError("Polymorph models must share a common parent model")
        return parents[0]

    def clone(self, mask: t.Any = None) -> Raw:
        other = copy.copy(self)
        if mask is not None:
            from .mask import Mask

            other.mapping = {
                cls: Mask(mask, skip=True).apply(getattr(m, "resolved", m))
                for cls, m in self.mapping.items()
            }
        return other


class ClassName(String):
    """The class name of the object (``dict`` becomes ``"object"``)."""

    def __init__(self, dash: bool = False, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.dash = dash

    def output(
        self, key: t.Any, obj: t.Any, ordered: bool = False, **kwargs: t.Any
    ) -> t.Any:
        name = type(obj).__name__
        if name == "dict":
            return "object"
        return camel_to_dash(name) if self.dash else name
