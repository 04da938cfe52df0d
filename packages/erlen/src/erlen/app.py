"""``Erlen``: the application object and its request pipeline.

The pipeline reads top to bottom in :meth:`Erlen.wsgi_app`: push the contexts
(which match the URL), run the before-request hooks, call the view, turn its
return value into a response, run the after-request hooks and save the
session, send the response, tear down. Hook chains are resolved once per
blueprint and cached until a hook registry changes; every cache the app keeps
is listed in ``docs/internals.md``.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import os
import sys
import typing as t
import weakref
from datetime import timedelta
from types import TracebackType
from urllib.parse import quote as _url_quote

from werkzeug.datastructures import Headers
from werkzeug.datastructures import ImmutableDict
from werkzeug.exceptions import Aborter
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import SecurityError
from werkzeug.routing import BuildError
from werkzeug.routing import MapAdapter
from werkzeug.routing import RequestRedirect
from werkzeug.routing import RoutingException
from werkzeug.routing import Rule
from werkzeug.routing import WebsocketMismatch
from werkzeug.routing.map import Map
from werkzeug.utils import cached_property
from werkzeug.utils import get_content_type
from werkzeug.utils import redirect as _wz_redirect
from werkzeug.wrappers import Response as BaseResponse

from . import typing as ft
from ._werkzeug_compat import new_map_adapter
from .asgi import asgi_app as _serve_asgi
from .asgi import mark_coroutine_function
from .config import check_limit_types
from .config import Config
from .config import ConfigAttribute
from .ctx import _AppCtxGlobals
from .ctx import _sentinel
from .ctx import AppContext
from .ctx import RequestContext
from .globals import _cv_app
from .globals import _cv_request
from .globals import g
from .globals import request
from .globals import session
from .helpers import get_debug_flag
from .helpers import get_flashed_messages
from .helpers import get_load_dotenv
from .helpers import release_streams
from .helpers import ReleasingAppIter
from .inputs import check_host_header
from .inputs import check_host_syntax
from .inputs import URL_CONVERTERS
from .json.provider import DefaultJSONProvider
from .json.provider import JSONProvider
from .logging import create_logger
from .scaffold import _endpoint_from_view_func
from .scaffold import find_package
from .scaffold import HookList
from .scaffold import Scaffold
from .scaffold import setupmethod
from .security import DEFAULT_SECURITY_HEADERS
from .security import safe_redirect_location
from .security import SecurityHeaderPolicy
from .sessions import SecureCookieSessionInterface
from .sessions import SessionInterface
from .signals import appcontext_tearing_down
from .signals import got_request_exception
from .signals import request_finished
from .signals import request_started
from .signals import request_tearing_down
from .templating import Environment
from .wrappers import _blueprint_chain
from .wrappers import Request
from .wrappers import Response

if t.TYPE_CHECKING:  # pragma: no cover
    from logging import Logger

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment
    from click import Group
    from jinja2 import BaseLoader

    from .asgi import Receive
    from .asgi import Scope
    from .asgi import Send
    from .blueprints import Blueprint
    from .testing import ErlenClient
    from .testing import ErlenCliRunner

T_shell_context_processor = t.TypeVar(
    "T_shell_context_processor", bound=ft.ShellContextProcessorCallable
)
T_serving = t.TypeVar("T_serving", bound=t.Callable[[], t.Any])
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_template_filter = t.TypeVar("T_template_filter", bound=ft.TemplateFilterCallable)
T_template_global = t.TypeVar("T_template_global", bound=ft.TemplateGlobalCallable)
T_template_test = t.TypeVar("T_template_test", bound=ft.TemplateTestCallable)


#: Characters left as they are in ``url_for(_anchor=...)``: RFC 3986 allows them in
#: a fragment.
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"

#: Werkzeug's ``Request.host``: hosts are remembered only for request classes
#: that keep it (a class with its own ``host`` computes it each time).
_REQUEST_HOST = Request.host
#: At most this many hosts are remembered per app, each from a ``Host``
#: header of at most ``_MAX_KNOWN_HOST`` characters.
_MAX_KNOWN_HOSTS = 64
_MAX_KNOWN_HOST = 255


def _default_content_type(app: Erlen) -> str | None:
    """``text/html; charset=utf-8`` for the app's response class, computed once
    per class and mimetype (the app keeps it)."""
    response_class = app.response_class
    mimetype = response_class.default_mimetype
    cached = app._content_type
    if cached[0] is response_class and cached[1] == mimetype:
        return cached[2]
    value = None if mimetype is None else get_content_type(mimetype, "utf-8")
    app._content_type = (response_class, mimetype, value)
    return value


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class _HookChain:
    """The hooks that apply to requests of one blueprint, in the order they run,
    as the registries were at :attr:`version` of the app's setup.

    The one place that orders hooks: :attr:`before` and the others are wrapped
    with ``ensure_sync`` for the sync pipeline; :attr:`raw_before` is the same
    hooks unwrapped, for the ASGI entry, which awaits async ones on its loop.
    """

    __slots__ = (
        "version",
        "url_value_preprocessors",
        "raw_before",
        "any_async",
        "before",
        "after",
        "teardown",
        "before_websocket",
        "after_websocket",
    )

    def __init__(self, app: Erlen, blueprint: str | None) -> None:
        self.version = app._setup_version.n
        chain = [] if blueprint is None else _blueprint_chain(blueprint)
        outer_first = (None, *reversed(chain))
        inner_first = (*chain, None)
        sync = app.ensure_sync
        self.url_value_preprocessors: tuple[t.Callable[..., t.Any], ...] = tuple(
            f for n in outer_first for f in app.url_value_preprocessors.get(n, ())
        )
        self.raw_before: tuple[t.Callable[..., t.Any], ...] = tuple(
            f for n in outer_first for f in app.before_request_funcs.get(n, ())
        )
        #: Whether a URL value preprocessor or before-request hook is async
        #: (the ASGI entry then awaits them on its loop).
        self.any_async = any(
            inspect.iscoroutinefunction(f)
            for f in (*self.url_value_preprocessors, *self.raw_before)
        )
        self.before = tuple(sync(f) for f in self.raw_before)
        self.after = tuple(
            sync(f)
            for n in inner_first
            for f in reversed(app.after_request_funcs.get(n, ()))
        )
        self.teardown = tuple(
            sync(f)
            for n in inner_first
            for f in reversed(app.teardown_request_funcs.get(n, ()))
        )
        #: The WebSocket hooks, unwrapped: the ASGI entry awaits async ones.
        self.before_websocket: tuple[t.Callable[[], t.Any], ...] = tuple(
            f for n in outer_first for f in app.before_websocket_funcs.get(n, ())
        )
        self.after_websocket: tuple[t.Callable[[], t.Any], ...] = tuple(
            f
            for n in inner_first
            for f in reversed(app.after_websocket_funcs.get(n, ()))
        )


def _run_all(
    funcs: t.Iterable[t.Callable[[BaseException | None], t.Any]],
    exc: BaseException | None,
) -> None:
    """Call every function even if some raise, then raise the first error."""
    first_error: Exception | None = None
    for func in funcs:
        try:
            func(exc)
        except Exception as e:
            if first_error is None:
                first_error = e
    if first_error is not None:
        raise first_error


class Erlen(Scaffold):
    """The application: a WSGI callable that holds routes, config, hooks and extensions.

    Create it in your main module or package, ``app = Erlen(__name__)``; the
    import name locates templates, static files and the instance folder.

    :param static_url_path: URL prefix of the static route; defaults to
        ``/<static_folder>``.
    :param static_folder: folder of static files, relative to ``root_path``;
        ``None`` disables the static route.
    :param static_host: host of the static route, required with ``host_matching``.
    :param host_matching: match ``host=`` on rules.
    :param subdomain_matching: match ``subdomain=`` on rules against ``SERVER_NAME``.
    :param template_folder: folder of templates, relative to ``root_path``.
    :param instance_path: absolute path of the instance folder; found
        automatically by default.
    :param instance_relative_config: load relative config files from the
        instance folder instead of ``root_path``.
    :param root_path: the app's folder, when it cannot be found from ``import_name``.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    aborter_class = Aborter
    jinja_environment = Environment
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    url_rule_class = Rule
    url_map_class = Map
    test_client_class: type[ErlenClient] | None = None
    test_cli_runner_class: type[ErlenCliRunner] | None = None
    session_interface: SessionInterface = SecureCookieSessionInterface()
    jinja_options: dict[str, t.Any] = {}

    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute["str | bytes | None"]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME",
        get_converter=_make_timedelta,  # type: ignore[arg-type]
    )

    default_config = ImmutableDict(
        {
            "DEBUG": None,
            "TESTING": False,
            "PROPAGATE_EXCEPTIONS": None,
            "SECRET_KEY": None,
            "SECRET_KEY_FALLBACKS": None,
            "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
            "USE_X_SENDFILE": False,
            "TRUSTED_HOSTS": None,
            "SERVER_NAME": None,
            "APPLICATION_ROOT": "/",
            "SESSION_COOKIE_NAME": "session",
            "SESSION_COOKIE_DOMAIN": None,
            "SESSION_COOKIE_PATH": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SECURE": False,
            "SESSION_COOKIE_PARTITIONED": False,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_REFRESH_EACH_REQUEST": True,
            "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
            "MAX_FORM_MEMORY_SIZE": 500_000,
            "MAX_FORM_PARTS": 1_000,
            "SEND_FILE_MAX_AGE_DEFAULT": None,
            "TRAP_BAD_REQUEST_ERRORS": None,
            "TRAP_HTTP_EXCEPTIONS": False,
            "EXPLAIN_TEMPLATE_LOADING": False,
            "PREFERRED_URL_SCHEME": "http",
            "TEMPLATES_AUTO_RELOAD": None,
            "MAX_COOKIE_SIZE": 4093,
            "PROVIDE_AUTOMATIC_OPTIONS": True,
            "MAX_JSON_DEPTH": 256,
            "SECURITY_HEADERS": dict(DEFAULT_SECURITY_HEADERS),
            "STRICT_TRANSPORT_SECURITY": "max-age=31536000",
            "ASGI_MAX_THREADS": 40,
            "ASGI_BODY_TIMEOUT": 30,
            "WEBSOCKET_MAX_MESSAGE_SIZE": 1024 * 1024,
            "WEBSOCKET_IDLE_TIMEOUT": 300,
            "WEBSOCKET_ALLOWED_ORIGINS": None,
        }
    )

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute."
                " A relative path was given instead."
            )
        #: Folder for files that belong to this deployment, not the code.
        self.instance_path = instance_path
        self.config = self.make_config(instance_relative_config)
        self.aborter = self.make_aborter()
        #: The JSON provider; ``app.json.sort_keys = False`` and the like.
        self.json: JSONProvider = self.json_provider_class(self)
        self.url_build_error_handlers: list[
            t.Callable[[Exception, str, dict[str, t.Any]], str]
        ] = []
        self.teardown_appcontext_funcs: list[ft.TeardownCallable] = HookList(
            self._setup_version
        )
        self.shell_context_processors: list[ft.ShellContextProcessorCallable] = []
        #: Registered blueprints by their (dotted) name.
        self.blueprints: dict[str, Blueprint] = {}
        #: Per-app state of extensions, by extension name.
        self.extensions: dict[str, t.Any] = {}
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.url_map.converters.update(URL_CONVERTERS)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        # The caches below are listed, with what fills and invalidates each,
        # in docs/internals.md.
        self._hook_chains: dict[str | None, _HookChain] = {}
        self._appctx_teardown: tuple[int, tuple[t.Callable[..., t.Any], ...]] | None
        self._appctx_teardown = None
        self._sync_views: dict[str, tuple[t.Any, t.Callable[..., t.Any]]] = {}
        self._security_headers: SecurityHeaderPolicy | None = None
        self._known_hosts: dict[
            tuple[str, str | None, t.Any], tuple[str, str | None]
        ] = {}
        #: Functions run on ASGI lifespan startup and shutdown, and generators
        #: wrapped around serving; see :meth:`before_serving`.
        self.before_serving_funcs: list[t.Callable[[], t.Any]] = []
        self.after_serving_funcs: list[t.Callable[[], t.Any]] = []
        self.while_serving_funcs: list[t.Callable[[], t.Any]] = []
        self._serving_gens: list[t.Any] = []
        self._content_type: tuple[t.Any, str | None, str | None] = (None, None, None)
        #: Session signing serializers, by (interface, secret key, fallbacks).
        self._session_serializers: dict[t.Any, t.Any] = {}
        self.template_context_processors[None].append(_default_template_ctx_processor)

        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise AssertionError(
                    "Invalid static_host/host_matching combination: 'static_host'"
                    " must be set if and only if 'host_matching' is true."
                )
            self_ref = weakref.ref(self)
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=lambda **kw: self_ref().send_static_file(**kw),  # type: ignore[union-attr]
            )

    # -- identity, config, logging -------------------------------------------

    @cached_property
    def name(self) -> str:
        """The app's name: the import name, or the script name when run as ``__main__``."""
        if self.import_name == "__main__":
            fn: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return os.path.splitext(os.path.basename(fn))[0]
        return self.import_name

    @cached_property
    def logger(self) -> Logger:
        """The ``logging`` logger named after the app; DEBUG level in debug mode."""
        return create_logger(self)

    @cached_property
    def cli(self) -> Group:
        """The app's command group; commands run inside an app context."""
        from .cli import AppGroup

        group = AppGroup()
        group.name = self.name
        return group

    @property
    def debug(self) -> bool:
        """Debug mode, the ``DEBUG`` config key; set it before serving."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if (
            self.config["TEMPLATES_AUTO_RELOAD"] is None
            and "jinja_env" in self.__dict__
        ):
            self.jinja_env.auto_reload = value

    def make_config(self, instance_relative: bool = False) -> Config:
        """Create :attr:`config` from :attr:`default_config` and ``ERLEN_DEBUG``.

        Dict values (``SECURITY_HEADERS``) are copied, so changing them in
        place affects this app only.
        """
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = {
            k: dict(v) if isinstance(v, dict) else v
            for k, v in self.default_config.items()
        }
        defaults["DEBUG"] = get_debug_flag()
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        """Create the object :func:`abort` uses to raise HTTP errors."""
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        """``<project>/instance`` next to the package, or ``<prefix>/var/<name>-instance``."""
        prefix, package_path = find_package(self.import_name)
        if prefix is None:
            return os.path.join(package_path, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        """Open a file in the instance folder; unlike resources, it may be written."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called"
                " on the application. It has already handled its first"
                " request, any changes will not be applied"
                " consistently.\n"
                "Make sure all imports, decorators, functions, etc."
                " needed to set up the application are done before"
                " running it."
            )
        self._setup_version.n += 1

    # -- templates -----------------------------------------------------------

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment, created on first use."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Create the Jinja environment from :attr:`jinja_options` and the app's globals."""
        options = dict(self.jinja_options)
        if "autoescape" not in options:
            options["autoescape"] = self.select_jinja_autoescape
        if "auto_reload" not in options:
            auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
            if auto_reload is None:
                auto_reload = self.debug
            options["auto_reload"] = auto_reload
        rv = self.jinja_environment(self, **options)
        rv.globals.update(
            url_for=self.url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            request=request,
            session=session,
            g=g,
        )
        rv.policies["json.dumps_function"] = self.json.dumps
        return rv

    def create_global_jinja_loader(self) -> BaseLoader:
        """The loader that searches the app's templates, then each blueprint's."""
        from .templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape string templates and ``.html .htm .xml .xhtml .svg`` files."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        """Add the context processors' values; values passed to render win."""
        req_ctx = _cv_request.get(None)
        names: t.Iterable[str | None] = (None,)
        if req_ctx is not None:
            names = (None, *reversed(req_ctx.request.blueprints))
        orig_ctx = context.copy()
        for name in names:
            for func in self.template_context_processors.get(name, ()):
                context.update(self.ensure_sync(func)())
        context.update(orig_ctx)

    def _template_decorator(self, kind: str, name: t.Any) -> t.Any:
        add = getattr(self, f"add_template_{kind}")
        if callable(name):
            add(name)
            return name

        def decorator(f: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
            add(f, name=name)
            return f

        return decorator

    @t.overload
    def template_filter(self, name: T_template_filter) -> T_template_filter: ...
    @t.overload
    def template_filter(
        self, name: str | None = None
    ) -> t.Callable[[T_template_filter], T_template_filter]: ...
    @setupmethod
    def template_filter(self, name: t.Any = None) -> t.Any:
        """Register a Jinja filter; works with or without parentheses."""
        return self._template_decorator("filter", name)

    @setupmethod
    def add_template_filter(
        self, f: ft.TemplateFilterCallable, name: str | None = None
    ) -> None:
        """Register ``f`` as a Jinja filter, named ``name`` or after the function."""
        self.jinja_env.filters[name or f.__name__] = f

    @t.overload
    def template_test(self, name: T_template_test) -> T_template_test: ...
    @t.overload
    def template_test(
        self, name: str | None = None
    ) -> t.Callable[[T_template_test], T_template_test]: ...
    @setupmethod
    def template_test(self, name: t.Any = None) -> t.Any:
        """Register a Jinja test; works with or without parentheses."""
        return self._template_decorator("test", name)

    @setupmethod
    def add_template_test(
        self, f: ft.TemplateTestCallable, name: str | None = None
    ) -> None:
        """Register ``f`` as a Jinja test, named ``name`` or after the function."""
        self.jinja_env.tests[name or f.__name__] = f

    @t.overload
    def template_global(self, name: T_template_global) -> T_template_global: ...
    @t.overload
    def template_global(
        self, name: str | None = None
    ) -> t.Callable[[T_template_global], T_template_global]: ...
    @setupmethod
    def template_global(self, name: t.Any = None) -> t.Any:
        """Register a Jinja global; works with or without parentheses."""
        return self._template_decorator("global", name)

    @setupmethod
    def add_template_global(
        self, f: ft.TemplateGlobalCallable, name: str | None = None
    ) -> None:
        """Register ``f`` as a Jinja global, named ``name`` or after the function."""
        self.jinja_env.globals[name or f.__name__] = f

    # -- registration ----------------------------------------------------------

    @setupmethod
    def teardown_appcontext(self, f: T_teardown) -> T_teardown:
        """Run ``f(error)`` when the app context is popped, even after an error."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(
        self, f: T_shell_context_processor
    ) -> T_shell_context_processor:
        """Add the dict ``f()`` returns to the ``erlen shell`` namespace."""
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        """The namespace of ``erlen shell``: ``app``, ``g`` and the processors' values."""
        rv: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            rv.update(processor())
        return rv

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        """Register a blueprint; options: ``name``, ``url_prefix``, ``subdomain``,
        ``url_defaults``, ``cli_group``."""
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        """The registered blueprints, in registration order."""
        return self.blueprints.values()

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule; see :meth:`route`.

        Methods default to the view's ``methods`` attribute, else ``GET``;
        ``OPTIONS`` is answered automatically unless turned off.
        """
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for"
                ' example: @app.route(..., methods=["POST"])'
            )
        methods = {item.upper() for item in methods}
        required_methods: set[str] = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(
                view_func, "provide_automatic_options", None
            )
        if provide_automatic_options is None:
            provide_automatic_options = (
                "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
            if provide_automatic_options:
                required_methods.add("OPTIONS")
        methods |= required_methods

        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]
        self.url_map.add(rule_obj)
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    # -- contexts ----------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An app context, for CLI commands, jobs and tests: ``with app.app_context():``."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """A request context for a WSGI environ; :meth:`wsgi_app` pushes one per request."""
        return RequestContext(self, environ)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context built from test-client arguments (path, method, data...)."""
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    # -- the request pipeline ----------------------------------------------------

    @t.overload
    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse, /
    ) -> cabc.Iterable[bytes]: ...
    @t.overload
    def __call__(
        self, scope: Scope, receive: Receive, send: Send, /
    ) -> cabc.Coroutine[t.Any, t.Any, None]: ...
    def __call__(
        self,
        environ_or_scope: t.Any,
        start_response_or_receive: t.Any,
        send: Send | None = None,
        /,
    ) -> t.Any:
        """The WSGI entry point ``(environ, start_response)`` and the ASGI 3 one
        ``(scope, receive, send)``, told apart by how the server calls the app.

        They call :meth:`wsgi_app` and :meth:`asgi_app`, so middleware can wrap those.
        """
        if send is None:
            return self.wsgi_app(environ_or_scope, start_response_or_receive)
        return self.asgi_app(environ_or_scope, start_response_or_receive, send)

    async def asgi_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (HTTP, WebSocket, lifespan); see :mod:`erlen.asgi`."""
        await _serve_asgi(self, scope, receive, send)

    def wsgi_app(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        """Handle one request from start to finish."""
        ctx = self.request_context(environ)
        error: BaseException | None = None
        app_iter: cabc.Iterable[bytes] | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException as e:
                error = e
                raise
            app_iter = response(environ, start_response)
            if ctx._streams:
                # Streams hold the teardown: closing the body releases those
                # that were not sent (replaced, or dropped by an error).
                app_iter = ReleasingAppIter(app_iter, ctx)
            return app_iter
        finally:
            if app_iter is None:  # an error escaped: no body will release them
                release_streams(ctx)
            if "werkzeug.debug.preserve_context" in environ:
                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and self.should_ignore_error(error):
                error = None
            ctx.pop(error)

    def full_dispatch_request(self) -> Response:
        """Run the hooks and the view, handling errors they raise, and finalize."""
        if not self._got_first_request:
            # A limit of the wrong type fails here, clearly, not per request.
            check_limit_types(self.config)
            self._got_first_request = True
        try:
            if request_started.receivers:
                request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def _hooks(self, blueprint: str | None) -> _HookChain:
        """The hook chain of ``blueprint``, rebuilt when a registry changed since."""
        chain = self._hook_chains.get(blueprint)
        if chain is None or chain.version != self._setup_version.n:
            chain = self._hook_chains[blueprint] = _HookChain(self, blueprint)
        return chain

    def _request_hooks(self, ctx: RequestContext) -> _HookChain:
        """The hooks of the request's blueprint, looked up once per request
        (again if a hook is added while the request runs, as Flask sees it)."""
        rule = ctx.request.url_rule
        cached = ctx._hook_cache
        if (
            cached is not None
            and cached[0] is rule
            and cached[1].version == self._setup_version.n
        ):
            return cached[1]  # type: ignore[no-any-return]
        chain = self._hooks(ctx.request.blueprint)
        ctx._hook_cache = (rule, chain)
        return chain

    def preprocess_request(self) -> ft.ResponseReturnValue | None:
        """Run URL value preprocessors and before-request hooks, app first.

        A hook that returns a value ends the request with it.
        """
        ctx = _cv_request.get()
        req = ctx.request
        hooks = self._request_hooks(ctx)
        for func in hooks.url_value_preprocessors:
            func(req.endpoint, req.view_args)
        for before in hooks.before:
            rv = before()
            if rv is not None:
                return rv  # type: ignore[no-any-return]
        return None

    def dispatch_request(self) -> ft.ResponseReturnValue:
        """Call the matched view, or raise the routing error; answers automatic OPTIONS."""
        req = _cv_request.get().request
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule: Rule = req.url_rule  # type: ignore[assignment]
        if (
            getattr(rule, "provide_automatic_options", False)
            and req.method == "OPTIONS"
        ):
            return self.make_default_options_response()
        endpoint = rule.endpoint
        view = self.view_functions[endpoint]
        cached = self._sync_views.get(endpoint)
        if cached is None or cached[0] is not view:
            cached = self._sync_views[endpoint] = (view, self.ensure_sync(view))
        return cached[1](**req.view_args)  # type: ignore[arg-type,no-any-return]

    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the routing error; in debug, explain a redirect that would drop form data."""
        exc = request.routing_exception
        if isinstance(exc, WebsocketMismatch) and "HTTP_UPGRADE" not in request.environ:
            from .sockets import UpgradeRequired

            raise UpgradeRequired()
        if (
            not self.debug
            or not isinstance(exc, RequestRedirect)
            or exc.code in {307, 308}
            or request.method in {"GET", "HEAD", "OPTIONS"}
        ):
            raise exc  # type: ignore[misc]
        from .debughelpers import FormDataRoutingRedirect

        raise FormDataRoutingRedirect(request)

    def make_default_options_response(self) -> Response:
        """An empty response whose ``Allow`` header lists the URL's methods."""
        adapter = _cv_request.get().url_adapter
        rv = self.response_class()
        rv.allow.update(adapter.allowed_methods())  # type: ignore[union-attr]
        return rv

    def finalize_request(
        self,
        rv: ft.ResponseReturnValue | HTTPException,
        from_error_handler: bool = False,
    ) -> Response:
        """Make the response and run the after-request processing.

        Called for the 500 handler's response with ``from_error_handler=True``:
        errors are then logged instead of raised.
        """
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if request_finished.receivers:
                request_finished.send(
                    self, _async_wrapper=self.ensure_sync, response=response
                )
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception(
                "Request finalizing failed with an error while handling an error"
            )
        return response

    def process_response(self, response: Response) -> Response:
        """Add the security headers, run ``after_this_request`` and after-request
        hooks, then save the session.

        Security headers come first, so hooks can still change or remove them;
        a response a hook returns in place of the first gets them too.
        """
        ctx = _cv_request.get()
        policy = self._security_headers
        config = self.config
        # Inline policy.matches(config): compared on every response.
        if policy is None or policy.source != (
            config.get("SECURITY_HEADERS"),
            config.get("STRICT_TRANSPORT_SECURITY"),
            config.get("SESSION_COOKIE_SECURE"),
        ):
            policy = self._security_headers = SecurityHeaderPolicy(config)
        rule = ctx.request.url_rule
        view = None if rule is None else self.view_functions.get(rule.endpoint)
        https = ctx.request.scheme == "https"
        policy.apply(response, view, https)
        original = response
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        for after in self._request_hooks(ctx).after:
            response = after(response)
        if response is not original:
            # A hook returned a new response: it gets the headers too.
            policy.apply(response, view, https)
        interface = self.session_interface
        if not ctx.session_opened and not self._needs_refresh(ctx):
            return response
        if not interface.is_null_session(ctx.session):
            interface.save_session(self, ctx.session, response)
        return response

    def _needs_refresh(self, ctx: RequestContext) -> bool:
        """Whether an untouched session must be saved anyway: a permanent one
        whose expiry is refreshed on each request. Opens it only if the browser
        sent a session cookie, and does not count as accessing it."""
        interface = self.session_interface
        name = interface.get_cookie_name(self)
        if not (
            self.config["SESSION_REFRESH_EACH_REQUEST"]
            # Check the raw header first: parsing cookies costs more than the
            # rest of a small request.
            and name in ctx.request.environ.get("HTTP_COOKIE", "")
            and name in ctx.request.cookies
        ):
            return False
        session = ctx.session
        accessed = session.accessed
        permanent = session.permanent
        session.accessed = accessed
        return permanent

    def make_response(self, rv: ft.ResponseReturnValue | HTTPException) -> Response:
        """Turn a view's return value into a :attr:`response_class` instance.

        Accepted: ``str``, ``bytes``, ``bytearray`` or an iterator (the body);
        ``dict`` or ``list`` (JSON); a response object or WSGI callable; and a
        tuple ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)``.
        """
        status: ft.StatusCode | None = None
        headers: ft.HeadersValue | None = None
        if isinstance(rv, tuple):
            if len(rv) == 3:
                rv, status, headers = rv
            elif len(rv) == 2:
                if isinstance(rv[1], (Headers, dict, tuple, list)):
                    rv, headers = rv  # pyright: ignore[reportAssignmentType]
                else:
                    rv, status = rv  # type: ignore[assignment]
            else:
                raise TypeError(
                    "The view function did not return a valid response tuple."
                    " The tuple must have the form (body, status, headers),"
                    " (body, status), or (body, headers)."
                )
        if rv is None:
            endpoint = request.endpoint if _cv_request.get(None) else None
            raise TypeError(
                f"The view function for {endpoint!r} did not return a valid"
                " response. The function either returned None or ended without"
                " a return statement."
            )
        if not isinstance(rv, self.response_class):
            if isinstance(rv, (str, bytes, bytearray)) or isinstance(rv, cabc.Iterator):
                rv = self.response_class(
                    rv,  # pyright: ignore[reportArgumentType]
                    status=status,
                    headers=headers,  # type: ignore[arg-type]
                    # Without headers, the default content type is known;
                    # passing it skips Werkzeug's lookup in the headers.
                    content_type=None if headers else _default_content_type(self),
                )
                status = headers = None
            elif isinstance(rv, (dict, list)):
                rv = self.json.response(rv)
            elif isinstance(rv, BaseResponse) or callable(rv):
                try:
                    rv = self.response_class.force_type(
                        rv,  # type: ignore[arg-type]
                        request.environ if _cv_request.get(None) else None,
                    )
                except TypeError as e:
                    raise TypeError(
                        f"{e}\nThe view function did not return a valid"
                        " response. The return type must be a string,"
                        " dict, list, tuple with headers or status,"
                        " Response instance, or WSGI callable, but it"
                        f" was a {type(rv).__name__}."
                    ).with_traceback(sys.exc_info()[2]) from None
            elif isinstance(rv, cabc.AsyncIterator):  # streamed by the ASGI entry
                rv = self.response_class(rv, status=status, headers=headers)  # type: ignore[arg-type]
                status = headers = None
            else:
                raise TypeError(
                    "The view function did not return a valid"
                    " response. The return type must be a string,"
                    " dict, list, tuple with headers or status,"
                    " Response instance, or WSGI callable, but it was a"
                    f" {type(rv).__name__}."
                )
        rv = t.cast(Response, rv)
        if status is not None:
            if isinstance(status, (bytes, bytearray)):
                status = status.decode("latin-1")
            if isinstance(status, str):
                rv.status = status
            else:
                rv.status_code = status
        if headers:
            rv.headers.update(headers)
        return rv

    # -- errors ------------------------------------------------------------------

    def _find_error_handler(
        self, e: Exception, blueprints: list[str]
    ) -> ft.ErrorHandlerCallable | None:
        """The handler for ``e``: blueprint chain before app, code before class, MRO order."""
        exc_class, code = self._get_exc_class_and_code(type(e))
        names = (*blueprints, None)
        for c in (code, None) if code is not None else (None,):
            for name in names:
                by_code = self.error_handler_spec.get(name)
                if not by_code:
                    continue
                handler_map = by_code.get(c)
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def _current_blueprints(self) -> list[str]:
        ctx = _cv_request.get(None)
        return ctx.request.blueprints if ctx is not None else []

    def handle_http_exception(
        self, e: HTTPException
    ) -> HTTPException | ft.ResponseReturnValue:
        """Return the registered handler's response for an HTTP error, or the error itself.

        Routing redirects and errors without a code are returned unchanged.
        """
        if e.code is None or isinstance(e, RoutingException):
            return e
        handler = self._find_error_handler(e, self._current_blueprints())
        if handler is None:
            return e
        return self.ensure_sync(handler)(e)  # type: ignore[no-any-return]

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should propagate like any other exception (debugging)."""
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if (
            trap_bad_request is None
            and self.debug
            and isinstance(e, BadRequestKeyError)
        ):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def handle_user_exception(
        self, e: Exception
    ) -> HTTPException | ft.ResponseReturnValue:
        """Handle an error raised by a hook or view with a registered handler, or re-raise."""
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return self.handle_http_exception(e)
        handler = self._find_error_handler(e, self._current_blueprints())
        if handler is None:
            raise
        return self.ensure_sync(handler)(e)  # type: ignore[no-any-return]

    def handle_exception(self, e: Exception) -> Response:
        """Handle an unhandled error: propagate it in debug/testing, else log it and send 500.

        ``PROPAGATE_EXCEPTIONS`` overrides the debug/testing default. A handler
        for 500 or ``InternalServerError`` receives the error with
        ``original_exception`` set.
        """
        exc_info = sys.exc_info()
        if got_request_exception.receivers:
            got_request_exception.send(
                self, _async_wrapper=self.ensure_sync, exception=e
            )
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            if exc_info[1] is e:
                raise
            raise e
        self.log_exception(exc_info)
        server_error: InternalServerError | ft.ResponseReturnValue
        server_error = InternalServerError(original_exception=e)
        handler = self._find_error_handler(server_error, self._current_blueprints())
        if handler is not None:
            server_error = self.ensure_sync(handler)(server_error)
        return self.finalize_request(server_error, from_error_handler=True)

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Log an unhandled error on :attr:`logger`, with the request path and method."""
        ctx = _cv_request.get(None)
        where = f" on {ctx.request.path} [{ctx.request.method}]" if ctx else ""
        self.logger.error(f"Exception{where}", exc_info=exc_info)

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Whether teardown functions should not see ``error``; ``False`` by default."""
        return False

    # -- teardown ----------------------------------------------------------------

    def do_teardown_request(
        self,
        exc: BaseException | None = _sentinel,  # type: ignore[assignment]
    ) -> None:
        """Run the teardown-request functions (all of them, even if one raises)."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        ctx = _cv_request.get(None)
        teardown = (
            self._hooks(None) if ctx is None else self._request_hooks(ctx)
        ).teardown
        try:
            if teardown:
                _run_all(teardown, exc)
        finally:
            if request_tearing_down.receivers:
                request_tearing_down.send(
                    self, _async_wrapper=self.ensure_sync, exc=exc
                )

    def do_teardown_appcontext(
        self,
        exc: BaseException | None = _sentinel,  # type: ignore[assignment]
    ) -> None:
        """Run the teardown-appcontext functions (all of them, even if one raises)."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        cached = self._appctx_teardown
        version = self._setup_version.n
        if cached is not None and cached[0] == version:
            funcs = cached[1]
        else:
            funcs = tuple(
                self.ensure_sync(f) for f in reversed(self.teardown_appcontext_funcs)
            )
            self._appctx_teardown = (version, funcs)
        try:
            if funcs:
                _run_all(funcs, exc)
        finally:
            if appcontext_tearing_down.receivers:
                appcontext_tearing_down.send(
                    self, _async_wrapper=self.ensure_sync, exc=exc
                )

    # -- serving (ASGI lifespan) ---------------------------------------------------

    @setupmethod
    def before_serving(self, f: T_serving) -> T_serving:
        """Run ``f()`` (sync or async) when an ASGI server starts, in an app context.

        Open pools and clients here; a failure stops the server from starting.
        """
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: T_serving) -> T_serving:
        """Run ``f()`` (sync or async) when an ASGI server shuts down, in an app context."""
        self.after_serving_funcs.append(f)
        return f

    @setupmethod
    def while_serving(self, f: T_serving) -> T_serving:
        """Wrap serving in a generator function: the code before its single
        ``yield`` runs on startup, the code after it on shutdown."""
        self.while_serving_funcs.append(f)
        return f

    # -- async -------------------------------------------------------------------

    def ensure_sync(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        """Wrap a coroutine function so it can be called from the WSGI worker."""
        if inspect.iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(
        self, func: t.Callable[..., t.Coroutine[t.Any, t.Any, t.Any]]
    ) -> t.Callable[..., t.Any]:
        """Make a coroutine function callable from sync code.

        Under an ASGI server it runs on the server's loop; under WSGI, in its
        own event loop (asgiref, the ``async`` extra).
        """
        from .asgi import _server_loop
        from .asgi import bridge_to_loop

        try:
            from asgiref.sync import async_to_sync as asgiref_async_to_sync
        except ImportError:
            if _server_loop.get() is None:
                raise RuntimeError(
                    "Install erlen with the 'async' extra in order to use async views,"
                    " hooks and handlers: pip install 'erlen[async]'"
                ) from None
            return bridge_to_loop(func, None)
        return bridge_to_loop(func, asgiref_async_to_sync(func))

    # -- URLs --------------------------------------------------------------------

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Bind the URL map to a request, or to ``SERVER_NAME`` outside one.

        Applies ``TRUSTED_HOSTS``: a missing, duplicated or untrusted ``Host``
        raises a 400 error.
        """
        if request is not None:
            trusted_hosts = self.config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                check_host_header(request.environ)
                request.trusted_hosts = trusted_hosts
                try:
                    request.host  # noqa: B018 -- validates the host, raising a 400
                except UnicodeError:  # Werkzeug 3.1.0 fails on some names
                    raise SecurityError(
                        f"Host {request.environ.get('HTTP_HOST')!r} is not trusted."
                    ) from None
            host, plain_name = self._checked_host(request)
            subdomain = None
            server_name = self.config["SERVER_NAME"]
            if self.url_map.host_matching:
                server_name = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or ""
                if server_name is None and plain_name is not None:
                    adapter = _bind_plain(self.url_map, request, plain_name, subdomain)
                    if adapter is not None:
                        return adapter
            return self.url_map.bind_to_environ(
                request.environ, server_name=server_name, subdomain=subdomain
            )
        if self.config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                self.config["SERVER_NAME"],
                script_name=self.config["APPLICATION_ROOT"],
                url_scheme=self.config["PREFERRED_URL_SCHEME"],
            )
        return None

    def _checked_host(self, request: Request) -> tuple[str, str | None]:
        """``request.host``, checked, and its name for :func:`_bind_plain`
        (``None`` when only Werkzeug's binding handles it).

        Both are pure functions of the scheme, ``Host`` header and server
        address while no trusted hosts apply, so they are remembered per app
        (``app._known_hosts``, see docs/internals.md) and the request's
        ``host`` is set from there.
        """
        key = None
        # Only a real request with Werkzeug's host: extensions may pass the
        # ``request`` proxy (Flask-RESTful does), whose type has no ``host``.
        cls = type(request)
        if (
            request.trusted_hosts is None
            and getattr(cls, "host", None) is _REQUEST_HOST
        ):
            header = request.environ.get("HTTP_HOST")
            if header is None or len(header) <= _MAX_KNOWN_HOST:
                key = (request.scheme, header, request.server)
                known = self._known_hosts.get(key)
                if known is not None:
                    request.host = known[0]  # pyright: ignore[reportAttributeAccessIssue]
                    return known
        # Newer Werkzeug releases read an invalid host as empty; older
        # ones pass it on and fail when they build a redirect from it.
        host = request.host
        if ":" in host or "[" in host or "]" in host:
            check_host_syntax(host)
        rv = (host, _plain_server_name(host))
        if key is not None:
            if len(self._known_hosts) >= _MAX_KNOWN_HOSTS:
                self._known_hosts.clear()  # many hosts (or a hostile client)
            self._known_hosts[key] = rv
        return rv

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        """Build the URL of ``endpoint``; see :func:`erlen.url_for`.

        In a request, URLs are relative unless ``_external``; outside one they
        are absolute and need ``SERVER_NAME``.
        """
        req_ctx = _cv_request.get(None)
        url_adapter: MapAdapter | None
        if req_ctx is not None:
            url_adapter = req_ctx.url_adapter
            blueprint_name = req_ctx.request.blueprint
            if endpoint[:1] == ".":
                if blueprint_name is not None:
                    endpoint = f"{blueprint_name}{endpoint}"
                else:
                    endpoint = endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _cv_app.get(None)
            if app_ctx is not None:
                url_adapter = app_ctx.url_adapter
            else:
                url_adapter = self.create_url_adapter(None)
            if _external is None:
                _external = True
        if url_adapter is None:
            raise RuntimeError(
                "Unable to build URLs outside an active request without"
                " 'SERVER_NAME' configured. Also configure 'APPLICATION_ROOT'"
                " and 'PREFERRED_URL_SCHEME' as needed."
            )
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        self.inject_url_defaults(endpoint, values)
        try:
            rv = url_adapter.build(
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            values.update(
                _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external
            )
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            rv = f"{rv}#{_url_quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        """Let the ``url_defaults`` functions of the app and blueprints fill ``values``."""
        names: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            names = (None, *reversed(_blueprint_chain(endpoint.rpartition(".")[0])))
        for name in names:
            for func in self.url_default_functions.get(name, ()):
                func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        """Ask :attr:`url_build_error_handlers` for a URL, or re-raise the error."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    def redirect(self, location: str, code: int = 302) -> BaseResponse:
        """A redirect response using :attr:`response_class`; see :func:`erlen.redirect`.

        Control characters in ``location`` are percent-encoded; a location
        whose host or port cannot be encoded raises
        :exc:`~erlen.security.RedirectLocationError` (a 400 when not caught).
        """
        return _wz_redirect(
            safe_redirect_location(location), code=code, Response=self.response_class
        )

    # -- testing and running -------------------------------------------------------

    def test_client(
        self, use_cookies: bool = True, *, asgi: bool = False, **kwargs: t.Any
    ) -> ErlenClient:
        """A test client that sends requests to the app without a server.

        With ``asgi=True`` requests go through the ASGI entry
        (:class:`~erlen.testing_asgi.AsgiClient`), which also opens WebSockets.
        """
        from .testing import ErlenClient

        if asgi:
            from .testing_asgi import AsgiClient

            cls: type[ErlenClient] = AsgiClient
        else:
            cls = self.test_client_class or ErlenClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: t.Any) -> ErlenCliRunner:
        """A CLI runner that invokes the app's commands; see :class:`ErlenCliRunner`."""
        from .testing import ErlenCliRunner

        cls = self.test_cli_runner_class or ErlenCliRunner
        return cls(self, **kwargs)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Serve the app with the development server; use ``erlen run`` instead.

        Never use it in production. Under ``erlen run`` the call is ignored.
        Options go to :func:`werkzeug.serving.run_simple`.
        """
        import click
        from werkzeug.serving import is_running_from_reloader
        from werkzeug.serving import run_simple

        if os.environ.get("ERLEN_RUN_FROM_CLI") == "true":
            if not is_running_from_reloader():
                click.secho(
                    " * Ignoring a call to 'app.run()' that would block"
                    " the current 'erlen' CLI command.\n"
                    "   Only call 'app.run()' in an 'if __name__ =="
                    ' "__main__"\' guard.',
                    fg="red",
                )
            return
        if get_load_dotenv(load_dotenv):
            from .cli import load_dotenv as _load_dotenv

            _load_dotenv()
            if "ERLEN_DEBUG" in os.environ:
                self.debug = get_debug_flag()
        if debug is not None:
            self.debug = bool(debug)
        server_name = self.config.get("SERVER_NAME")
        sn_host = sn_port = None
        if server_name:
            sn_host, _, sn_port = server_name.partition(":")
        bind_host: str = host or sn_host or "127.0.0.1"
        if port or port == 0:
            port = int(port)
        elif sn_port:
            port = int(sn_port)
        else:
            port = 5000
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        if not is_running_from_reloader():
            click.echo(f" * Serving erlen app '{self.name}'")
            click.echo(f" * Debug mode: {'on' if self.debug else 'off'}")
            if options["use_debugger"]:
                from .security import debugger_binding_message

                message, warning = debugger_binding_message(bind_host)
                click.secho(message, fg="red" if warning else None, err=warning)
        try:
            run_simple(bind_host, port, self, **options)
        finally:
            self._got_first_request = False


mark_coroutine_function(Erlen.__call__)


def _decode_wsgi(environ: WSGIEnvironment, key: str) -> str | None:
    value = environ.get(key)
    if value is None or value.isascii():  # ASCII decodes to itself
        return value
    return value.encode("latin1").decode(errors="replace")  # type: ignore[no-any-return]


def _plain_server_name(host: str) -> str | None:
    """The server name :func:`_bind_plain` binds for ``host``, or ``None`` for
    a host that needs Werkzeug's full handling.

    That is a host that is not plain ASCII, or one that Werkzeug's
    ``Map.bind`` refuses (it IDNA-encodes the name and answers 400 when that
    fails, as for ``.`` or ``.example.com``). For an ASCII name the IDNA
    codec only checks label lengths: every label but the last 1 to 63
    characters, the last at most 63; the same check runs here without the
    codec's cost.
    """
    server_name = host.lower()
    name = server_name.partition(":")[0]
    if not name.isascii():
        return None
    if "." in name:
        labels = name.split(".")
        if len(labels[-1]) > 63 or not all(0 < len(x) < 64 for x in labels[:-1]):
            return None  # Werkzeug raises its 400 (BadHost) for this name
    elif len(name) > 63:
        return None
    return server_name


def _bind_plain(
    map: Map, request: Request, server_name: str, subdomain: str
) -> MapAdapter | None:
    """Bind ``map`` like ``bind_to_environ`` does for a plain (no host, subdomain
    or server name matching) app, reusing what the request already parsed.

    ``server_name`` comes from :func:`_plain_server_name`. Returns ``None``
    for WebSocket upgrades, which need Werkzeug's full handling.
    """
    environ = request.environ
    if "HTTP_UPGRADE" in environ:
        return None
    script_name = _decode_wsgi(environ, "SCRIPT_NAME")
    path_info = _decode_wsgi(environ, "PATH_INFO")
    return new_map_adapter(
        map,
        server_name,
        "/" if script_name is None else script_name,
        subdomain,
        environ["wsgi.url_scheme"],
        # An empty PATH_INFO (a mount root without its slash) stays empty,
        # so matching redirects to the slash as Werkzeug does.
        "/" if path_info is None else path_info,
        environ["REQUEST_METHOD"],
        _decode_wsgi(environ, "QUERY_STRING"),
    )


def _default_template_ctx_processor() -> dict[str, t.Any]:
    """Put the concrete ``g`` and ``request`` in templates, saving a proxy lookup each use."""
    rv: dict[str, t.Any] = {}
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        rv["g"] = app_ctx.g
    req_ctx = _cv_request.get(None)
    if req_ctx is not None:
        rv["request"] = req_ctx.request
    return rv
