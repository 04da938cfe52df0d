"""Namespaces: a group of resources under one path, with their models, docs and error handlers."""

from __future__ import annotations

import inspect
import logging
import typing as t
import warnings
from http import HTTPStatus

from erlen import request

from . import errors as errors_mod
from .marshalling import marshal
from .marshalling import marshal_with
from .model import Model
from .model import OrderedModel
from .model import SchemaModel
from .reqparse import RequestParser
from .utils import merge

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api

__all__ = ["Namespace"]

T = t.TypeVar("T")


class Namespace:
    """A group of resources sharing a path prefix, models and documentation.

    :param name: the name (and default path ``/<name>``).
    :param description: shown in the API document as the tag's description.
    :param path: the URL prefix; ``/<name>`` by default.
    :param decorators: applied to every resource's view.
    :param validate: validate payloads of ``@expect`` models by default.
    :param authorizations: security schemes, merged into the API's.
    :param ordered: keep the fields' order in models and output.
    """

    def __init__(
        self,
        name: str,
        description: str | None = None,
        path: str | None = None,
        decorators: list[t.Callable[..., t.Any]] | None = None,
        validate: bool | None = None,
        authorizations: dict[str, t.Any] | None = None,
        ordered: bool = False,
        **kwargs: t.Any,
    ) -> None:
        self.name = name
        self.description = description
        self._path = path
        self._schema = None
        self._validate = validate
        self.models: dict[str, t.Any] = {}
        self.urls: dict[str, t.Any] = {}
        self.decorators = decorators if decorators else []
        self.resources: list[tuple[type, tuple[str, ...], dict[str, t.Any]]] = []
        self.error_handlers: dict[type, t.Callable[..., t.Any]] = {}
        self.default_error_handler: t.Callable[..., t.Any] | None = None
        self.authorizations = authorizations
        self.ordered = kwargs.get("ordered", ordered)
        self.apis: list[Api] = []
        if "api" in kwargs:
            self.apis.append(kwargs["api"])
        self.logger = logging.getLogger(f"{__name__}.{self.name}")

    @property
    def path(self) -> str:
        """The URL prefix of this namespace, without a trailing slash."""
        return (self._path or ("/" + self.name)).rstrip("/")

    def add_resource(self, resource: type, *urls: str, **kwargs: t.Any) -> None:
        """Register a resource class on ``urls`` (relative to the namespace path)."""
        route_doc = kwargs.pop("route_doc", {})
        self.resources.append((resource, urls, dict(kwargs, route_doc=route_doc)))
        for api in self.apis:
            ns_urls = api.ns_urls(self, urls)
            api.register_resource(self, resource, *ns_urls, **kwargs)

    def route(self, *urls: str, **kwargs: t.Any) -> t.Callable[[T], T]:
        """Decorate a resource class to register it on ``urls``; ``doc=`` documents it."""

        def wrapper(cls: T) -> T:
            doc = kwargs.pop("doc", None)
            if doc is not None:
                kwargs["route_doc"] = self._build_doc(cls, doc)
            self.add_resource(t.cast(type, cls), *urls, **kwargs)
            return cls

        return wrapper

    def _build_doc(self, cls: t.Any, doc: t.Any) -> t.Any:
        if doc is False:
            return False
        unshortcut_params_description(doc)
        handle_deprecations(doc)
        for http_method in ("get", "post", "put", "patch", "delete", "head", "options"):
            if http_method in doc:
                if doc[http_method] is False:
                    continue
                unshortcut_params_description(doc[http_method])
                handle_deprecations(doc[http_method])
                if "expect" in doc[http_method] and not isinstance(
                    doc[http_method]["expect"], (list, tuple)
                ):
                    doc[http_method]["expect"] = [doc[http_method]["expect"]]
        return merge(getattr(cls, "__apidoc__", {}), doc)

    def doc(
        self, shortcut: str | bool | None = None, **kwargs: t.Any
    ) -> t.Callable[[T], T]:
        """Add documentation to a resource class or method (merged with what it has)."""

        def wrapper(documented: T) -> T:
            if shortcut is False:
                documented.__apidoc__ = False  # type: ignore[attr-defined]
                return documented
            if isinstance(shortcut, str):
                kwargs["description"] = shortcut
            documented.__apidoc__ = self._build_doc(documented, kwargs)  # type: ignore[attr-defined]
            return documented

        return wrapper

    def hide(self, func: T) -> T:
        """Leave a resource or method out of the API document."""
        func.__apidoc__ = False  # type: ignore[attr-defined]
        return func

    def abort(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        """Raise an HTTP error with a JSON body (see :func:`erlen_rest.abort`)."""
        errors_mod.abort(*args, **kwargs)

    def add_model(self, name: str, definition: t.Any) -> t.Any:
        """Register a model under ``name`` on this namespace and its APIs."""
        self.models[name] = definition
        for api in self.apis:
            api.models[name] = definition
        return definition

    def model(
        self,
        name: str | None = None,
        model: t.Any = None,
        mask: t.Any = None,
        strict: bool = False,
        **kwargs: t.Any,
    ) -> t.Any:
        """Create and register a model (an ``OrderedModel`` when the namespace is ordered)."""
        cls = OrderedModel if self.ordered else Model
        created = cls(name or "", model or {}, mask=mask, strict=strict)
        created.__apidoc__.update(kwargs)
        return self.add_model(name or "", created)

    def schema_model(
        self, name: str | None = None, schema: dict[str, t.Any] | None = None
    ) -> t.Any:
        """Create and register a model from a raw JSON Schema."""
        return self.add_model(name or "", SchemaModel(name or "", schema))

    def extend(self, name: str, parent: t.Any, fields: t.Any) -> t.Any:
        """Deprecated: use :meth:`clone`."""
        warnings.warn(
            "extend is deprecated, use clone instead", DeprecationWarning, stacklevel=2
        )
        return self.clone(name, parent, fields)

    def clone(self, name: str, *specs: t.Any) -> t.Any:
        """Create and register a model that copies its parents' fields."""
        return self.add_model(name, Model.clone(name, *specs))

    def inherit(self, name: str, *specs: t.Any) -> t.Any:
        """Create and register a model that inherits from its parents (``allOf``)."""
        return self.add_model(name, Model.inherit(name, *specs))

    def expect(self, *inputs: t.Any, **kwargs: t.Any) -> t.Callable[[T], T]:
        """Document (and with ``validate=True`` check) the expected payload or parser."""
        expect: list[t.Any] = []
        params: dict[str, t.Any] = {
            "validate": kwargs.get("validate", self._validate),
            "expect": expect,
        }
        for param in inputs:
            expect.append(param)
        return self.doc(**params)

    def parser(self) -> RequestParser:
        """Return a new :class:`~erlen_rest.reqparse.RequestParser`."""
        return RequestParser()

    def as_list(self, field: T) -> T:
        """Document a field as a list of values."""
        field.__apidoc__ = merge(getattr(field, "__apidoc__", {}), {"as_list": True})  # type: ignore[attr-defined]
        return field

    def marshal_with(
        self,
        fields: t.Any,
        as_list: bool = False,
        code: int = HTTPStatus.OK,
        description: str | None = None,
        **kwargs: t.Any,
    ) -> t.Callable[[T], T]:
        """Marshal the view's return value with ``fields`` and document the response."""

        def wrapper(func: T) -> T:
            doc = {
                "responses": {
                    str(int(code)): (description, [fields], kwargs)
                    if as_list
                    else (description, fields, kwargs)
                },
                "__mask__": kwargs.get("mask", True),
            }
            func.__apidoc__ = merge(getattr(func, "__apidoc__", {}), doc)  # type: ignore[attr-defined]
            return t.cast(
                T,
                marshal_with(fields, ordered=self.ordered, **kwargs)(
                    t.cast(t.Any, func)
                ),
            )

        return wrapper

    def marshal_list_with(self, fields: t.Any, **kwargs: t.Any) -> t.Callable[[T], T]:
        """Like :meth:`marshal_with` for a list of objects."""
        return self.marshal_with(fields, True, **kwargs)

    def marshal(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Marshal data (see :func:`erlen_rest.marshal`), ordered like the namespace."""
        kwargs.setdefault("ordered", self.ordered)
        return marshal(*args, **kwargs)

    def errorhandler(self, exception: t.Any) -> t.Any:
        """Register a handler for ``exception`` raised in this namespace's resources."""
        if inspect.isclass(exception) and issubclass(exception, BaseException):

            def wrapper(func: T) -> T:
                self.error_handlers[exception] = t.cast(t.Callable[..., t.Any], func)
                return func

            return wrapper
        self.default_error_handler = exception
        return exception

    def param(
        self,
        name: str,
        description: str | None = None,
        _in: str = "query",
        **kwargs: t.Any,
    ) -> t.Callable[[T], T]:
        """Document a parameter (``_in``: query, header, path, cookie, formData)."""
        param = kwargs
        param["in"] = _in
        param["description"] = description
        return self.doc(params={name: param})

    def response(
        self, code: int, description: str, model: t.Any = None, **kwargs: t.Any
    ) -> t.Callable[[T], T]:
        """Document a possible response."""
        return self.doc(responses={str(int(code)): (description, model, kwargs)})

    def header(
        self, name: str, description: str | None = None, **kwargs: t.Any
    ) -> t.Callable[[T], T]:
        """Document a response header."""
        header = {"description": description}
        header.update(kwargs)
        return self.doc(headers={name: header})

    def produces(self, mimetypes: list[str]) -> t.Callable[[T], T]:
        """Document the media types a resource produces."""
        return self.doc(produces=mimetypes)

    def deprecated(self, func: T) -> T:
        """Mark a resource or method as deprecated in the document."""
        return self.doc(deprecated=True)(func)

    def vendor(self, *args: t.Any, **kwargs: t.Any) -> t.Callable[[T], T]:
        """Add ``x-`` vendor extensions to the document."""
        for arg in args:
            kwargs.update(arg)
        return self.doc(vendor=kwargs)

    @property
    def payload(self) -> t.Any:
        """The JSON body of the request: malformed JSON is a 400, a body that is not JSON a 415."""
        return request.get_json()


def unshortcut_params_description(data: dict[str, t.Any]) -> None:
    """Turn ``params={"id": "The id"}`` into ``params={"id": {"description": "The id"}}``."""
    if "params" in data:
        for name, description in list(data["params"].items()):
            if isinstance(description, str):
                data["params"][name] = {"description": description}


def handle_deprecations(doc: dict[str, t.Any]) -> None:
    """Accept the old ``parser=`` and ``body=`` doc keys as ``expect``."""
    if "parser" in doc:
        warnings.warn(
            "The parser attribute is deprecated, use expect instead",
            DeprecationWarning,
            stacklevel=3,
        )
        doc["expect"] = doc.get("expect", []) + [doc.pop("parser")]
    if "body" in doc:
        warnings.warn(
            "The body attribute is deprecated, use expect instead",
            DeprecationWarning,
            stacklevel=3,
        )
        doc["expect"] = doc.get("expect", []) + [doc.pop("body")]
