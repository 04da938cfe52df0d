"""Typed endpoints in FastAPI's spirit: inputs from type hints, validated by pydantic before the view runs.

.. code-block:: python

    @api.get("/items/<int:item_id>")
    def read_item(item_id: int, q: str | None = None,
                  token: Annotated[str, Header(alias="X-Token")] = "") -> Item:
        ...

A parameter named in the URL rule is a path parameter; a pydantic model (or a
list of them) is the JSON body; ``Annotated[T, Query()/Header()/Cookie()/
Form()/File()/Body()]`` says where else it comes from; anything else is a
query parameter. Bad input gives 422 with each error's location, message and
type. The return annotation (or ``response_model=``) validates and filters the
output: fields the model does not declare are never sent.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing as t

import pydantic
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as _BaseResponse

from erlen import current_app
from erlen import request

from .errors import abort
from .swagger import COMPONENTS
from .swagger import extract_path
from .swagger import extract_path_params
from .swagger import parse_docstring
from .utils import unpack

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api
    from .swagger import Swagger

__all__ = ["Body", "Cookie", "File", "Form", "Header", "Path", "Query", "TypedRoute"]

_MISSING: t.Any = inspect.Parameter.empty


@dataclasses.dataclass(frozen=True)
class Param:
    """Where a typed endpoint's parameter comes from, with its documentation."""

    location: t.ClassVar[str] = "query"
    alias: str | None = None
    description: str | None = None
    examples: list[t.Any] | None = None
    deprecated: bool = False


class Path(Param):
    """A path parameter (the default for names in the URL rule)."""

    location = "path"


class Query(Param):
    """A query string parameter (the default for plain types)."""

    location = "query"


class Header(Param):
    """A request header; ``x_token`` reads ``X-Token`` unless ``alias`` is given."""

    location = "header"


class Cookie(Param):
    """A cookie."""

    location = "cookie"


class Body(Param):
    """The JSON body (the default for pydantic models)."""

    location = "body"


class Form(Param):
    """A form field."""

    location = "form"


class File(Param):
    """An uploaded file (a :class:`werkzeug.datastructures.FileStorage`)."""

    location = "file"


@dataclasses.dataclass
class _Input:
    name: str
    key: str
    location: str
    annotation: t.Any
    default: t.Any
    adapter: pydantic.TypeAdapter[t.Any]
    marker: Param | None
    is_list: bool

    @property
    def required(self) -> bool:
        return self.default is _MISSING


def _is_model(annotation: t.Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, pydantic.BaseModel)


def _is_list(annotation: t.Any) -> bool:
    origin = t.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if _is_union(annotation):
        return any(_is_list(a) for a in t.get_args(annotation) if a is not type(None))
    return False


def _is_union(annotation: t.Any) -> bool:
    origin = t.get_origin(annotation)
    return origin is t.Union or (
        origin is not None and getattr(origin, "__name__", "") == "UnionType"
    )


def _body_like(annotation: t.Any) -> bool:
    """A model, a list of models, a ``dict`` (bare or parametrized), or an optional one."""
    if _is_model(annotation) or annotation is dict:
        return True
    if _is_union(annotation):
        return any(_body_like(a) for a in t.get_args(annotation) if a is not type(None))
    if _is_list(annotation):
        return any(_is_model(a) for a in t.get_args(annotation))
    return t.get_origin(annotation) is dict


