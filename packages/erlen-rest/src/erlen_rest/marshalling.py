"""Marshalling: turn objects into JSON-ready dicts with a dict of fields or a model."""

from __future__ import annotations

import collections.abc as cabc
import functools
import typing as t
from collections import OrderedDict

from werkzeug.wrappers import Response as _BaseResponse

from erlen import current_app
from erlen import has_app_context
from erlen import has_request_context
from erlen import request

from . import fields as fields_mod
from .errors import abort
from .mask import Mask
from .mask import MaskError
from .mask import ParseError
from .utils import unpack

__all__ = ["marshal", "marshal_with", "marshal_with_field"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def marshal(
    data: t.Any,
    fields: t.Any,
    envelope: str | None = None,
    skip_none: bool = False,
    mask: t.Any = None,
    ordered: bool = False,
) -> t.Any:
    """Format ``data`` (object, dict or list of them) with ``fields``.

    :param envelope: wrap the result in ``{envelope: result}``.
    :param skip_none: leave out keys whose value is ``None``.
    :param mask: a mask string or :class:`~erlen_rest.mask.Mask` narrowing the fields.
    :param ordered: return ``OrderedDict`` objects in the fields' order.
    """
    model_name = getattr(fields, "name", None)
    all_fields = getattr(fields, "resolved", fields)
    if mask:
        all_fields = Mask(mask, skip=True).apply(all_fields)
    if isinstance(data, (list, tuple, set)) and not isinstance(data, str):
        out: t.Any = [
            _marshal_one(item, all_fields, model_name, skip_none, ordered)
            for item in data
        ]
    else:
        out = _marshal_one(data, all_fields, model_name, skip_none, ordered)
    if envelope:
        return OrderedDict([(envelope, out)]) if ordered else {envelope: out}
    return out


def _marshal_one(
    data: t.Any,
    all_fields: cabc.Mapping[str, t.Any],
    model_name: str | None,
    skip_none: bool,
    ordered: bool,
) -> t.Any:
    discriminators = [
        k for k, f in all_fields.items() if getattr(f, "discriminator", False)
    ]
    if len(discriminators) > 1:
        raise ValueError("A model can have only one discriminator field")
    items: list[tuple[str, t.Any]] = []
    plain_keys = [
        k for k, f in all_fields.items() if not isinstance(f, fields_mod.Wildcard)
    ]
    for key, field in all_fields.items():
        if isinstance(field, dict):
            items.append(
                (key, marshal(data, field, skip_none=skip_none, ordered=ordered))
            )
            continue
        field = fields_mod.get_field(field)
        if isinstance(field, fields_mod.Wildcard):
            source = getattr(field, "attribute", None)
            obj = fields_mod.get_value(source, data) if source else data
            items.extend(field.wildcard_items(key, obj, plain_keys, skip_none))
            continue
        if key in discriminators:
            value = (
                model_name if model_name else field.output(key, data, ordered=ordered)
            )
        else:
            value = field.output(key, data, ordered=ordered)
        items.append((key, value))
    if skip_none:
        items = [(k, v) for k, v in items if v is not None and v != {}]
    return OrderedDict(items) if ordered else dict(items)


def _request_mask(default: t.Any) -> t.Any:
    if has_request_context() and has_app_context():
        header = current_app.config.get("RESTX_MASK_HEADER", "X-Fields")
        value = request.headers.get(header)
        if value:
            return value
    return default


class marshal_with:
    """Decorate a view so that its return value is marshalled with ``fields``.

    A mask from the ``X-Fields`` header (``RESTX_MASK_HEADER``) overrides
    ``mask``; ``(data, code, headers)`` tuples keep their code and headers.
    """

    def __init__(
        self,
        fields: t.Any,
        envelope: str | None = None,
        skip_none: bool = False,
        mask: t.Any = None,
        ordered: bool = False,
    ) -> None:
        self.fields = fields
        self.envelope = envelope
        self.skip_none = skip_none
        self.ordered = ordered
        self.mask = Mask(mask, skip=True) if mask else None

    def __call__(self, f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            resp = f(*args, **kwargs)
            if isinstance(resp, _BaseResponse):
                return resp
            mask = _request_mask(self.mask)
            data, code, headers = unpack(resp)
            try:
                marshalled = marshal(
                    data,
                    self.fields,
                    self.envelope,
                    self.skip_none,
                    _parse_mask(mask),
                    self.ordered,
                )
            except MaskError as exc:
                if mask is self.mask:
                    raise  # the view's own mask: a bug on the server
                abort(400, f"Invalid mask: {exc}")
            if isinstance(resp, tuple):
                return marshalled, code, headers
            return marshalled

        return t.cast(F, wrapper)


def _parse_mask(mask: t.Any) -> t.Any:
    if isinstance(mask, str):
        try:
            return Mask(mask, skip=True)
        except ParseError as exc:
            abort(400, f"Invalid mask: {exc}")
    return mask


class marshal_with_field:
    """Decorate a view so that its return value is formatted by one field."""

    def __init__(self, field: t.Any) -> None:
        self.field = fields_mod.get_field(field)

    def __call__(self, f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            resp = f(*args, **kwargs)
            if isinstance(resp, tuple):
                data, code, headers = unpack(resp)
                return self.field.format(data), code, headers
            return self.field.format(resp)

        return t.cast(F, wrapper)
