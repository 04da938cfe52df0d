"""Partial responses: parse an ``X-Fields`` mask like ``name,owner{id,name},*`` and apply it.

A mask applied to data keeps only the listed keys; applied to a dict of
fields it returns a new dict of (possibly narrowed) fields, so marshalling
never reads an attribute the client did not ask for.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import re
import typing as t

from .errors import RestError

__all__ = ["Mask", "MaskError", "ParseError", "apply"]

_TOKEN = re.compile(r"\{|\}|,|[^{},\s]+")


class MaskError(RestError):
    """A mask cannot be applied to the given data."""


class ParseError(MaskError):
    """A mask string is malformed; the message says where."""


class Mask(dict[str, t.Any]):
    """A parsed mask: field name -> ``True`` or a nested :class:`Mask`.

    :param mask: a mask string, a mapping, or ``None`` for an empty mask.
    :param skip: leave out (instead of ``None``) keys the data lacks.
    """

    def __init__(
        self,
        mask: str | cabc.Mapping[str, t.Any] | None = None,
        skip: bool = False,
        **kwargs: t.Any,
    ) -> None:
        super().__init__()
        self.skip = skip
        if isinstance(mask, str):
            self.parse(mask)
        elif isinstance(mask, cabc.Mapping):
            self.update(mask)
        self.update(kwargs)

    def parse(self, mask: str) -> None:
        """Fill this mask from a string; raise :class:`ParseError` when malformed."""
        mask = mask.strip()
        if not mask or mask == "{}":
            return
        if mask.startswith("{"):
            if not mask.endswith("}"):
                raise ParseError("Missing closing bracket in the mask")
            mask = mask[1:-1]
        stack: list[Mask] = [self]
        previous: str | None = None  # the last key read at the current level
        last = ","  # last token kind: "," "{" "}" or "name"
        for token in _TOKEN.findall(mask):
            current = stack[-1]
            if token == "{":
                if last != "name" or previous is None:
                    raise ParseError("Unexpected opening bracket in the mask")
                child = Mask(skip=self.skip)
                current[previous] = child
                stack.append(child)
                previous = None
            elif token == "}":
                if len(stack) == 1 or last in {",", "{"}:
                    raise ParseError("Unexpected closing bracket in the mask")
                stack.pop()
                previous = None
            elif token == ",":
                if last in {",", "{"}:
                    raise ParseError("Unexpected comma in the mask")
                previous = None
            else:
                if last == "name" or last == "}":
                    raise ParseError(f"Missing comma before {token!r} in the mask")
                current[token] = True
                previous = token
            last = token if token in {"{", "}", ","} else "name"
        if len(stack) != 1:
            raise ParseError("Missing closing bracket in the mask")
        if last == ",":
            raise ParseError("Unexpected trailing comma in the mask")

    def clean(self, mask: str) -> str:
        """Strip the outer brackets from a mask string."""
        mask = mask.replace("\n", "").strip()
        if mask.startswith("{"):
            if not mask.endswith("}"):
                raise ParseError("Missing closing bracket in the mask")
            mask = mask[1:-1]
        return mask

    def apply(self, data: t.Any, skip: bool | None = None) -> t.Any:
        """Return ``data`` (dict, object, list, or a dict of fields) narrowed to this mask."""
        skip = self.skip if skip is None else skip
        if isinstance(data, (list, tuple, set)):
            return [self.apply(item, skip) for item in data]
        if data is None:
            return None
        if not (isinstance(data, cabc.Mapping) or hasattr(data, "__dict__")):
            raise MaskError(
                f"Mask is inconsistent with data of type {type(data).__name__}"
            )
        is_fields = isinstance(data, cabc.Mapping) and _looks_like_fields(data)
        out: dict[str, t.Any] = {}
        if self.get("*", False) is True:
            keys: cabc.Iterable[str] = (
                data.keys() if isinstance(data, cabc.Mapping) else vars(data).keys()
            )
            for key in keys:
                if key not in self:
                    out[key] = _get(data, key)
        for key, sub in self.items():
            if key == "*":
                continue
            if not _has(data, key):
                if is_fields or skip:
                    continue
                out[key] = None
                continue
            value = _get(data, key)
            if not isinstance(sub, Mask):
                out[key] = value
            elif is_fields:
                out[key] = _mask_field(value, sub)
            else:
                out[key] = sub.apply(value, skip) if value is not None else None
        return out

    def filter_data(self, data: t.Any) -> t.Any:
        """Alias of :meth:`apply` with the mask's own ``skip``."""
        return self.apply(data)

    def __str__(self) -> str:
        parts = []
        for key, value in self.items():
            parts.append(f"{key}{value}" if isinstance(value, Mask) else key)
        return "{" + ",".join(parts) + "}"


def _mask_field(field: t.Any, mask: Mask) -> t.Any:
    """Narrow one field with a nested mask; only object-like fields accept one."""
    from . import fields

    if isinstance(field, type) and issubclass(field, fields.Raw):
        field = field()
    if isinstance(field, cabc.Mapping) and not isinstance(field, fields.Raw):
        return mask.apply(field)
    if isinstance(field, (fields.Nested, fields.Polymorph)):
        return field.clone(mask)
    if isinstance(field, fields.List):
        container = field.container
        if (
            isinstance(container, (fields.Nested, fields.Polymorph))
            or type(container) is fields.Raw
        ):
            return field.clone(mask)
        raise MaskError(
            f"Cannot apply a nested mask to a list of {type(container).__name__}"
        )
    if type(field) is fields.Raw:
        other = copy.copy(field)
        other.mask = mask
        return other
    raise MaskError(f"Cannot apply a nested mask to a {type(field).__name__} field")


def _looks_like_fields(data: cabc.Mapping[str, t.Any]) -> bool:
    from . import fields

    return bool(data) and all(
        isinstance(v, fields.Raw) or (isinstance(v, type) and issubclass(v, fields.Raw))
        for v in data.values()
    )


def _has(data: t.Any, key: str) -> bool:
    if isinstance(data, cabc.Mapping):
        return key in data
    return hasattr(data, key)


def _get(data: t.Any, key: str) -> t.Any:
    if isinstance(data, cabc.Mapping):
        return data[key]
    return getattr(data, key)


def apply(data: t.Any, mask: str | Mask, skip: bool = False) -> t.Any:
    """Apply a mask (string or :class:`Mask`) to ``data``."""
    return Mask(mask, skip=skip).apply(data)
