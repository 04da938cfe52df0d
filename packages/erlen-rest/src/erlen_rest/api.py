"""``Api``: the entry point that binds namespaces and resources to an app or blueprint.

Errors raised by the API's own views are turned into JSON (RFC 9457 problem
details by default, ``{"message": ...}`` with ``REST_PROBLEM_DETAILS =
False``) inside those views: the app's error handling is never patched, and
errors elsewhere keep the app's handlers. Routing errors (405 on an API URL,
404 with ``catch_all_404s``) go through handlers registered with the app's
public ``register_error_handler``, which hand other URLs back to whatever
handled them before.
"""

from __future__ import annotations

import collections.abc as cabc
import difflib
import functools
import inspect
import itertools
import logging
import sys
import typing as t
from collections import OrderedDict
from http import HTTPStatus

from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotAcceptable
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response as _BaseResponse

from erlen import Blueprint
from erlen import current_app
from erlen import has_request_context
from erlen import make_response as erlen_make_response
from erlen import request
from erlen import url_for
from erlen.signals import got_request_exception

from .extension import rest_extension
from .extension import RestExtension
from .namespace import Namespace
from .postman import PostmanCollectionV1
from .representations import output_json
from .reqparse import RequestParser
from .utils import camel_to_dash
from .utils import default_id as _default_id
from .utils import unpack

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen
    from erlen.blueprints import BlueprintSetupState

__all__ = ["Api"]

DEFAULT_REPRESENTATIONS = [("application/json", output_json)]
PROBLEM_JSON = "application/problem+json"

RuleAdder = t.Callable[..., None]


