"""Request argument parsing (Flask-RESTful's ``reqparse``), safe on every request.

Unlike Flask-RESTful on Werkzeug >= 2.1, a parser with the default
``location`` does not fail with 415 on a ``GET`` without a JSON body: the
JSON body is read only when the request says it is JSON.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import decimal
import typing as t
from http import HTTPStatus

from werkzeug.datastructures import FileStorage
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest

from erlen import current_app
from erlen import has_app_context
from erlen import request

from .errors import abort
from .errors import SpecsError
from .marshalling import marshal
from .model import Model

__all__ = ["Argument", "Namespace", "ParseResult", "RequestParser"]

SPLIT_CHAR = ","

_FRIENDLY_LOCATIONS = {
    "json": "the JSON body",
    "form": "the post body",
    "args": "the query string",
    "values": "the post body or the query string",
    "headers": "the HTTP headers",
    "cookies": "the request's cookies",
    "files": "an uploaded file",
}

#: How an argument's location is documented (Swagger 2 ``in``; converted for OpenAPI 3.1).
LOCATIONS = {
    "args": "query",
    "form": "formData",
    "headers": "header",
    "json": "body",
    "values": "query",
    "files": "formData",
}

PY_TYPES: dict[t.Any, str] = {
    int: "integer",
    str: "string",
    bool: "boolean",
    float: "number",
    None: "void",
}


class ParseResult(dict[str, t.Any]):
    """The parsed arguments: a dict whose keys are also attributes."""

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        self[name] = value


#: Flask-RESTful's name for :class:`ParseResult`.
Namespace = ParseResult


def _read_json(req: t.Any) -> t.Any:
    """Read the JSON body only when the request declares it (never a 415)."""
    if getattr(req, "is_json", True) is False:
        return None
    try:
        return req.get_json(silent=True)
    except TypeError:
        return req.get_json()


def _contains(source: t.Any, name: str) -> bool:
    try:
        return name in source
    except TypeError:
        return False


class Argument:
    """One argument of a :class:`RequestParser`; see Flask-RESTful's options.

    :param location: where to look: ``json``, ``values``, ``args``, ``form``,
        ``headers``, ``cookies``, ``files``, ``view_args``, or a list of them.
    """

    def __init__(
        self,
        name: str,
        default: t.Any = None,
        dest: str | None = None,
        required: bool = False,
        ignore: bool = False,
        type: t.Any = str,
        location: str | cabc.Sequence[str] = ("json", "values"),
        choices: cabc.Container[t.Any] = (),
        action: str = "store",
        help: str | None = None,
        operators: cabc.Sequence[str] = ("=",),
        case_sensitive: bool = True,
        store_missing: bool = True,
        trim: bool = False,
        nullable: bool = True,
    ) -> None:
        self.name = name
        self.default = default
        self.dest = dest
        self.required = required
        self.ignore = ignore
        self.location = location
        self.type = type
        self.choices = choices
        self.action = action
        self.help = help
        self.case_sensitive = case_sensitive
        self.operators = operators
        self.store_missing = store_missing
        self.trim = trim
        self.nullable = nullable

    def _locations(self) -> list[str]:
        return (
            [self.location] if isinstance(self.location, str) else list(self.location)
        )

    def source(self, req: t.Any) -> t.Any:
        """Return the first container of values found among the argument's locations."""
        for value in self._sources(req):
            return value
        return MultiDict()

    def _sources(self, req: t.Any) -> t.Iterator[t.Any]:
        for location in self._locations():
            if location in {"json", "get_json"}:
                value = _read_json(req)
            else:
                value = getattr(req, location, None)
                if callable(value):
                    value = value()
            if value is None:
                continue
            if location in {"json", "get_json"}:
                yield value
            elif hasattr(value, "getlist"):
                yield value
            elif isinstance(value, cabc.Mapping):
                yield MultiDict(value)
            else:
                yield MultiDict()

    def convert(self, value: t.Any, op: str) -> t.Any:
        """Convert one raw value with :attr:`type` (called as ``type(value, name, op)`` when it accepts that)."""
        if value is None:
            if not self.nullable:
                raise ValueError("Must not be null!")
            return None
        if isinstance(self.type, Model) and isinstance(value, dict):
            return marshal(value, self.type)
        if isinstance(value, FileStorage) and self.type is FileStorage:
            return value
        converter: t.Any = self.type
        if converter is decimal.Decimal:
            return decimal.Decimal(str(value))
        try:
            return converter(value, self.name, op)
        except TypeError:
            try:
                return converter(value, self.name)
            except TypeError:
                return converter(value)

    def handle_validation_error(
        self, error: t.Any, bundle_errors: bool
    ) -> tuple[t.Any, t.Any]:
        """Report a bad value: abort with 400, or return it when errors are bundled."""
        message = str(error)
        if self.help:
            message = (
                self.help.format(error_msg=message)
                if "{error_msg}" in self.help
                else f"{self.help} {message}"
            )
        errors = {self.name: message}
        if bundle_errors:
            return ValueError(message), errors
        abort(HTTPStatus.BAD_REQUEST, "Input payload validation failed", errors=errors)

    def parse(self, req: t.Any, bundle_errors: bool = False) -> tuple[t.Any, t.Any]:
        """Return ``(value, found)`` for this argument in ``req``."""
        names = [self.name + op.replace("=", "", 1) for op in self.operators]
        source: t.Any = MultiDict()
        for candidate in self._sources(req):
            if any(_contains(candidate, name) for name in names):
                source = candidate
                break
        results: list[t.Any] = []
        values: t.Any
        value: t.Any
        for operator in self.operators:
            name = self.name + operator.replace("=", "", 1)
            if name not in source:
                continue
            if hasattr(source, "getlist"):
                values = source.getlist(name)
            else:
                values = source.get(name)
                if not (
                    isinstance(values, cabc.MutableSequence) and self.action == "append"
                ):
                    values = [values]
            for value in values:
                choices = self.choices
                if hasattr(value, "strip") and self.trim:
                    value = value.strip()
                if hasattr(value, "lower") and not self.case_sensitive:
                    value = value.lower()
                    if choices:
                        choices = [
                            c.lower() if isinstance(c, str) else c
                            for c in t.cast(t.Iterable[t.Any], choices)
                        ]
                try:
                    if self.action == "split":
                        value = [
                            self.convert(v, operator)
                            for v in str(value).split(SPLIT_CHAR)
                        ]
                    else:
                        value = self.convert(value, operator)
                except Exception as error:
                    if self.ignore:
                        continue
                    return self.handle_validation_error(error, bundle_errors)
                if choices and value not in choices:
                    msg = f"The value '{value}' is not a valid choice for '{name}'."
                    return self.handle_validation_error(msg, bundle_errors)
                unparsed = getattr(req, "unparsed_arguments", None)
                if isinstance(unparsed, dict):
                    unparsed.pop(name, None)
                results.append(value)
        if not results and self.required:
            where = " or ".join(
                _FRIENDLY_LOCATIONS.get(loc, loc) for loc in self._locations()
            )
            return self.handle_validation_error(
                f"Missing required parameter in {where}", bundle_errors
            )
        if not results:
            return (self.default() if callable(self.default) else self.default), False
        if self.action == "append":
            return results, True
        if self.action == "store" or len(results) == 1:
            return results[0], True
        return results, True

    @property
    def __schema__(self) -> dict[str, t.Any] | None:
        locations = self._locations()
        location = locations[-1] if locations else "values"
        if location in {"cookie", "cookies"}:
            return None
        param: dict[str, t.Any] = {
            "name": self.name,
            "in": LOCATIONS.get(location, "query"),
        }
        arg_type: t.Any = self.type
        known = isinstance(arg_type, cabc.Hashable) and arg_type in PY_TYPES
        apidoc = getattr(self.type, "__apidoc__", None)
        schema = getattr(self.type, "__schema__", None)
        if known:
            param["type"] = PY_TYPES[arg_type]
        elif apidoc is not None:
            param["type"] = apidoc["name"]
            param["in"] = "body"
        elif schema is not None:
            param.update(schema)
        elif location == "files":
            param["type"] = "file"
        else:
            param["type"] = "string"
        if self.required:
            param["required"] = True
        if self.help:
            param["description"] = self.help
        if self.default is not None:
            param["default"] = (
                self.default() if callable(self.default) else self.default
            )
        if self.action in {"append", "split"}:
            param["items"] = {"type": param.pop("type")}
            if "format" in param:
                param["items"]["format"] = param.pop("format")
            param["type"] = "array"
            param["collectionFormat"] = "multi" if self.action == "append" else "csv"
        if self.choices:
            param["enum"] = list(t.cast(t.Iterable[t.Any], self.choices))
        return param


