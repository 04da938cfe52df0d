"""Models: named dicts of fields that document, marshal and validate a payload.

``Model`` is a plain dict, ``OrderedModel`` an ``OrderedDict``, ``SchemaModel``
wraps a raw JSON Schema. ``inherit`` makes a child that references its parents
(``allOf``); ``clone`` copies the parents' fields in.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import typing as t
import warnings
from collections import OrderedDict

import jsonschema

from . import fields as fields_mod
from .errors import abort
from .utils import not_none

__all__ = ["Model", "ModelBase", "OrderedModel", "RawModel", "SchemaModel"]


class _hybrid:
    """A method usable on the class (``Model.inherit(name, parent, ...)``) or an instance."""

    def __init__(self, func: t.Callable[..., t.Any]) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, obj: t.Any, cls: type) -> t.Callable[..., t.Any]:
        def bound(name: str, *parents: t.Any) -> t.Any:
            if obj is not None:
                parents = (obj, *parents)
            return self.func(cls, name, *parents)

        return bound


class ModelBase:
    """What every model kind shares: a name, parents, schema and validation."""

    name: str
    __parents__: list[t.Any]

    def __init__(self, name: str, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.__apidoc__: dict[str, t.Any] = {"name": name}
        self.name = name
        self.__parents__ = []

    @property
    def ancestors(self) -> set[str]:
        """The names of every model this one inherits from, recursively."""
        names: set[str] = set()
        for parent in self.__parents__:
            names.add(parent.name)
            names |= parent.ancestors
        return names

    def get_parent(self, name: str) -> t.Any:
        """Return the ancestor named ``name``; a ``ValueError`` when there is none."""
        for parent in self.__parents__:
            if parent.name == name:
                return parent
            try:
                return parent.get_parent(name)
            except ValueError:
                continue
        raise ValueError(f"Parent {name!r} not found")

    @property
    def __schema__(self) -> dict[str, t.Any]:
        schema = self._schema
        if self.__parents__:
            refs = [
                {"$ref": f"{fields_mod.REF_PREFIX}{p.name}"} for p in self.__parents__
            ]
            return {"allOf": [*refs, schema]}
        return schema

    @property
    def _schema(self) -> dict[str, t.Any]:
        raise NotImplementedError

    def referenced_models(self) -> dict[str, ModelBase]:
        """Return every model this one refers to (parents, nested), by name."""
        return {}

    def validate(
        self,
        data: t.Any,
        resolver: t.Any = None,
        format_checker: t.Any = None,
    ) -> None:
        """Check ``data`` against the schema; abort with 400 and each error by path."""
        definitions = {name: m.__schema__ for name, m in _all_models(self).items()}
        schema = {**self.__schema__, "definitions": definitions}
        validator = jsonschema.Draft4Validator(schema, format_checker=format_checker)
        errors: dict[str, str] = {}
        for error in validator.iter_errors(data):
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "required" and isinstance(error.instance, dict):
                for name in error.validator_value:
                    if name not in error.instance:
                        key = f"{path}.{name}" if path else str(name)
                        errors[key] = f"{name!r} is a required property"
                continue
            errors[path] = error.message
        if errors:
            abort(400, message="Input payload validation failed", errors=errors)

    def __deepcopy__(self, memo: dict[int, t.Any]) -> t.Any:
        cls = type(self)
        other = cls.__new__(cls)
        memo[id(self)] = other
        if isinstance(self, dict):
            t.cast(dict[str, t.Any], other).update(
                (k, copy.deepcopy(v, memo)) for k, v in self.items()
            )
        for key, value in self.__dict__.items():
            if key == "_ModelBase__parents__" or key == "__parents__":
                other.__dict__[key] = list(value)
            else:
                other.__dict__[key] = copy.deepcopy(value, memo)
        return other


def _all_models(
    model: t.Any, found: dict[str, t.Any] | None = None
) -> dict[str, t.Any]:
    found = {} if found is None else found
    for parent in getattr(model, "__parents__", []):
        if parent.name not in found:
            found[parent.name] = parent
            _all_models(parent, found)
    if isinstance(model, cabc.Mapping):
        for field in model.values():
            for nested in _field_models(field):
                name = getattr(nested, "name", None)
                if name and name not in found:
                    found[name] = nested
                    _all_models(nested, found)
    return found


def _field_models(field: t.Any) -> list[t.Any]:
    if isinstance(field, fields_mod.Polymorph):
        return [field.nested, *field.mapping.values()]
    if isinstance(field, fields_mod.Nested):
        return [field.nested]
    if isinstance(field, fields_mod.List):
        return _field_models(field.container)
    if isinstance(field, dict):
        return [field]
    return []


class RawModel(ModelBase):
    """A model made of fields (shared by :class:`Model` and :class:`OrderedModel`)."""

    wrapper: t.ClassVar[type] = dict

    def __init__(
        self,
        name: str,
        *args: t.Any,
        mask: t.Any = None,
        strict: bool = False,
        **kwargs: t.Any,
    ) -> None:
        super().__init__(name, *args, **kwargs)
        self.__apidoc__.update(mask=mask)
        self.__mask__ = mask
        self.__strict__ = strict

    def schema_body(self) -> dict[str, t.Any]:
        """Return the object schema of this model's own fields."""
        properties = self.wrapper()
        required: set[str] = set()
        discriminator = None
        for name, field in t.cast(dict[str, t.Any], self).items():
            if isinstance(field, dict) and not isinstance(field, ModelBase):
                properties[name] = Model("", field).schema_body()
                continue
            field = fields_mod.get_field(field)
            properties[name] = field.__schema__
            if getattr(field, "required", False):
                required.add(name)
            if getattr(field, "discriminator", False):
                discriminator = name
        schema = not_none(
            {
                "required": sorted(required) or None,
                "properties": properties,
                "discriminator": discriminator,
                "x-mask": str(self.__mask__) if self.__mask__ else None,
                "type": "object",
            }
        )
        if self.__strict__:
            schema["additionalProperties"] = False
        return schema

    @property
    def _schema(self) -> dict[str, t.Any]:
        return self.schema_body()

    @property
    def resolved(self) -> dict[str, t.Any]:
        """All fields, inherited ones first, as one dict of fields."""
        result = self.wrapper()
        for parent in self.__parents__:
            result.update(parent.resolved)
        result.update(t.cast(dict[str, t.Any], self))
        return t.cast(dict[str, t.Any], result)

    @_hybrid
    def extend(cls: t.Any, name: str, *parents: t.Any) -> t.Any:
        """Deprecated: use :meth:`clone`."""
        warnings.warn(
            "extend is deprecated, use clone instead", DeprecationWarning, stacklevel=3
        )
        return cls.clone(name, *parents)

    @_hybrid
    def clone(cls: t.Any, name: str, *parents: t.Any) -> t.Any:
        """Make a new model with the parents' fields copied in (no ``allOf``)."""
        merged = cls.wrapper()
        for parent in parents:
            merged.update(parent.resolved if isinstance(parent, RawModel) else parent)
        return cls(name, merged)

    @_hybrid
    def inherit(cls: t.Any, name: str, *parents: t.Any) -> t.Any:
        """Make a child model that references its parents (``allOf``); the last argument holds its own fields."""
        own = parents[-1]
        model = cls(name, own)
        model.__parents__ = [p for p in parents[:-1]]
        return model

    def clone_masked(self, mask: t.Any) -> t.Any:
        """Return this model's resolved fields narrowed by ``mask``."""
        from .mask import Mask

        return Mask(mask, skip=True).apply(self.resolved)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class Model(RawModel, dict[str, t.Any]):
    """A model as a plain ``dict`` of fields."""


class OrderedModel(RawModel, OrderedDict[str, t.Any]):
    """A model as an ``OrderedDict`` of fields: document and output keep its order."""

    wrapper = OrderedDict


class SchemaModel(ModelBase):
    """A model defined by a raw JSON Schema (no marshalling)."""

    def __init__(self, name: str, schema: dict[str, t.Any] | None = None) -> None:
        super().__init__(name)
        self._raw_schema = schema or {}

    @property
    def _schema(self) -> dict[str, t.Any]:
        return self._raw_schema

    def __len__(self) -> int:
        return len(self._raw_schema.get("properties", {}))

    def __bool__(self) -> bool:
        return True

    def __iter__(self) -> t.Iterator[str]:
        return iter(self._raw_schema.get("properties", {}))
