"""The OpenAPI 3.1 document of an :class:`~erlen_rest.Api`, from RESTX models and typed endpoints.

Flask-RESTX writes Swagger 2.0; erlen-rest writes OpenAPI 3.1 (JSON Schema
2020-12) at the same ``/swagger.json`` URL and at ``/openapi.json``. Models'
``__schema__`` keeps RESTX's shape (``#/definitions/...``, boolean
``exclusiveMinimum``) for compatibility; :func:`to_json_schema` converts it.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import re
import typing as t
from http import HTTPStatus

from werkzeug.routing import parse_converter_args

from erlen import current_app
from erlen import has_app_context

from .errors import SpecsError
from .fields import REF_PREFIX
from .model import _all_models
from .model import ModelBase
from .reqparse import RequestParser
from .utils import merge
from .utils import not_none

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api
    from .namespace import Namespace

__all__ = [
    "Swagger",
    "extract_path",
    "extract_path_params",
    "parse_docstring",
    "to_json_schema",
]

COMPONENTS = "#/components/schemas/"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")

_RULE = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?(?P<variable>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
_CONVERTER_TYPES = {
    "default": "string",
    "string": "string",
    "path": "string",
    "any": "string",
    "uuid": "string",
    "int": "integer",
    "float": "number",
}
_PY_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}


def extract_path(path: str) -> str:
    """Turn a Werkzeug rule (``/todo/<int:id>``) into an OpenAPI path (``/todo/{id}``)."""
    return _RULE.sub(r"{\g<variable>}", path)


def extract_path_params(path: str) -> dict[str, dict[str, t.Any]]:
    """Return the rule's variables as (Swagger-style) path parameters, by name."""
    params: dict[str, dict[str, t.Any]] = {}
    for match in _RULE.finditer(path):
        converter = match.group("converter") or "default"
        if match.group("args"):
            parse_converter_args(match.group("args"))
        params[match.group("variable")] = {
            "name": match.group("variable"),
            "type": _CONVERTER_TYPES.get(converter, "string"),
            "in": "path",
            "required": True,
        }
    return params


def parse_docstring(obj: t.Any) -> dict[str, t.Any]:
    """Split a docstring into summary, details, ``:param:``, ``:returns:`` and ``:raises:``."""
    raw = inspect.getdoc(obj)
    summary = details = returns = None
    params: list[str] = []
    raises: dict[str, str] = {}
    if raw:
        lines = []
        for line in raw.splitlines():
            stripped = line.strip()
            match = re.match(r":raises\s+(\w+)\s*:\s*(.*)", stripped)
            if match:
                raises[match.group(1)] = match.group(2)
                continue
            param = re.match(r":param\s+(?:\w+\s+)?(\w+)\s*:", stripped)
            if param:
                params.append(param.group(1))
                continue
            ret = re.match(r":returns?:\s*(.*)", stripped)
            if ret:
                returns = ret.group(1)
                continue
            lines.append(line)
        text = "\n".join(lines).strip()
        if text:
            first, _, rest = text.partition("\n")
            if "." in first:
                head, _, tail = first.partition(".")
                summary = head.strip()
                rest = "\n".join(filter(None, [tail.strip(), rest.strip()]))
            else:
                summary = first.strip()
            details = rest.strip() or None
    return {
        "raw": raw,
        "summary": summary,
        "details": details,
        "returns": returns,
        "params": params,
        "raises": raises,
    }


