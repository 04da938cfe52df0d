"""``Scaffold``: the registries and decorators that apps and blueprints share."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import typing as t
from collections import defaultdict
from functools import update_wrapper

from jinja2 import BaseLoader
from jinja2 import FileSystemLoader
from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException
from werkzeug.utils import cached_property

from . import typing as ft
from .helpers import get_root_path

if t.TYPE_CHECKING:  # pragma: no cover
    import typing_extensions as te
    from click import Group

    from .wrappers import Response

_sentinel = object()

F = t.TypeVar("F", bound=t.Callable[..., t.Any])
T_after_request = t.TypeVar("T_after_request", bound=ft.AfterRequestCallable[t.Any])
T_before_request = t.TypeVar("T_before_request", bound=ft.BeforeRequestCallable)
T_error_handler = t.TypeVar("T_error_handler", bound=ft.ErrorHandlerCallable)
T_teardown = t.TypeVar("T_teardown", bound=ft.TeardownCallable)
T_template_context_processor = t.TypeVar(
    "T_template_context_processor", bound=ft.TemplateContextProcessorCallable
)
T_url_defaults = t.TypeVar("T_url_defaults", bound=ft.URLDefaultCallable)
T_url_value_preprocessor = t.TypeVar(
    "T_url_value_preprocessor", bound=ft.URLValuePreprocessorCallable
)
T_route = t.TypeVar("T_route", bound=ft.RouteCallable)

#: code -> exception class -> handler
ErrorHandlerMap = dict[int | None, dict[type[BaseException], ft.ErrorHandlerCallable]]


def setupmethod(f: F) -> F:
    """Mark a registration method: calling it after the app started serving is an error."""
    f_name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(f_name)
        return f(self, *args, **kwargs)

    return t.cast(F, update_wrapper(wrapper_func, f))


class SetupVersion:
    """A counter that goes up whenever a hook registry changes.

    The app caches its resolved hook chains (see ``docs/internals.md``) and
    rebuilds one when the version it was built at is no longer current, so a
    hook added directly to a registry (``app.after_request_funcs[None]
    .append(f)``, as Flask-Caching does) takes effect like one added with the
    decorator.
    """

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


class HookList(list[t.Any]):
    """A list of hooks that bumps its :class:`SetupVersion` on every change."""

    def __init__(self, version: SetupVersion, items: t.Iterable[t.Any] = ()) -> None:
        super().__init__(items)
        self._version = version

    def _changed(self) -> None:
        self._version.n += 1

    def append(self, item: t.Any) -> None:
        super().append(item)
        self._changed()

    def extend(self, items: t.Iterable[t.Any]) -> None:
        super().extend(items)
        self._changed()

    def insert(self, index: t.SupportsIndex, item: t.Any) -> None:
        super().insert(index, item)
        self._changed()

    def remove(self, item: t.Any) -> None:
        super().remove(item)
        self._changed()

    def pop(self, index: t.SupportsIndex = -1) -> t.Any:
        rv = super().pop(index)
        self._changed()
        return rv

    def clear(self) -> None:
        super().clear()
        self._changed()

    def sort(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().sort(*args, **kwargs)
        self._changed()

    def reverse(self) -> None:
        super().reverse()
        self._changed()

    def __setitem__(self, index: t.Any, value: t.Any) -> None:
        super().__setitem__(index, value)
        self._changed()

    def __delitem__(self, index: t.Any) -> None:
        super().__delitem__(index)
        self._changed()

    def __iadd__(self, items: t.Iterable[t.Any]) -> te.Self:  # type: ignore[misc]
        super().__iadd__(items)
        self._changed()
        return self

    def __imul__(self, n: t.SupportsIndex) -> te.Self:
        super().__imul__(n)
        self._changed()
        return self


class HookRegistry(defaultdict[ft.AppOrBlueprintKey, list[t.Any]]):
    """A ``{blueprint name or None: [hooks]}`` registry whose changes, and those
    of its lists, bump a :class:`SetupVersion`. Lists stored in it become
    :class:`HookList` objects."""

    def __init__(self, version: SetupVersion) -> None:
        super().__init__(lambda: HookList(version))
        self._version = version

    def _wrap(self, value: t.Iterable[t.Any]) -> HookList:
        if isinstance(value, HookList) and value._version is self._version:
            return value
        return HookList(self._version, value)

    def __setitem__(self, key: ft.AppOrBlueprintKey, value: t.Iterable[t.Any]) -> None:
        super().__setitem__(key, self._wrap(value))
        self._version.n += 1

    def __delitem__(self, key: ft.AppOrBlueprintKey) -> None:
        super().__delitem__(key)
        self._version.n += 1

    def setdefault(
        self, key: ft.AppOrBlueprintKey, default: t.Iterable[t.Any] = ()
    ) -> list[t.Any]:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: ft.AppOrBlueprintKey, *default: t.Any) -> t.Any:
        rv = super().pop(key, *default)
        self._version.n += 1
        return rv

    def popitem(self) -> tuple[ft.AppOrBlueprintKey, list[t.Any]]:
        rv = super().popitem()
        self._version.n += 1
        return rv

    def clear(self) -> None:
        super().clear()
        self._version.n += 1

    def update(self, *args: t.Any, **kwargs: t.Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: t.Any) -> te.Self:  # type: ignore[override,misc]
        self.update(other)
        return self


class Scaffold:
    """What an app and a blueprint have in common: views, hooks, error handlers, files.

    Registries are dicts keyed by blueprint name, ``None`` meaning the app
    itself; a blueprint merges its own into the app's when it is registered.
    """

    cli: Group
    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        #: The name of the package or module this object belongs to.
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        #: Folder of templates relative to :attr:`root_path`, or ``None``.
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(self.import_name)
        #: Absolute path of the package on the filesystem.
        self.root_path = root_path

        self.view_functions: dict[str, ft.RouteCallable] = {}
        self.error_handler_spec: dict[ft.AppOrBlueprintKey, ErrorHandlerMap] = (
            defaultdict(lambda: defaultdict(dict))
        )
        #: Bumped by every change of the hook registries below.
        self._setup_version = version = SetupVersion()
        self.before_request_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.BeforeRequestCallable]
        ] = HookRegistry(version)
        self.after_request_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.AfterRequestCallable[t.Any]]
        ] = HookRegistry(version)
        self.teardown_request_funcs: dict[
            ft.AppOrBlueprintKey, list[ft.TeardownCallable]
        ] = HookRegistry(version)
        self.template_context_processors: dict[
            ft.AppOrBlueprintKey, list[ft.TemplateContextProcessorCallable]
        ] = defaultdict(list)
        self.url_value_preprocessors: dict[
            ft.AppOrBlueprintKey, list[ft.URLValuePreprocessorCallable]
        ] = HookRegistry(version)
        self.url_default_functions: dict[
            ft.AppOrBlueprintKey, list[ft.URLDefaultCallable]
        ] = defaultdict(list)
        #: Hooks around WebSocket routes (ASGI only), like the request hooks.
        self.before_websocket_funcs: dict[
            ft.AppOrBlueprintKey, list[t.Callable[[], t.Any]]
        ] = HookRegistry(version)
        self.after_websocket_funcs: dict[
            ft.AppOrBlueprintKey, list[t.Callable[[], t.Any]]
        ] = HookRegistry(version)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    # -- files -------------------------------------------------------------

    @property
    def static_folder(self) -> str | None:
        """Absolute path of the static folder, or ``None``."""
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is configured (it need not exist)."""
        return self._static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """URL prefix of the static route; defaults to ``/<name of the static folder>``."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self._static_folder is not None:
            basename = os.path.basename(self._static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """A loader for :attr:`template_folder`, or ``None`` without one."""
        if self.template_folder is not None:
            return FileSystemLoader(os.path.join(self.root_path, self.template_folder))
        return None

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """Cache max age for files sent by :func:`send_file`; ``SEND_FILE_MAX_AGE_DEFAULT``.

        ``None`` (the default) tells the browser to use conditional requests.
        """
        from .globals import current_app

        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if hasattr(value, "total_seconds"):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> Response:
        """The view that serves files from :attr:`static_folder`."""
        from .helpers import send_from_directory

        if not self.has_static_folder:
            raise RuntimeError(f"{self!r} does not have a static folder configured.")
        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(
            t.cast(str, self.static_folder), filename, max_age=max_age
        )

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.Any]:
        """Open a file relative to :attr:`root_path` for reading.

        :param mode: ``"r"``, ``"rt"`` or ``"rb"``; writing is not allowed.
        :param encoding: for text mode.
        """
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- routing -----------------------------------------------------------

    def _method_route(
        self, method: str, rule: str, options: dict[str, t.Any]
    ) -> t.Callable[[T_route], T_route]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """``route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """``route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """``route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """``route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """``route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> t.Callable[[T_route], T_route]:
        """Register the decorated function as the view for ``rule``.

        Options go to :meth:`add_url_rule` and Werkzeug's ``Rule``
        (``methods``, ``defaults``, ``subdomain``, ``host``, ``strict_slashes``...);
        ``endpoint`` defaults to the function's name.
        """

        def decorator(f: T_route) -> T_route:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ft.RouteCallable | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        """Register a URL rule; see :meth:`route`."""
        raise NotImplementedError

    @setupmethod
    def websocket(self, rule: str, **options: t.Any) -> t.Callable[[F], F]:
        """Register the decorated ``async def`` as the WebSocket route for ``rule``.

        It talks through :data:`erlen.websocket`; served by ASGI servers only
        (an HTTP request or a WSGI server gets 426). Options are those of
        :meth:`route`, except ``methods``.
        """
        from .sockets import websocket_route

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(
                rule,
                endpoint,
                websocket_route(f),
                methods=["GET"],
                websocket=True,
                provide_automatic_options=False,
                **options,
            )
            return f

        return decorator

    @setupmethod
    def endpoint(self, endpoint: str) -> t.Callable[[F], F]:
        """Register the decorated function as the view of an existing ``endpoint``."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks -------------------------------------------------------------

    @setupmethod
    def before_request(self, f: T_before_request) -> T_before_request:
        """Run ``f`` before each request; a non-``None`` return value ends the request."""
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: T_after_request) -> T_after_request:
        """Run ``f(response)`` after each request; it returns the response to send."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: T_teardown) -> T_teardown:
        """Run ``f(error)`` when the request context is popped, even after an error."""
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def before_websocket(self, f: F) -> F:
        """Run ``f()`` before each WebSocket route; a non-``None`` value refuses it."""
        self.before_websocket_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_websocket(self, f: F) -> F:
        """Run ``f()`` after each WebSocket route ends, even after an error."""
        self.after_websocket_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(
        self, f: T_template_context_processor
    ) -> T_template_context_processor:
        """Add the dict ``f()`` returns to every template's context."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(
        self, f: T_url_value_preprocessor
    ) -> T_url_value_preprocessor:
        """Run ``f(endpoint, values)`` before the view to pop or change URL values."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: T_url_defaults) -> T_url_defaults:
        """Run ``f(endpoint, values)`` in :func:`url_for` to fill in missing values."""
        self.url_default_functions[None].append(f)
        return f

    # -- errors ------------------------------------------------------------

    @setupmethod
    def errorhandler(
        self, code_or_exception: type[Exception] | int
    ) -> t.Callable[[T_error_handler], T_error_handler]:
        """Register the decorated function to handle an HTTP code or exception class."""

        def decorator(f: T_error_handler) -> T_error_handler:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: ft.ErrorHandlerCallable
    ) -> None:
        """Register ``f`` to handle an HTTP code or exception class; see :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        """Resolve an HTTP code or exception class to ``(class, code or None)``."""
        exc_class: type[Exception]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use"
                    " a subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        if not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers can"
                " only be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _endpoint_from_view_func(view_func: ft.RouteCallable | None) -> str:
    """The default endpoint: the view function's name."""
    if view_func is None:
        raise TypeError("'view_func' must be given when 'endpoint' is not.")
    return view_func.__name__