class TypedRoute:
    """One typed endpoint: its inputs, its output model and its OpenAPI operation."""

    def __init__(
        self,
        api: Api,
        rule: str,
        methods: list[str],
        func: t.Callable[..., t.Any],
        *,
        response_model: t.Any = _MISSING,
        status_code: int = 200,
        endpoint: str | None = None,
        tags: list[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        operation_id: str | None = None,
        responses: dict[int, t.Any] | None = None,
        security: t.Any = None,
        include_in_schema: bool = True,
    ) -> None:
        self.api = api
        self.rule = rule
        self.methods = [m.upper() for m in methods]
        self.func = func
        self.endpoint = endpoint or func.__name__
        self.status_code = status_code
        self.tags = tags
        self.summary = summary
        self.description = description
        self.deprecated = deprecated
        self.operation_id = operation_id
        self.responses = responses or {}
        self.security = security
        self.include_in_schema = include_in_schema
        hints = t.get_type_hints(func, include_extras=True)
        if response_model is _MISSING:
            response_model = hints.get("return", _MISSING)
        if response_model in (None, type(None), t.Any) or (
            inspect.isclass(response_model)
            and issubclass(response_model, _BaseResponse)
        ):
            response_model = _MISSING
        self.response_model = response_model
        self.response_adapter = (
            pydantic.TypeAdapter(response_model)
            if response_model is not _MISSING
            else None
        )
        path_names = set(extract_path_params(rule))
        self.inputs: list[_Input] = []
        for name, parameter in inspect.signature(func).parameters.items():
            annotation = hints.get(name, t.Any)
            marker: Param | None = None
            if t.get_origin(annotation) is t.Annotated:
                base, *extras = t.get_args(annotation)
                for extra in extras:
                    if isinstance(extra, Param):
                        marker = extra
                annotation_for_type = annotation
            else:
                base = annotation
                annotation_for_type = annotation
            if marker is not None:
                location = marker.location
            elif name in path_names:
                location = "path"
            elif base is FileStorage:
                location = "file"
            elif _body_like(base):
                location = "body"
            else:
                location = "query"
            key = marker.alias if marker is not None and marker.alias else name
            if location == "header" and not (marker is not None and marker.alias):
                key = name.replace("_", "-")
            if base is FileStorage:
                annotation_for_type = t.Any
            self.inputs.append(
                _Input(
                    name=name,
                    key=key,
                    location=location,
                    annotation=annotation_for_type,
                    default=parameter.default,
                    adapter=pydantic.TypeAdapter(annotation_for_type),
                    marker=marker,
                    is_list=_is_list(base),
                )
            )
        if sum(1 for i in self.inputs if i.location == "body") > 1:
            raise TypeError(
                f"{func.__name__}: a typed endpoint takes at most one JSON body parameter"
            )

    # -- serving -----------------------------------------------------------------------

    def register(self, add_rule: t.Callable[..., None]) -> None:
        """Add the URL rule through ``add_rule`` (an app's or a blueprint setup's)."""
        view = self.api.output(self.view)
        view.__name__ = self.endpoint
        add_rule(
            self.api._complete_url(self.rule), self.endpoint, view, methods=self.methods
        )

    def _raw(self, item: _Input, path_values: dict[str, t.Any], body: t.Any) -> t.Any:
        if item.location == "path":
            return path_values.get(item.key, _MISSING)
        if item.location == "body":
            return body
        if item.location == "query":
            if item.is_list:
                values = request.args.getlist(item.key)
                return values if values else _MISSING
            return request.args.get(item.key, _MISSING)
        if item.location == "header":
            if item.is_list:
                # WSGI servers join repeated headers with ", ": split them again.
                values = [
                    part.strip()
                    for line in request.headers.getlist(item.key)
                    for part in line.split(",")
                ]
                return values if values else _MISSING
            value = request.headers.get(item.key)
            return _MISSING if value is None else value
        if item.location == "cookie":
            return request.cookies.get(item.key, _MISSING)
        if item.location == "form":
            if item.is_list:
                values = request.form.getlist(item.key)
                return values if values else _MISSING
            return request.form.get(item.key, _MISSING)
        if item.location == "file":
            return request.files.get(item.key, _MISSING)
        return _MISSING

    def _read_body(self) -> t.Any:
        if not request.get_data(cache=True):
            return _MISSING
        if not request.is_json:
            abort(
                415, "The request body must be JSON (Content-Type: application/json)."
            )
        return request.get_json()

    def parse(self, path_values: dict[str, t.Any]) -> dict[str, t.Any]:
        """Validate every input; abort with 422 listing each error."""
        needs_body = any(i.location == "body" for i in self.inputs)
        body = self._read_body() if needs_body else _MISSING
        values: dict[str, t.Any] = {}
        errors: list[dict[str, t.Any]] = []
        for item in self.inputs:
            raw = self._raw(item, path_values, body)
            loc: list[t.Any] = (
                [item.location, item.key] if item.location != "body" else ["body"]
            )
            if raw is _MISSING:
                if item.required:
                    errors.append(
                        {"loc": loc, "msg": "Field required", "type": "missing"}
                    )
                else:
                    values[item.name] = item.default
                continue
            if item.location == "file":
                values[item.name] = raw
                continue
            try:
                values[item.name] = item.adapter.validate_python(raw)
            except pydantic.ValidationError as exc:
                for error in exc.errors(
                    include_url=False, include_context=False, include_input=False
                ):
                    errors.append(
                        {
                            "loc": [*loc, *error["loc"]],
                            "msg": error["msg"],
                            "type": error["type"],
                        }
                    )
        if errors:
            limit = current_app.config["REST_MAX_VALIDATION_ERRORS"]
            extra = {}
            if len(errors) > limit:  # a large bad body must not echo back larger
                extra["errors_omitted"] = len(errors) - limit
                del errors[limit:]
            abort(422, "Request validation failed", errors=errors, **extra)
        return values

    def view(self, **path_values: t.Any) -> t.Any:
        """Parse the inputs, call the function, validate and filter its output."""
        kwargs = self.parse(path_values)
        result = current_app.ensure_sync(self.func)(**kwargs)
        if isinstance(result, (_BaseResponse, HTTPException)):
            return result
        data, code, headers = unpack(result, self.status_code)
        if self.response_adapter is not None:
            try:
                validated = self.response_adapter.validate_python(
                    data, from_attributes=True
                )
            except pydantic.ValidationError as exc:
                raise ResponseValidationError(self.endpoint, exc) from exc
            data = self.response_adapter.dump_python(validated, mode="json")
        elif isinstance(data, pydantic.BaseModel):
            data = data.model_dump(mode="json")
        return data, code, headers

    # -- documentation -----------------------------------------------------------------

    def openapi(self, swagger: Swagger) -> tuple[str, dict[str, t.Any]]:
        """Return this endpoint's OpenAPI path and operations."""
        if not self.include_in_schema:
            return extract_path(self.api._complete_url(self.rule)), {}
        docstring = parse_docstring(self.func)
        parameters: list[dict[str, t.Any]] = []
        body: dict[str, t.Any] | None = None
        form: dict[str, t.Any] = {}
        form_required: list[str] = []
        has_file = False
        for item in self.inputs:
            schema = (
                _schema(swagger, item.adapter, item.annotation)
                if item.location != "file"
                else {"type": "string", "format": "binary"}
            )
            if item.location == "body":
                body = {
                    "required": item.required,
                    "content": {"application/json": {"schema": schema}},
                }
            elif item.location in {"form", "file"}:
                has_file = has_file or item.location == "file"
                form[item.key] = schema
                if item.required:
                    form_required.append(item.key)
            else:
                param: dict[str, t.Any] = {
                    "name": item.key,
                    "in": item.location,
                    "schema": schema,
                }
                if item.required or item.location == "path":
                    param["required"] = True
                if item.marker is not None and item.marker.description:
                    param["description"] = item.marker.description
                if item.marker is not None and item.marker.deprecated:
                    param["deprecated"] = True
                if item.marker is not None and item.marker.examples:
                    param["examples"] = {
                        f"example{i}": {"value": v}
                        for i, v in enumerate(item.marker.examples, 1)
                    }
                parameters.append(param)
        if form and body is None:
            media = (
                "multipart/form-data"
                if has_file
                else "application/x-www-form-urlencoded"
            )
            form_schema: dict[str, t.Any] = {"type": "object", "properties": form}
            if form_required:
                form_schema["required"] = form_required
            body = {
                "required": bool(form_required),
                "content": {media: {"schema": form_schema}},
            }
        responses: dict[str, t.Any] = {}
        success: dict[str, t.Any] = {"description": "Successful Response"}
        if self.response_adapter is not None:
            success["content"] = {
                "application/json": {
                    "schema": _schema(
                        swagger,
                        self.response_adapter,
                        self.response_model,
                        mode="serialization",
                    )
                }
            }
        responses[str(self.status_code)] = success
        if self.inputs:
            swagger.add_schema("ValidationProblem", VALIDATION_PROBLEM_SCHEMA)
            responses["422"] = {
                "description": "Validation Error",
                "content": {
                    "application/problem+json": {
                        "schema": {"$ref": COMPONENTS + "ValidationProblem"}
                    }
                },
            }
        for code, spec in self.responses.items():
            responses[str(code)] = (
                {"description": spec} if isinstance(spec, str) else dict(spec)
            )
        operations: dict[str, t.Any] = {}
        for method in self.methods:
            operation: dict[str, t.Any] = {
                "tags": self.tags or [self.api.default_namespace.name],
                "operationId": self.operation_id
                or (
                    self.endpoint
                    if len(self.methods) == 1
                    else f"{self.endpoint}_{method.lower()}"
                ),
            }
            summary = self.summary or docstring["summary"]
            description = self.description or docstring["details"]
            if summary:
                operation["summary"] = summary
            if description:
                operation["description"] = description
            if parameters:
                operation["parameters"] = parameters
            if body is not None:
                operation["requestBody"] = body
            operation["responses"] = responses
            if self.deprecated:
                operation["deprecated"] = True
            requirements = swagger.security_requirements(self.security)
            if requirements is not None:
                operation["security"] = requirements
            operations[method.lower()] = operation
        return extract_path(self.api._complete_url(self.rule)), operations


class ResponseValidationError(RuntimeError):
    """A typed endpoint returned data its response model rejects: a bug on the server, never the client's fault."""

    def __init__(self, endpoint: str, error: pydantic.ValidationError) -> None:
        super().__init__(
            f"The response of {endpoint!r} does not match its response model:\n{error}"
        )
        self.errors = error.errors(include_url=False)


def _schema(
    swagger: Swagger,
    adapter: pydantic.TypeAdapter[t.Any],
    annotation: t.Any,
    mode: t.Literal["validation", "serialization"] = "validation",
) -> dict[str, t.Any]:
    """Return the JSON Schema of ``annotation``; pydantic models become component references."""
    schema = adapter.json_schema(ref_template=COMPONENTS + "{model}", mode=mode)
    for name, definition in schema.pop("$defs", {}).items():
        swagger.add_schema(name, definition)
    if _is_model(annotation) and "$ref" not in schema:
        name = t.cast(type, annotation).__name__
        swagger.add_schema(name, schema)
        return {"$ref": COMPONENTS + name}
    return schema


#: The JSON Schema of a 422 response (RFC 9457 problem details with ``errors``).
VALIDATION_PROBLEM_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        },
        "errors_omitted": {"type": "integer"},
    },
}