class RequestParser:
    """Parse a request's arguments into a :class:`ParseResult`.

    :param bundle_errors: report every bad argument at once (also ``BUNDLE_ERRORS``).
    """

    def __init__(
        self,
        argument_class: type[Argument] = Argument,
        result_class: type[t.Any] = ParseResult,
        trim: bool = False,
        bundle_errors: bool = False,
        namespace_class: type[t.Any] | None = None,
    ) -> None:
        self.args: list[Argument] = []
        self.argument_class = argument_class
        #: ``namespace_class`` is Flask-RESTful's name for ``result_class``.
        self.result_class = namespace_class or result_class
        self.trim = trim
        self.bundle_errors = bundle_errors

    def add_argument(self, *args: t.Any, **kwargs: t.Any) -> RequestParser:
        """Add an argument (an :class:`Argument` or its options); returns the parser to chain."""
        if len(args) == 1 and isinstance(args[0], self.argument_class):
            self.args.append(args[0])
        else:
            self.args.append(self.argument_class(*args, **kwargs))
        if self.trim and self.argument_class is Argument:
            self.args[-1].trim = kwargs.get("trim", self.trim)
        return self

    def parse_args(self, req: t.Any = None, strict: bool = False) -> t.Any:
        """Parse ``req`` (the current request by default); 400 with each bad argument's message."""
        if req is None:
            req = request
        result = self.result_class()
        req.unparsed_arguments = (
            dict(self.argument_class("").source(req)) if strict else {}
        )
        bundle = self.bundle_errors or (
            has_app_context() and bool(current_app.config.get("BUNDLE_ERRORS", False))
        )
        errors: dict[str, str] = {}
        for arg in self.args:
            value, found = arg.parse(req, bundle)
            if isinstance(value, ValueError):
                errors.update(found)
                found = None
            if found or arg.store_missing:
                result[arg.dest or arg.name] = value
        if errors:
            abort(
                HTTPStatus.BAD_REQUEST, "Input payload validation failed", errors=errors
            )
        if strict and req.unparsed_arguments:
            names = ", ".join(req.unparsed_arguments.keys())
            raise BadRequest(f"Unknown arguments: {names}")
        return result

    def copy(self) -> RequestParser:
        """Return a deep copy: arguments can be changed without touching this parser."""
        parser = type(self)(
            self.argument_class, self.result_class, self.trim, self.bundle_errors
        )
        parser.args = copy.deepcopy(self.args)
        return parser

    def replace_argument(
        self, name: str, *args: t.Any, **kwargs: t.Any
    ) -> RequestParser:
        """Replace the argument named ``name``."""
        new_arg = self.argument_class(name, *args, **kwargs)
        for index, arg in enumerate(self.args[:]):
            if arg.name == new_arg.name:
                del self.args[index]
                self.args.append(new_arg)
                break
        return self

    def remove_argument(self, name: str) -> RequestParser:
        """Remove the argument named ``name``."""
        for index, arg in enumerate(self.args[:]):
            if arg.name == name:
                del self.args[index]
                break
        return self

    @property
    def __schema__(self) -> list[dict[str, t.Any]]:
        params = [a.__schema__ for a in self.args]
        result = [p for p in params if p is not None]
        places = {p["in"] for p in result}
        if "body" in places and "formData" in places:
            raise SpecsError("Can't use formData and body at the same time")
        return result