def _path_is_relative_to(path: pathlib.PurePath, base: str) -> bool:
    try:
        path.relative_to(base)
        return True
    except ValueError:
        return False


def _find_package_path(import_name: str) -> str:
    """The folder that contains the top-level package or module of ``import_name``."""
    root_mod_name = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(root_mod_name)
        if spec is None:
            raise ValueError("not found")
    except (ImportError, ValueError):
        return os.getcwd()
    if spec.submodule_search_locations:
        if spec.origin is None or spec.origin == "namespace":
            package_spec = importlib.util.find_spec(import_name)
            if package_spec is not None and package_spec.submodule_search_locations:
                package_path = pathlib.Path(
                    os.path.commonpath(package_spec.submodule_search_locations)
                )
                for location in spec.submodule_search_locations:
                    if _path_is_relative_to(package_path, location):
                        return os.path.dirname(location)
            return os.path.dirname(next(iter(spec.submodule_search_locations)))
        return os.path.dirname(os.path.dirname(spec.origin))
    return os.path.dirname(t.cast(str, spec.origin))


def find_package(import_name: str) -> tuple[str | None, str]:
    """Find the install prefix (``None`` if not installed) and folder of a package.

    Used to choose the instance folder: ``<package parent>/instance`` for code
    in a project folder, ``<prefix>/var/<name>-instance`` for installed code.
    """
    package_path = _find_package_path(import_name)
    py_prefix = os.path.abspath(sys.prefix)
    if _path_is_relative_to(pathlib.PurePath(package_path), py_prefix):
        return py_prefix, package_path
    site_parent, site_folder = os.path.split(package_path)
    if site_folder.lower() == "site-packages":
        parent, folder = os.path.split(site_parent)
        if folder.lower() == "lib":
            return parent, package_path
        if os.path.basename(parent).lower() == "lib":
            return os.path.dirname(parent), package_path
        return site_parent, package_path
    return None, package_path