class Api:
    """The main entry point: ``Api(app)`` or ``Api(blueprint)``, or ``init_app`` later.

    Accepts Flask-RESTX's options (``version``, ``title``, ``description``,
    ``doc``, ``prefix``, ``default_mediatype``, ``decorators``,
    ``catch_all_404s``, ``authorizations``, ``security``, ``validate``, ...).
    Unknown attributes fall through to the default namespace, so
    ``api.route``, ``api.model`` and ``api.expect`` work.
    """

    def __init__(
        self,
        app: t.Any = None,
        version: str = "1.0",
        title: str | None = None,
        description: str | None = None,
        terms_url: str | None = None,
        license: str | None = None,
        license_url: str | None = None,
        contact: str | None = None,
        contact_url: str | None = None,
        contact_email: str | None = None,
        authorizations: dict[str, t.Any] | None = None,
        security: t.Any = None,
        doc: str | bool = "/",
        default_id: t.Callable[[str, str], str] = _default_id,
        default: str = "default",
        default_label: str = "Default namespace",
        validate: bool | None = None,
        tags: list[t.Any] | None = None,
        prefix: str = "",
        ordered: bool = False,
        default_mediatype: str | None = "application/json",
        decorators: list[t.Callable[..., t.Any]] | None = None,
        catch_all_404s: bool = False,
        serve_challenge_on_401: bool = False,
        format_checker: t.Any = None,
        url_scheme: str | None = None,
        default_swagger_filename: str = "swagger.json",
        **kwargs: t.Any,
    ) -> None:
        self.version = version
        self.title = title or "API"
        self.description = description
        self.terms_url = terms_url
        self.contact = contact
        self.contact_email = contact_email
        self.contact_url = contact_url
        self.license = license
        self.license_url = license_url
        self.authorizations = authorizations
        self.security = security
        self.default_id = default_id
        self.ordered = ordered
        self._validate_setting = validate
        self._doc = doc
        self._doc_view: t.Callable[..., t.Any] | None = None
        self._default_error_handler: t.Callable[..., t.Any] | None = None
        self.tags = tags or []
        self.error_handlers: dict[type, t.Callable[..., t.Any]] = OrderedDict()
        self._schema: dict[str, t.Any] | None = None
        self.models: dict[str, t.Any] = {}
        self._refresolver = None
        self.format_checker = format_checker
        self.namespaces: list[Namespace] = []
        self.default_swagger_filename = default_swagger_filename
        self.ns_paths: dict[Namespace, str] = {}
        self.representations: dict[str, t.Callable[..., t.Any]] = OrderedDict(
            DEFAULT_REPRESENTATIONS
        )
        self.urls: dict[str, t.Any] = {}
        self.prefix = prefix
        self.default_mediatype = default_mediatype
        self.decorators = decorators if decorators else []
        self.catch_all_404s = catch_all_404s
        self.serve_challenge_on_401 = serve_challenge_on_401
        self.blueprint_setup: BlueprintSetupState | None = None
        self.endpoints: set[str] = set()
        self.resources: list[
            tuple[type, Namespace, tuple[str, ...], dict[str, t.Any]]
        ] = []
        self.app: t.Any = None
        self.blueprint: Blueprint | None = None
        self.url_scheme = url_scheme
        self._targets: list[tuple[RuleAdder, Erlen]] = []
        self.typed_routes: list[t.Any] = []
        self.default_namespace = self.namespace(
            default,
            default_label,
            endpoint=f"{default}-declaration",
            validate=validate,
            api=self,
            path="/",
        )
        if app is not None:
            self.app = app
            self.init_app(app)

    # -- binding -----------------------------------------------------------------

    def init_app(self, app: t.Any, **kwargs: t.Any) -> None:
        """Bind the API to an app or a blueprint; options as in the constructor may be given again."""
        self.app = app
        for key in (
            "title",
            "description",
            "terms_url",
            "license",
            "license_url",
            "contact",
            "contact_url",
            "contact_email",
        ):
            if key in kwargs:
                setattr(self, key, kwargs[key])
        self._add_specs = kwargs.get("add_specs", True)
        if "default_mediatype" in kwargs:
            self.default_mediatype = kwargs["default_mediatype"]
        if isinstance(app, Blueprint):
            self.blueprint = app
            app.record(self._deferred_blueprint_init)
        else:
            self._init_app(app, app.add_url_rule)

    def _deferred_blueprint_init(self, state: BlueprintSetupState) -> None:
        self.blueprint_setup = state
        self._init_app(state.app, state.add_url_rule)

    def _init_app(self, app: Erlen, add_rule: RuleAdder) -> None:
        rest_extension.attach(app, self)
        self._targets.append((add_rule, app))
        if getattr(self, "_add_specs", True):
            self._register_specs(add_rule)
            self._register_doc(add_rule)
        for resource, namespace, urls, kwargs in self.resources:
            self._register_view(add_rule, app, resource, namespace, *urls, **kwargs)
        for route in self.typed_routes:
            route.register(add_rule)
        for ns in self.namespaces:
            self._configure_namespace_logger(app, ns)
        self._register_routing_error_handlers(app)

    def _configure_namespace_logger(self, app: Erlen, ns: Namespace) -> None:
        ns.logger = logging.getLogger(f"{app.logger.name}.{ns.name}")

    # -- registration -------------------------------------------------------------

    def endpoint(self, name: str) -> str:
        """Return ``name`` as the app knows it (prefixed with the blueprint's name)."""
        if self.blueprint is not None:
            return f"{self.blueprint.name}.{name}"
        return name

    def _complete_url(self, url_part: str, registration_prefix: str = "") -> str:
        return (self.prefix or "") + registration_prefix + url_part

    def ns_urls(self, ns: Namespace, urls: cabc.Iterable[str]) -> list[str]:
        """Return ``urls`` under the namespace's path."""
        path = self.ns_paths.get(ns) or ns.path
        return [path.rstrip("/") + url for url in urls]

    def default_endpoint(self, resource: type, namespace: Namespace) -> str:
        """The endpoint of a resource registered without one: ``ns_resource_name``, then ``_2``, ``_3``..."""
        endpoint = camel_to_dash(resource.__name__)
        if namespace is not self.default_namespace:
            endpoint = f"{namespace.name}_{endpoint}"
        if endpoint in self.endpoints:
            base = endpoint
            for suffix in itertools.count(2):
                endpoint = f"{base}_{suffix}"
                if endpoint not in self.endpoints:
                    break
        return endpoint

    def register_resource(
        self, namespace: Namespace, resource: type, *urls: str, **kwargs: t.Any
    ) -> str:
        """Register a resource of ``namespace`` on ``urls``; return its endpoint."""
        endpoint = kwargs.pop("endpoint", None)
        endpoint = str(endpoint or self.default_endpoint(resource, namespace))
        kwargs["endpoint"] = endpoint
        self.endpoints.add(endpoint)
        self.resources.append((resource, namespace, urls, kwargs))
        for add_rule, app in self._targets:
            self._register_view(add_rule, app, resource, namespace, *urls, **kwargs)
        self._schema = None
        return endpoint

    def _register_view(
        self,
        add_rule: RuleAdder,
        app: Erlen,
        resource: type,
        namespace: Namespace,
        *urls: str,
        **kwargs: t.Any,
    ) -> None:
        kwargs = dict(kwargs)
        endpoint = kwargs.pop("endpoint", None) or camel_to_dash(resource.__name__)
        resource_class_args = kwargs.pop("resource_class_args", ())
        resource_class_kwargs = kwargs.pop("resource_class_kwargs", {})
        kwargs.pop("route_doc", None)
        full_endpoint = (
            self.endpoint(endpoint)
            if self.blueprint_setup is None
            else f"{self.blueprint_setup.name}.{endpoint}"
        )
        existing = app.view_functions.get(full_endpoint)
        if existing is not None:
            previous = getattr(existing, "view_class", None)
            if previous is not None and previous is not resource:
                raise ValueError(
                    f"The endpoint {endpoint!r} is already used by the resource class"
                    f" {previous.__name__}. Give {resource.__name__} another endpoint="
                )
        resource.mediatypes = self.mediatypes_method()  # type: ignore[attr-defined]
        resource.endpoint = endpoint  # type: ignore[attr-defined]
        view = self.output(
            t.cast(t.Any, resource).as_view(
                endpoint, self, *resource_class_args, **resource_class_kwargs
            )
        )
        for decorator in itertools.chain(namespace.decorators, self.decorators):
            view = decorator(view)
        if getattr(view, "__name__", endpoint) != endpoint:
            try:
                view.__name__ = endpoint
            except (AttributeError, TypeError):
                pass
        for url in urls:
            if getattr(view, "__name__", endpoint) == endpoint:
                add_rule(self._complete_url(url), view_func=view, **kwargs)
            else:
                add_rule(self._complete_url(url), endpoint, view, **kwargs)

    def add_resource(self, resource: type, *urls: str, **kwargs: t.Any) -> None:
        """Register a resource on the default namespace (Flask-RESTful's ``add_resource``)."""
        self.default_namespace.add_resource(resource, *urls, **kwargs)

    def namespace(self, *args: t.Any, **kwargs: t.Any) -> Namespace:
        """Create a :class:`Namespace` and add it to this API."""
        kwargs["ordered"] = kwargs.get("ordered", self.ordered)
        ns = Namespace(*args, **kwargs)
        self.add_namespace(ns)
        return ns

    def add_namespace(self, ns: Namespace, path: str | None = None) -> None:
        """Add a namespace (optionally on another ``path``) with its resources and models."""
        if ns not in self.namespaces:
            self.namespaces.append(ns)
            if self not in ns.apis:
                ns.apis.append(self)
        if path is not None:
            self.ns_paths[ns] = path
        for resource, urls, kwargs in ns.resources:
            self.register_resource(
                ns, resource, *self.ns_urls(ns, urls), **dict(kwargs)
            )
        for name, definition in ns.models.items():
            self.models[name] = definition
        if not self.authorizations and ns.authorizations:
            self.authorizations = {}
        if ns.authorizations:
            assert self.authorizations is not None
            self.authorizations.update(ns.authorizations)
        for _, app in self._targets:
            self._configure_namespace_logger(app, ns)

    def __getattr__(self, name: str) -> t.Any:
        if name in {
            "default_namespace",
            "__setstate__",
            "__getstate__",
        } or name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(self.default_namespace, name)
        except AttributeError:
            raise AttributeError(f"Api does not have {name} attribute") from None

    def route(self, *urls: str, **kwargs: t.Any) -> t.Callable[[t.Any], t.Any]:
        """Register a resource class on the default namespace (``doc=`` documents it)."""
        return self.default_namespace.route(*urls, **kwargs)

    # -- typed endpoints --------------------------------------------------------------

    def get(self, rule: str, **options: t.Any) -> t.Callable[[t.Any], t.Any]:
        """Register a typed ``GET`` endpoint (see :mod:`erlen_rest.typed`)."""
        return self.endpoint_route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: t.Any) -> t.Callable[[t.Any], t.Any]:
        """Register a typed ``POST`` endpoint."""
        return self.endpoint_route(rule, methods=["POST"], **options)

    def put(self, rule: str, **options: t.Any) -> t.Callable[[t.Any], t.Any]:
        """Register a typed ``PUT`` endpoint."""
        return self.endpoint_route(rule, methods=["PUT"], **options)

    def patch(self, rule: str, **options: t.Any) -> t.Callable[[t.Any], t.Any]:
        """Register a typed ``PATCH`` endpoint."""
        return self.endpoint_route(rule, methods=["PATCH"], **options)

    def delete(self, rule: str, **options: t.Any) -> t.Callable[[t.Any], t.Any]:
        """Register a typed ``DELETE`` endpoint."""
        return self.endpoint_route(rule, methods=["DELETE"], **options)

    def endpoint_route(
        self, rule: str, methods: list[str], **options: t.Any
    ) -> t.Callable[[t.Any], t.Any]:
        """Register a function as a typed endpoint: inputs from its type hints, output from ``response_model``."""
        from .typed import TypedRoute

        def decorator(func: t.Any) -> t.Any:
            route = TypedRoute(self, rule, methods, func, **options)
            self.typed_routes.append(route)
            self.endpoints.add(route.endpoint)
            for add_rule, _ in self._targets:
                route.register(add_rule)
            self._schema = None
            return func

        return decorator

    # -- output -----------------------------------------------------------------------

    def output(self, resource: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Wrap a view so that its return value becomes a negotiated response and its errors JSON."""

        @functools.wraps(resource)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            try:
                resp = resource(*args, **kwargs)
                if isinstance(resp, _BaseResponse):
                    return resp
                data, code, headers = unpack(resp)
                return self.make_response(data, code, headers=headers)
            except Exception as exc:
                return self.handle_error(exc)

        return wrapper

    def make_response(self, data: t.Any, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Build a response in the best media type the client accepts (406 when none fits)."""
        fallback = kwargs.pop("fallback_mediatype", None)
        default_mediatype = fallback or self.default_mediatype
        mediatype = (
            request.accept_mimetypes.best_match(list(self.representations))
            if default_mediatype is None
            else request.accept_mimetypes.best_match(
                list(self.representations), default=default_mediatype
            )
        )
        if mediatype is None:
            raise NotAcceptable()
        if mediatype in self.representations:
            resp = self.representations[mediatype](data, *args, **kwargs)
            resp.headers["Content-Type"] = mediatype
            return resp
        if mediatype == "text/plain":
            resp = erlen_make_response((str(data), *args))
            headers = kwargs.get("headers")
            if headers:
                resp.headers.extend(headers)
            resp.headers["Content-Type"] = "text/plain"
            return resp
        raise InternalServerError()

    def mediatypes_method(self) -> t.Callable[[t.Any], list[str]]:
        """Return a function listing the media types the client accepts."""
        return lambda resource_cls: self.mediatypes() + [self.default_mediatype or ""]

    def mediatypes(self) -> list[str]:
        """The media types of the request's ``Accept`` header, best first."""
        return [
            h
            for h, q in sorted(
                request.accept_mimetypes, key=lambda x: x[1], reverse=True
            )
        ]

    def representation(self, mediatype: str) -> t.Callable[[t.Any], t.Any]:
        """Register a function ``(data, code, headers) -> Response`` for ``mediatype``."""

        def wrapper(func: t.Any) -> t.Any:
            self.representations[mediatype] = func
            return func

        return wrapper

    # -- errors -------------------------------------------------------------------------

    def errorhandler(self, exception: t.Any) -> t.Any:
        """Register a handler for an exception class; without a class, the default handler."""
        if inspect.isclass(exception) and issubclass(exception, BaseException):

            def wrapper(func: t.Any) -> t.Any:
                self.error_handlers[exception] = func
                return func

            return wrapper
        self._default_error_handler = exception
        return exception

    @property
    def _own_and_child_error_handlers(self) -> dict[type, t.Callable[..., t.Any]]:
        handlers: dict[type, t.Callable[..., t.Any]] = OrderedDict()
        for ns in self.namespaces:
            handlers.update(ns.error_handlers)
        handlers.update(self.error_handlers)
        return handlers

    def _propagate(self) -> bool:
        propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
        if propagate is None:
            propagate = current_app.testing or current_app.debug
        return bool(propagate)

    def handle_error(self, e: Exception) -> t.Any:
        """Turn an exception into a response, with this API's (and its namespaces') handlers.

        Without a handler, an error that is not an HTTP error propagates when
        ``PROPAGATE_EXCEPTIONS`` (or debug/testing) says so, else becomes a 500.
        """
        include_message = current_app.config.get("ERROR_INCLUDE_MESSAGE", True)
        default_data: dict[str, t.Any] = {}
        headers: t.Any = Headers()
        handled = False
        code: int = 500
        for exc_class, handler in self._own_and_child_error_handlers.items():
            if isinstance(e, exc_class):
                result = handler(e)
                default_data, code, headers = unpack(
                    result, HTTPStatus.INTERNAL_SERVER_ERROR
                )
                handled = True
                break
        if not handled:
            got_request_exception.send(current_app._get_current_object(), exception=e)  # type: ignore[attr-defined]
            if isinstance(e, HTTPException):
                code = (
                    e.code
                    if e.code is not None
                    else (e.response.status_code if e.response is not None else 500)
                )
                description = e.description or HTTPStatus(code).phrase
                default_data = {"message": description}
                headers = Headers(
                    (k, v)
                    for k, v in e.get_response().headers.items()
                    if k.lower() not in {"content-type", "content-length"}
                )
            elif self._default_error_handler is not None:
                result = self._default_error_handler(e)
                default_data, code, headers = unpack(
                    result, HTTPStatus.INTERNAL_SERVER_ERROR
                )
                handled = True
            else:
                if self._propagate():
                    exc_type, exc_value, tb = sys.exc_info()
                    if exc_value is e:
                        raise
                    raise e
                code = HTTPStatus.INTERNAL_SERVER_ERROR
                default_data = {"message": HTTPStatus(code).phrase}
        if not isinstance(code, int):
            code = 500
        data = getattr(e, "data", default_data)
        fallback = None
        if code >= 500 and not isinstance(e, HTTPException) and not handled:
            current_app.log_exception(sys.exc_info())
        elif (
            code == HTTPStatus.NOT_FOUND
            and self._help_on_404_enabled()
            and isinstance(data, dict)
            and "message" in data
        ):
            data = dict(data, message=self._help_on_404(data.get("message", "")))
        elif code == HTTPStatus.NOT_ACCEPTABLE and self.default_mediatype is None:
            supported = list(self.representations)
            fallback = supported[0] if supported else "text/plain"
        if not include_message and isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "message"}
        problem = self._problem_details_enabled() and not handled
        if problem and isinstance(data, dict):
            data = self._as_problem(data, code)
        resp = self.make_response(data, code, headers, fallback_mediatype=fallback)
        if problem and resp.headers.get("Content-Type") == "application/json":
            resp.headers["Content-Type"] = PROBLEM_JSON
        if code == HTTPStatus.UNAUTHORIZED:
            resp = self.unauthorized(resp)
        return resp

    def _problem_details_enabled(self) -> bool:
        return bool(current_app.config.get("REST_PROBLEM_DETAILS", True))

    def _as_problem(self, data: dict[str, t.Any], code: int) -> dict[str, t.Any]:
        try:
            title = HTTPStatus(code).phrase
        except ValueError:
            title = "Error"
        problem: dict[str, t.Any] = {
            "type": "about:blank",
            "title": title,
            "status": code,
        }
        if "message" in data:
            problem["detail"] = data["message"]
        for key, value in data.items():
            if key != "message" and key not in problem:
                problem[key] = value
        if has_request_context():
            problem.setdefault("instance", request.path)
        return problem

    def _help_on_404_enabled(self) -> bool:
        config = current_app.config
        return bool(
            config.get("RESTX_ERROR_404_HELP", config.get("ERROR_404_HELP", True))
        )

    def _help_on_404(self, message: str) -> str:
        if not has_request_context():
            return message
        rules = {rule.rule: rule for rule in current_app.url_map.iter_rules()}
        close = difflib.get_close_matches(request.path, list(rules))
        if close:
            message = (message.rstrip(".") + ". " if message else "") + (
                f"You have requested this URI [{request.path}] but did you mean "
                + " or ".join(close)
                + " ?"
            )
        return message

    def error_router(
        self, original_handler: t.Callable[[Exception], t.Any], e: Exception
    ) -> t.Any:
        """Handle ``e`` with the API when the request is one of its routes, else with ``original_handler``."""
        if self._has_fr_route():
            try:
                return self.handle_error(e)
            except Exception as f:
                return original_handler(f)
        return original_handler(e)

    def _has_fr_route(self) -> bool:
        """Tell whether the current request is (or would be, but for its method) one of this API's routes."""
        if not has_request_context():
            return False
        if self._should_use_fr_error_handler():
            return True
        if request.url_rule is None:
            return False
        return self.owns_endpoint(request.url_rule.endpoint)

    def _should_use_fr_error_handler(self) -> bool:
        """Tell whether a routing error of the current request belongs to this API."""
        adapter = current_app.url_map.bind_to_environ(request.environ)
        try:
            adapter.match(method=request.method)
        except MethodNotAllowed as e:
            valid = list(e.valid_methods or [])
            if not valid:
                return False
            rule, _ = adapter.match(method=valid[0], return_rule=True)
            return self.owns_endpoint(rule.endpoint)
        except NotFound:
            return self.catch_all_404s
        except HTTPException:
            return False
        return False

    def _routing_match_is_ours(self) -> bool:
        return self._should_use_fr_error_handler()

    def owns_endpoint(self, endpoint: str) -> bool:
        """Tell whether ``endpoint`` is one of this API's."""
        if self.blueprint is not None:
            prefix = f"{self.blueprint.name}."
            if not endpoint.startswith(prefix):
                return False
            endpoint = endpoint[len(prefix) :]
        return endpoint in self.endpoints

    def _register_routing_error_handlers(self, app: Erlen) -> None:
        codes = [405] + ([404] if self.catch_all_404s else [])
        for code in codes:
            previous = (
                getattr(app, "error_handler_spec", {}).get(None, {}).get(code, {})
            )
            exc_class = MethodNotAllowed if code == 405 else NotFound
            before = previous.get(exc_class)

            def handler(
                e: Exception, before: t.Any = before, code: int = code
            ) -> t.Any:
                if code == 404 or self._routing_match_is_ours():
                    return self.handle_error(e)
                if before is not None:
                    return before(e)
                return e

            app.register_error_handler(code, handler)

    def unauthorized(self, response: t.Any) -> t.Any:
        """Add a ``WWW-Authenticate`` challenge when ``serve_challenge_on_401`` is set."""
        if self.serve_challenge_on_401:
            realm = current_app.config.get("HTTP_BASIC_AUTH_REALM", "flask-restx")
            response.headers["WWW-Authenticate"] = f'Basic realm="{realm}"'
        return response

    # -- documentation --------------------------------------------------------------------

    @property
    def _validate(self) -> bool:
        if self._validate_setting is not None:
            return self._validate_setting
        return bool(current_app.config.get("RESTX_VALIDATE", False))

    @property
    def refresolver(self) -> dict[str, t.Any]:
        """The models JSON Schema references are resolved against."""
        return self.models

    def _register_specs(self, add_rule: RuleAdder) -> None:
        self.endpoints.add("specs")
        add_rule(
            self._complete_url("/" + self.default_swagger_filename),
            "specs",
            self.output(self._specs_view),
        )
        if self.default_swagger_filename != "openapi.json":
            self.endpoints.add("openapi")
            add_rule(
                self._complete_url("/openapi.json"),
                "openapi",
                self.output(self._specs_view),
            )

    def _specs_view(self) -> t.Any:
        return self.__schema__, 200

    def _register_doc(self, add_rule: RuleAdder) -> None:
        from .docs import render_docs
        from .docs import render_redoc
        from .docs import serve_asset
        from .docs import serve_redoc_asset

        if self._doc:
            doc_path = self._complete_url(str(self._doc))
            self.endpoints.update({"doc", "swaggerui", "redoc", "redoc_asset"})
            add_rule(doc_path, "doc", lambda: render_docs(self))
            add_rule(
                doc_path.rstrip("/") + "/swaggerui/<path:filename>",
                "swaggerui",
                serve_asset,
            )
            add_rule(
                doc_path.rstrip("/") + "/redoc", "redoc", lambda: render_redoc(self)
            )
            add_rule(
                doc_path.rstrip("/") + "/redoc/<path:filename>",
                "redoc_asset",
                serve_redoc_asset,
            )
        self.endpoints.add("root")
        add_rule(self.prefix or "/", "root", self.output(self._render_root))

    def _render_root(self) -> t.Any:
        from . import errors

        errors.abort(HTTPStatus.NOT_FOUND)

    def documentation(self, func: t.Any) -> t.Any:
        """Use ``func`` to render the documentation page."""
        self._doc_view = func
        return func

    @property
    def __schema__(self) -> dict[str, t.Any]:
        """The OpenAPI 3.1 document of this API."""
        from .swagger import Swagger

        return Swagger(self).as_dict()

    @property
    def specs_url(self) -> str:
        """The URL of the OpenAPI document."""
        return (
            url_for(
                self.endpoint("specs"),
                _external=bool(self.url_scheme),
                _scheme=self.url_scheme,
            )
            if self.url_scheme
            else url_for(self.endpoint("specs"))
        )

    @property
    def base_url(self) -> str:
        """The API's absolute root URL."""
        if self.url_scheme:
            return url_for(
                self.endpoint("root"), _scheme=self.url_scheme, _external=True
            )
        return url_for(self.endpoint("root"), _external=True)

    @property
    def base_path(self) -> str:
        """The API's root path."""
        return url_for(self.endpoint("root"), _external=False)

    def url_for(self, resource: t.Any, **values: t.Any) -> str:
        """Build the URL of a resource class (or endpoint name)."""
        endpoint = resource if isinstance(resource, str) else resource.endpoint
        return url_for(self.endpoint(endpoint), **values)

    @property
    def payload(self) -> t.Any:
        """The JSON body of the request: malformed JSON is a 400, a body that is not JSON a 415."""
        return request.get_json()

    def parser(self) -> RequestParser:
        """Return a new :class:`~erlen_rest.reqparse.RequestParser`."""
        return RequestParser()

    def as_postman(
        self, urlvars: bool = False, swagger: bool = False
    ) -> dict[str, t.Any]:
        """Export the API as a Postman collection (v1)."""
        return PostmanCollectionV1(self, swagger=swagger).as_dict(urlvars=urlvars)

    def get_extension(self) -> RestExtension:
        """Return the extension object that keeps per-app state."""
        return rest_extension