def to_json_schema(schema: t.Any) -> t.Any:
    """Convert a RESTX-style schema fragment to JSON Schema 2020-12 for OpenAPI 3.1."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, t.Any] = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
            out[key] = COMPONENTS + value[len(REF_PREFIX) :]
        elif key in {
            "properties",
            "patternProperties",
            "$defs",
            "definitions",
        } and isinstance(value, dict):
            out[key] = {k: to_json_schema(v) for k, v in value.items()}
        elif key == "example":
            out.setdefault("examples", [value])
        elif key == "discriminator" and isinstance(value, str):
            out[key] = {"propertyName": value}
        elif key in {"exclusiveMinimum", "exclusiveMaximum"} and isinstance(
            value, bool
        ):
            continue
        elif key == "type" and value == "file":
            out["type"] = "string"
            out["format"] = "binary"
        else:
            out[key] = to_json_schema(value)
    for flag, bound in (
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ):
        if schema.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
    return out


def _param_to_oas3(param: dict[str, t.Any]) -> dict[str, t.Any]:
    schema_keys = {
        "type",
        "format",
        "default",
        "enum",
        "items",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "pattern",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "multipleOf",
        "example",
    }
    schema = {k: v for k, v in param.items() if k in schema_keys}
    schema.setdefault("type", "string")
    result: dict[str, t.Any] = {
        "name": param["name"],
        "in": param.get("in", "query"),
        "schema": to_json_schema(schema),
    }
    if param.get("description"):
        result["description"] = param["description"]
    if param.get("required") or result["in"] == "path":
        result["required"] = True
    if param.get("collectionFormat") == "csv":
        result["style"] = "form"
        result["explode"] = False
    elif param.get("collectionFormat") == "multi":
        result["explode"] = True
    for key, value in param.items():
        if key.startswith("x-"):
            result[key] = value
    return result


_SECURITY_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}


def _security_scheme(definition: dict[str, t.Any]) -> dict[str, t.Any]:
    kind = definition.get("type")
    if kind == "basic":
        return not_none(
            {
                "type": "http",
                "scheme": "basic",
                "description": definition.get("description"),
            }
        )
    if kind == "oauth2" and "flow" in definition:
        flow = _SECURITY_FLOWS.get(definition["flow"], definition["flow"])
        details = not_none(
            {
                "authorizationUrl": definition.get("authorizationUrl"),
                "tokenUrl": definition.get("tokenUrl"),
                "scopes": definition.get("scopes", {}),
            }
        )
        return not_none(
            {
                "type": "oauth2",
                "description": definition.get("description"),
                "flows": {flow: details},
            }
        )
    return dict(definition)


class Swagger:
    """Build the OpenAPI 3.1 document of an API (the name Flask-RESTX users import)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._registered_models: dict[str, t.Any] = {}
        self.extra_schemas: dict[str, t.Any] = {}

    # -- helpers used by typed endpoints ----------------------------------------------

    def add_schema(self, name: str, schema: dict[str, t.Any]) -> None:
        """Add a component schema (used for pydantic models)."""
        self.extra_schemas[name] = schema

    def register_model(self, model: t.Any) -> dict[str, t.Any]:
        """Register ``model`` (and what it references) and return a ``$ref`` to it."""
        name = getattr(model, "name", None)
        if isinstance(model, (list, tuple)):
            return {"type": "array", "items": self.register_model(model[0])}
        if name is None:
            if isinstance(model, dict):
                from .model import Model

                return to_json_schema(Model("", model).schema_body())  # type: ignore[no-any-return]
            return {}
        if name not in self._registered_models:
            self._registered_models[name] = model
            for other_name, other in _all_models(model).items():
                self._registered_models.setdefault(other_name, other)
        return {"$ref": COMPONENTS + name}

    # -- document -----------------------------------------------------------------------

    def as_dict(self) -> dict[str, t.Any]:
        """Return the whole document."""
        api = self.api
        info = not_none(
            {
                "title": api.title,
                "version": api.version,
                "description": api.description,
                "termsOfService": api.terms_url,
                "contact": not_none(
                    {
                        "name": api.contact,
                        "email": api.contact_email,
                        "url": api.contact_url,
                    }
                )
                or None,
                "license": not_none({"name": api.license, "url": api.license_url})
                if api.license
                else None,
            }
        )
        paths: dict[str, dict[str, t.Any]] = {}
        tags: list[dict[str, t.Any]] = []
        for tag in api.tags:
            if isinstance(tag, str):
                tags.append({"name": tag})
            elif isinstance(tag, (list, tuple)):
                tags.append(
                    not_none(
                        {
                            "name": tag[0],
                            "description": tag[1] if len(tag) > 1 else None,
                        }
                    )
                )
            elif isinstance(tag, dict) and "name" in tag:
                tags.append(dict(tag))
            else:
                raise SpecsError(f"Invalid tag {tag!r}: a tag needs a name")
        named = {tag["name"] for tag in tags}
        for ns in api.namespaces:
            if ns is api.default_namespace and not any(
                r[1] is ns for r in api.resources
            ):
                continue
            if ns.name in named:
                continue
            tags.append(not_none({"name": ns.name, "description": ns.description}))
        for resource, ns, urls, kwargs in api.resources:
            for url in urls:
                path = extract_path(url)
                item = self.serialize_resource(ns, resource, url, kwargs)
                if item:
                    paths.setdefault(path, {}).update(item)
        for route in api.typed_routes:
            path, operations = route.openapi(self)
            if operations:
                paths.setdefault(path, {}).update(operations)
        if has_app_context() and current_app.config.get("RESTX_INCLUDE_ALL_MODELS"):
            for model in list(api.models.values()):
                self.register_model(model)
        schemas = {
            name: to_json_schema(model.__schema__)
            for name, model in sorted(self._registered_models.items())
        }
        schemas.update(self.extra_schemas)
        components: dict[str, t.Any] = {}
        if schemas:
            components["schemas"] = schemas
        if api.authorizations:
            components["securitySchemes"] = {
                k: _security_scheme(v) for k, v in api.authorizations.items()
            }
        doc: dict[str, t.Any] = {
            "openapi": "3.1.0",
            "info": info,
            "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
            "servers": [{"url": self.base_path()}],
            "paths": paths,
        }
        if components:
            doc["components"] = components
        if tags:
            doc["tags"] = tags
        security = self.security_requirements(api.security)
        if security:
            doc["security"] = security
        return doc

    def base_path(self) -> str:
        """The path prefix every operation path is relative to."""
        prefix = ""
        setup = self.api.blueprint_setup
        if setup is not None and setup.url_prefix:
            prefix = setup.url_prefix.rstrip("/")
        elif self.api.blueprint is not None and self.api.blueprint.url_prefix:
            prefix = self.api.blueprint.url_prefix.rstrip("/")
        return (prefix + (self.api.prefix or "")).rstrip("/") or "/"

    def security_requirements(self, value: t.Any) -> list[dict[str, list[str]]] | None:
        """Normalize ``security=`` (a name, a list, or dicts) into requirement objects."""
        if value is None:
            return None
        if isinstance(value, str):
            return [{value: []}]
        if isinstance(value, dict):
            return [{k: list(v) for k, v in value.items()}]
        result: list[dict[str, list[str]]] = []
        for item in value:
            result.extend(self.security_requirements(item) or [])
        return result

    def extract_resource_doc(
        self, resource: type, url: str, route_doc: t.Any = None
    ) -> t.Any:
        """Merge the class, route and method documentation of a resource."""
        base = getattr(resource, "__apidoc__", {})
        if base is False or route_doc is False:
            return False
        doc = merge(dict(base), route_doc or {})
        doc["name"] = resource.__name__
        params = merge(doc.get("params", {}), extract_path_params(url))
        doc["params"] = params
        for method in [m.lower() for m in (getattr(resource, "methods", None) or [])]:
            method_impl = getattr(resource, method, None)
            method_doc = doc.get(method, {})
            if method_doc is False:
                doc[method] = False
                continue
            impl_doc = getattr(method_impl, "__apidoc__", {})
            if impl_doc is False:
                doc[method] = False
                continue
            method_doc = merge(method_doc, impl_doc)
            method_doc["docstring"] = parse_docstring(method_impl)
            method_doc["params"] = merge(params, method_doc.get("params", {}))
            doc[method] = method_doc
        return doc

    def serialize_resource(
        self, ns: Namespace, resource: type, url: str, kwargs: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """Return the path item (operations by method) of one resource URL."""
        doc = self.extract_resource_doc(resource, url, kwargs.get("route_doc"))
        if doc is False:
            return {}
        item: dict[str, t.Any] = {}
        methods = {m.lower() for m in (getattr(resource, "methods", None) or [])}
        for method in HTTP_METHODS:
            if method not in methods or doc.get(method) is False:
                continue
            item[method] = self.serialize_operation(ns, resource, doc, method)
        return item

    def serialize_operation(
        self, ns: Namespace, resource: type, doc: dict[str, t.Any], method: str
    ) -> dict[str, t.Any]:
        """Return one operation object."""
        method_doc = doc[method]
        docstring = method_doc.get("docstring") or {}
        operation: dict[str, t.Any] = {
            "tags": [ns.name],
            "operationId": method_doc.get("id")
            or self.api.default_id(doc["name"], method),
        }
        summary = method_doc.get("summary") or docstring.get("summary")
        description = (
            method_doc.get("description")
            or doc.get("description")
            or docstring.get("details")
        )
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        parameters, body = self.parameters_for(method_doc, method)
        if parameters:
            operation["parameters"] = parameters
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self.responses_for(doc, method_doc)
        if method_doc.get("deprecated") or doc.get("deprecated"):
            operation["deprecated"] = True
        security = method_doc.get("security", doc.get("security"))
        requirements = self.security_requirements(security)
        if requirements is not None:
            operation["security"] = requirements
        vendor = merge(doc.get("vendor", {}), method_doc.get("vendor", {}))
        for key, value in vendor.items():
            operation[key if key.startswith("x-") else f"x-{key}"] = value
        return operation

    def parameters_for(
        self, doc: dict[str, t.Any], method: str
    ) -> tuple[list[dict[str, t.Any]], dict[str, t.Any] | None]:
        """Return the operation's parameters and request body."""
        params: dict[str, dict[str, t.Any]] = {}
        for name, param in (doc.get("params") or {}).items():
            param = dict(param)
            param.setdefault("name", name)
            param.setdefault("in", param.pop("_in", "query"))
            if param.get("in") == "path" and param.get("type") is None:
                param["type"] = "string"
            params[name] = param
        body: dict[str, t.Any] | None = None
        form_props: dict[str, t.Any] = {}
        form_required: list[str] = []
        body_props: dict[str, t.Any] = {}
        body_required: list[str] = []
        has_files = False
        for expect in doc.get("expect", []) or []:
            if isinstance(expect, RequestParser):
                for param in expect.__schema__:
                    where = param.get("in")
                    if where == "body":
                        model = self.api.models.get(param.get("type", ""))
                        if model is not None:
                            body = self._body(model)
                        else:
                            schema = _param_to_oas3(param)["schema"]
                            if param.get("description"):
                                schema["description"] = param["description"]
                            body_props[param["name"]] = schema
                            if param.get("required"):
                                body_required.append(param["name"])
                    elif where == "formData":
                        has_files = has_files or param.get("type") == "file"
                        schema = _param_to_oas3(param)["schema"]
                        if param.get("description"):
                            schema["description"] = param["description"]
                        form_props[param["name"]] = schema
                        if param.get("required"):
                            form_required.append(param["name"])
                    else:
                        params[param["name"]] = param
            elif isinstance(expect, (ModelBase, list, tuple, dict)):
                body = self._body(expect)
            elif isinstance(expect, tuple) and len(expect) == 2:
                body = self._body(expect[0], expect[1])
        for name, param in list(params.items()):
            if param.get("in") == "formData":
                has_files = has_files or param.get("type") == "file"
                form_props[name] = _param_to_oas3(param)["schema"]
                del params[name]
            elif param.get("in") == "body":
                del params[name]
        if body_props and body is None:
            body_schema: dict[str, t.Any] = {"type": "object", "properties": body_props}
            if body_required:
                body_schema["required"] = body_required
            body = {"content": {"application/json": {"schema": body_schema}}}
        if form_props and body is None:
            media = (
                "multipart/form-data"
                if has_files
                else "application/x-www-form-urlencoded"
            )
            form_schema: dict[str, t.Any] = {"type": "object", "properties": form_props}
            if form_required:
                form_schema["required"] = form_required
            body = {"content": {media: {"schema": form_schema}}}
        if (
            doc.get("__mask__")
            and has_app_context()
            and current_app.config.get("RESTX_MASK_SWAGGER", True)
        ):
            header = current_app.config.get("RESTX_MASK_HEADER", "X-Fields")
            params[header] = {
                "name": header,
                "in": "header",
                "type": "string",
                "format": "mask",
                "description": "An optional fields mask",
            }
        return [_param_to_oas3(p) for p in params.values()], body

    def _body(self, model: t.Any, description: str | None = None) -> dict[str, t.Any]:
        schema = self.register_model(model)
        return not_none(
            {
                "description": description,
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        )

    def responses_for(
        self, doc: dict[str, t.Any], method_doc: dict[str, t.Any]
    ) -> dict[str, t.Any]:
        """Return the operation's responses (``200 Success`` when none is documented)."""
        responses: dict[str, t.Any] = {}
        all_docs = merge(doc.get("responses", {}), method_doc.get("responses", {}))
        headers = merge(doc.get("headers", {}), method_doc.get("headers", {}))
        for code, spec in all_docs.items():
            description, model, kwargs = None, None, {}
            if isinstance(spec, str):
                description = spec
            elif isinstance(spec, (list, tuple)):
                description = spec[0] if spec else None
                model = spec[1] if len(spec) > 1 else None
                kwargs = spec[2] if len(spec) > 2 and isinstance(spec[2], dict) else {}
            elif isinstance(spec, dict):
                description = spec.get("description")
                model = spec.get("model")
            code = str(int(code)) if str(code).isdigit() else str(code)
            response: dict[str, t.Any] = {"description": description or _phrase(code)}
            if model is not None:
                response["content"] = {
                    "application/json": {"schema": self.register_model(model)}
                }
            if kwargs.get("headers"):
                response["headers"] = _headers(kwargs["headers"])
            responses[code] = response
        if not responses:
            responses["200"] = {"description": "Success"}
        if headers:
            for response in responses.values():
                if str(response) and "headers" not in response:
                    response["headers"] = _headers(headers)
                    break
        return responses


def _headers(headers: cabc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    result = {}
    for name, header in headers.items():
        if isinstance(header, str):
            header = {"description": header}
        header = dict(header)
        schema = {"type": header.pop("type", "string")}
        result[name] = not_none(
            {"description": header.get("description"), "schema": schema}
        )
    return result


def _phrase(code: str) -> str:
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "Response"
