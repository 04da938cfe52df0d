"""The ``erlen`` command line: find the app, load dotenv files, run, shell, routes.

The console script ``erlen`` runs :func:`main`, which invokes :data:`cli`, an
:class:`ErlenGroup`. The app to load is named with ``--app`` / ``ERLEN_APP``, or
found in ``wsgi.py`` or ``app.py`` in the current directory. Commands added to
``app.cli`` (an :class:`AppGroup`) and to the ``erlen.commands`` entry-point
group appear next to the built-in ``run``, ``shell``, ``routes`` and ``check``;
so do Flask extensions' ``flask.commands``, through :mod:`erlen.flask_patch`.
``FLASK_APP`` and ``FLASK_DEBUG`` are read when ``ERLEN_APP`` and ``ERLEN_DEBUG``
are not set.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import importlib
import importlib.metadata
import inspect
import os
import platform
import re
import sys
import traceback
import typing as t
from functools import update_wrapper
from operator import itemgetter
from types import ModuleType

import click
from click.core import ParameterSource
from werkzeug.serving import is_running_from_reloader
from werkzeug.serving import run_simple
from werkzeug.utils import import_string

from .ext import ExtensionError
from .globals import _cv_app
from .globals import current_app
from .helpers import get_debug_flag
from .helpers import get_load_dotenv

if t.TYPE_CHECKING:  # pragma: no cover
    import ssl

    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Erlen

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

_FACTORY_NAMES = ("create_app", "make_app")
_APP_NAMES = ("app", "application")


class NoAppException(click.UsageError):
    """The application could not be found or created; the message says how to fix it."""


def _erlen_class() -> type[Erlen]:
    """Import :class:`~erlen.app.Erlen` at call time, keeping the import cheap."""
    from .app import Erlen

    return Erlen


def _raised_inside(func: t.Callable[..., t.Any], exc: BaseException) -> bool:
    """Whether ``exc`` was raised while ``func``'s own code was running.

    A :exc:`TypeError` whose traceback never reaches ``func``'s body was raised by
    the call itself, which means the arguments did not match the signature.
    """
    code = getattr(func, "__code__", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return True
        tb = tb.tb_next
    return False


def find_best_app(module: ModuleType) -> Erlen:
    """Find the application in an imported module when no name was given.

    Looks, in order, for an ``app`` or ``application`` attribute that is an
    :class:`~erlen.Erlen`, then for exactly one ``Erlen`` instance anywhere in
    the module, then for a ``create_app`` or ``make_app`` factory, which is
    called without arguments.

    :raises NoAppException: when none is found, when there are several, or when
        the factory needs arguments.
    """
    erlen_cls = _erlen_class()
    mod_name = module.__name__

    for attr_name in _APP_NAMES:
        candidate = getattr(module, attr_name, None)
        if isinstance(candidate, erlen_cls):
            return candidate

    found = list(
        {id(v): v for v in vars(module).values() if isinstance(v, erlen_cls)}.values()
    )
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise NoAppException(
            f"Detected multiple erlen applications in module '{mod_name}'."
            f" Use '--app {mod_name}:name' to specify the correct one."
        )

    for attr_name in _FACTORY_NAMES:
        factory = getattr(module, attr_name, None)
        if not inspect.isfunction(factory):
            continue
        try:
            app = factory()
        except TypeError as e:
            if _raised_inside(factory, e):
                raise
            raise NoAppException(
                f"Detected factory '{attr_name}' in module '{mod_name}', but it"
                " takes arguments and could not be called without them. Use"
                f" '--app {mod_name}:{attr_name}(args)' to pass them."
            ) from e
        if isinstance(app, erlen_cls):
            return app
        raise NoAppException(
            f"The factory '{attr_name}' in module '{mod_name}' returned"
            f" {type(app).__name__!r}, not an erlen application. Make it"
            " return the 'Erlen' object it creates."
        )

    raise NoAppException(
        f"Failed to find an erlen application or factory in module '{mod_name}'."
        f" Use '--app {mod_name}:name' to specify one."
    )


def _parse_app_name(
    module: ModuleType, app_name: str
) -> tuple[str, list[t.Any], dict[str, t.Any]]:
    """Split ``name`` or ``name(args)`` into the name and its literal arguments."""
    mod_name = module.__name__
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
            " Use 'name' or 'factory(arguments)'."
        ) from None

    if isinstance(expr, ast.Name):
        return expr.id, [], {}

    if not isinstance(expr, ast.Call):
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
            " Use 'name' or 'factory(arguments)'."
        )
    if not isinstance(expr.func, ast.Name):
        raise NoAppException(
            f"The function in {app_name!r} must be a simple name defined in"
            f" '{mod_name}', for example 'create_app(...)'."
        )
    try:
        args = [ast.literal_eval(arg) for arg in expr.args]
        kwargs = {
            kw.arg: ast.literal_eval(kw.value)
            for kw in expr.keywords
            if kw.arg is not None
        }
    except (ValueError, TypeError, SyntaxError):
        raise NoAppException(
            f"Failed to parse the arguments in {app_name!r} as literal values."
            " Only strings, numbers, tuples, lists, dicts, booleans and None can"
            " be passed."
        ) from None
    if len(kwargs) != len(expr.keywords):
        raise NoAppException(
            f"Failed to parse the arguments in {app_name!r}: '**' unpacking is"
            " not supported, pass keyword arguments one by one."
        )
    return expr.func.id, args, kwargs


def find_app_by_string(module: ModuleType, app_name: str) -> Erlen:
    """Find the application named by ``app_name`` in an imported module.

    ``app_name`` is an attribute name (``app``) or a call of a factory with
    literal arguments (``create_app('dev', debug=True)``). A bare name that
    refers to a function is called without arguments.

    :raises NoAppException: when the name cannot be parsed or found, when the
        factory cannot be called with those arguments, or when the result is
        not an :class:`~erlen.Erlen`.
    """
    erlen_cls = _erlen_class()
    mod_name = module.__name__
    name, args, kwargs = _parse_app_name(module, app_name)

    try:
        attr = getattr(module, name)
    except AttributeError as e:
        raise NoAppException(
            f"Failed to find attribute {name!r} in module '{mod_name}'. Check the"
            " name given with '--app module:name'."
        ) from e

    if inspect.isfunction(attr):
        try:
            app = attr(*args, **kwargs)
        except TypeError as e:
            if _raised_inside(attr, e):
                raise
            raise NoAppException(
                f"The factory {app_name!r} in module '{mod_name}' could not be"
                f" called with the given arguments: {e}. Check its signature."
            ) from e
    else:
        app = attr

    if isinstance(app, erlen_cls):
        return app

    raise NoAppException(
        f"A valid erlen application was not obtained from '{mod_name}:{app_name}'."
        " It must name an 'Erlen' object or a factory that returns one."
    )


def prepare_import(path: str) -> str:
    """Turn a file or module path into an importable module name.

    Walks up through folders that contain ``__init__.py`` to find the package
    root, puts that root first on :data:`sys.path`, and returns the dotted
    module name (``pkg/sub/app.py`` gives ``pkg.sub.app``).
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)
    if ext == ".py":
        path = stem
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)

    parts: list[str] = []
    folder = path
    while True:
        folder, name = os.path.split(folder)
        parts.append(name)
        if not os.path.isfile(os.path.join(folder, "__init__.py")):
            break

    if not sys.path or sys.path[0] != folder:
        sys.path.insert(0, folder)
    return ".".join(reversed(parts))


def _is_missing_module(exc: ImportError, module_name: str) -> bool:
    """Whether ``exc`` says ``module_name`` (or a parent package) does not exist."""
    if not isinstance(exc, ModuleNotFoundError) or exc.name is None:
        return False
    return module_name == exc.name or module_name.startswith(f"{exc.name}.")


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: t.Literal[True] = True
) -> Erlen: ...


@t.overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = ...
) -> Erlen | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Erlen | None:
    """Import ``module_name`` and find the application in it.

    An :exc:`ImportError` raised by the module's own code is reported with its
    traceback, so a broken import inside the app is not mistaken for a missing
    module.

    :param app_name: an attribute or factory call, see :func:`find_app_by_string`;
        ``None`` uses :func:`find_best_app`.
    :param raise_if_not_found: return ``None`` instead of raising when the module
        does not exist.
    """
    try:
        __import__(module_name)
    except ImportError as e:
        if not _is_missing_module(e, module_name):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised:"
                f"\n\n{traceback.format_exc()}"
            ) from e
        if raise_if_not_found:
            raise NoAppException(
                f"Could not import {module_name!r}. Check the '--app' option or"
                " 'ERLEN_APP', and that the module is importable from the"
                " current directory."
            ) from e
        return None

    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def get_version(ctx: click.Context, param: click.Parameter, value: t.Any) -> None:
    """Print the Python, erlen and Werkzeug versions and exit (``--version``)."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(
        f"Python {platform.python_version()}\n"
        f"Erlen {_package_version('erlen')}\n"
        f"Werkzeug {_package_version('werkzeug')}",
        color=ctx.color,
    )
    ctx.exit()


version_option = click.Option(
    ["--version"],
    help="Show the erlen version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)


class ScriptInfo:
    """What the CLI knows about the app to load; passed to commands as ``ctx.obj``.

    :param app_import_path: the ``--app`` value, ``module:name`` or a file path.
    :param create_app: a callable returning the app; takes precedence over
        ``app_import_path``.
    :param set_debug_flag: set ``app.debug`` from ``ERLEN_DEBUG`` after loading.
    :param load_dotenv_defaults: load ``.erlenenv`` and ``.env``; turned off by
        ``ERLEN_SKIP_DOTENV``.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: t.Callable[..., Erlen] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        #: Free storage for commands and plugins.
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Erlen | None = None

    def load_app(self) -> Erlen:
        """Load the app once and return it on every later call.

        :raises NoAppException: when the app cannot be found.
        """
        if self._loaded_app is not None:
            return self._loaded_app

        app: Erlen | None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, name = _split_import_path(self.app_import_path)
            app = locate_app(prepare_import(path), name)
        else:
            app = None
            for default in ("wsgi.py", "app.py"):
                app = locate_app(
                    prepare_import(default), None, raise_if_not_found=False
                )
                if app is not None:
                    break

        if app is None:
            raise NoAppException(
                "Could not locate an erlen application. Use the 'erlen --app'"
                " option, 'ERLEN_APP' environment variable, or a 'wsgi.py' or"
                " 'app.py' file in the current directory."
            )

        if self.set_debug_flag:
            app.debug = get_debug_flag()

        self._loaded_app = app
        return app


def _split_import_path(value: str) -> tuple[str, str | None]:
    """Split ``path:name`` on the first colon that is not part of a Windows drive."""
    match = re.search(r":(?![\\/])", value)
    if match is None:
        return value, None
    return value[: match.start()], value[match.end() :] or None


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run a command callback inside the app's context, loading the app if needed.

    Commands registered on ``app.cli`` get this automatically; use it for
    commands on other groups that need ``current_app``.
    """

    @click.pass_context
    def wrapper(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if _cv_app.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return t.cast(F, update_wrapper(wrapper, f))


class AppGroup(click.Group):
    """A :class:`click.Group` whose commands run inside the app context.

    Pass ``with_appcontext=False`` to :meth:`command` for a command that must
    not load the app. Sub-groups made with :meth:`group` are ``AppGroup`` too.
    """

    @t.overload
    def command(self, __func: t.Callable[..., t.Any]) -> click.Command: ...

    @t.overload
    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command]: ...

    def command(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Command] | click.Command:
        """Register a command, wrapped in :func:`with_appcontext` unless disabled."""
        wrap = kwargs.pop("with_appcontext", True)
        func: t.Callable[..., t.Any] | None = None
        if len(args) == 1 and not kwargs and callable(args[0]):
            func, args = args[0], ()

        def decorator(f: t.Callable[..., t.Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            command: click.Command = super(AppGroup, self).command(*args, **kwargs)(f)
            return command

        if func is not None:
            return decorator(func)
        return decorator

    @t.overload
    def group(self, __func: t.Callable[..., t.Any]) -> click.Group: ...

    @t.overload
    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group]: ...

    def group(
        self, *args: t.Any, **kwargs: t.Any
    ) -> t.Callable[[t.Callable[..., t.Any]], click.Group] | click.Group:
        """Register a sub-group; it is an :class:`AppGroup` unless ``cls`` is given."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)  # type: ignore[no-any-return]


def _set_app(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    if value is None:
        return None
    ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    help=(
        "The application to run, as 'module:name', 'module:create_app(args)' or"
        " 'path/to/file.py'. Without it, 'wsgi.py' or 'app.py' in the current"
        " directory is used."
    ),
    is_eager=True,
    expose_value=False,
    callback=_set_app,
    envvar=["ERLEN_APP", "FLASK_APP"],
)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    """Export the flag as ``ERLEN_DEBUG`` so app factories can read it early."""
    source = ctx.get_parameter_source(param.name) if param.name else None
    if source is None or source in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    ):
        return None
    os.environ["ERLEN_DEBUG"] = "1" if value else "0"
    return value


_debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
    envvar=["ERLEN_DEBUG", "FLASK_DEBUG"],
)


def _env_file_callback(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    try:
        import dotenv  # noqa: F401
    except ImportError:
        if value is not None:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file. Install it"
                " with 'pip install python-dotenv' or 'pip install erlen[dotenv]'.",
                ctx=ctx,
                param=param,
            ) from None

    info = ctx.ensure_object(ScriptInfo)
    if value is not None or info.load_dotenv_defaults:
        load_dotenv(value, load_defaults=info.load_dotenv_defaults)
    return value


_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help=(
        "Load environment variables from this file, taking precedence over"
        " '.env' and '.erlenenv'. Variables already set are not changed."
        " Requires python-dotenv."
    ),
    is_eager=True,
    expose_value=False,
    callback=_env_file_callback,
)


#: Built-in commands that an app command of the same name replaces: ``check``
#: is newer than Flask's commands, and apps ported from Flask may already have
#: their own.
_YIELDING_COMMANDS = frozenset({"check"})


class ErlenGroup(AppGroup):
    """The ``erlen`` command group: global options, built-in commands, app commands.

    Use it as the root of a custom script for one application:

    .. code-block:: python

        cli = ErlenGroup(create_app=create_app)

    :param add_default_commands: add ``run``, ``shell``, ``routes`` and ``check``.
    :param create_app: a callable returning the app; ``--app`` is then ignored.
    :param add_version_option: add ``--version``.
    :param load_dotenv: load ``.erlenenv`` and ``.env`` from the working directory
        or its parents.
    :param set_debug_flag: set ``app.debug`` from ``--debug`` / ``ERLEN_DEBUG``.
    :param extra: passed on to :class:`click.Group`.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: t.Callable[..., Erlen] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        params.extend((_env_file_option, _app_option, _debug_option))
        if add_version_option:
            params.append(version_option)

        context_settings = dict(extra.pop("context_settings", None) or {})
        context_settings.setdefault("auto_envvar_prefix", "ERLEN")
        super().__init__(params=params, context_settings=context_settings, **extra)

        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag

        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
            self.add_command(check_command)

        self._loaded_plugin_commands = False

    def _load_plugin_commands(self) -> None:
        if self._loaded_plugin_commands:
            return
        self._loaded_plugin_commands = True
        flask_plugins = importlib.metadata.entry_points(group="flask.commands")
        if flask_plugins:
            _load_flask_plugins(self, flask_plugins)
        for ep in importlib.metadata.entry_points(group="erlen.commands"):
            self.add_command(ep.load(), ep.name)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Find a built-in or plugin command, else load the app and ask ``app.cli``.

        Built-in commands work even when the app cannot be loaded; the load
        error is printed and ``None`` is returned for app commands.
        """
        self._load_plugin_commands()
        command = super().get_command(ctx, cmd_name)
        if command is not None and cmd_name not in _YIELDING_COMMANDS:
            return command

        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except Exception as e:
            if command is not None:
                return command  # a yielding built-in works without the app
            if isinstance(e, ExtensionError):
                raise click.ClickException(
                    f"The app could not be loaded, so its command {cmd_name!r} is"
                    f" missing: {e}"
                ) from e
            if not isinstance(e, NoAppException):
                raise
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            click.secho(
                f"The app could not be loaded, so its command {cmd_name!r} may be"
                " missing.\n",
                err=True,
                fg="red",
            )
            return None

        active = _cv_app.get(None)
        if active is None or active.app is not app:
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, cmd_name) or command

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List built-in, plugin and app commands; an app load error is printed."""
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            names.update(info.load_app().cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception as e:
            detail = "".join(traceback.format_exception_only(type(e), e)).rstrip()
            click.secho(
                f"Error: The application could not be loaded, so its commands are"
                f" not listed.\n{detail}\nRun one of its commands to see the full"
                " traceback.\n",
                err=True,
                fg="red",
            )
        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        """Create the context with a :class:`ScriptInfo` as ``obj``.

        Sets ``ERLEN_RUN_FROM_CLI=true`` first, so an ``app.run()`` call at import
        time does not start a second server. Dotenv files are loaded while the
        options are parsed.
        """
        os.environ["ERLEN_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Apply ``--env-file`` and ``--app`` early when only help will be shown.

        Help is printed while options are still being processed; handling these
        two first lets it list the commands of an app named in the environment
        or a dotenv file. When parsing stops (help, ``--version``, a usage
        error), the context is closed, so an app context pushed while listing
        commands does not outlive it.
        """
        help_names = self.get_help_option_names(ctx)
        if (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in help_names
        ):
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        try:
            return super().parse_args(ctx, args)
        except BaseException:
            ctx.close()
            raise


def _load_flask_plugins(
    group: click.Group, entry_points: importlib.metadata.EntryPoints
) -> None:
    """Add the ``flask.commands`` plugins of Flask extensions, through the Flask patch.

    Such a plugin imports ``flask``, so :mod:`erlen.flask_patch` is applied first.
    A plugin that cannot be loaded is reported on stderr and left out, so it
    cannot break the ``erlen`` command. Built-in commands keep their names.
    """
    try:
        from . import flask_patch

        flask_patch.apply()
    except RuntimeError as e:  # the real Flask is already imported
        click.secho(f"Warning: Flask extension commands not loaded. {e}", err=True)
        return
    for ep in entry_points:
        if ep.name in group.commands:
            continue
        try:
            command = ep.load()
        except Exception as e:
            detail = "".join(traceback.format_exception_only(type(e), e)).rstrip()
            click.secho(
                f"Warning: the Flask extension command {ep.name!r} ({ep.value})"
                f" could not be loaded: {detail}",
                err=True,
            )
            continue
        group.add_command(command, ep.name)


def load_dotenv(
    path: str | os.PathLike[str] | None = None, load_defaults: bool = True
) -> bool:
    """Load environment variables from dotenv files; return whether any were found.

    With ``load_defaults``, ``.erlenenv`` and then ``.env`` are looked up from the
    working directory upwards. The file at ``path`` is loaded last and wins over
    them. Variables already in :data:`os.environ` are never changed. Without
    python-dotenv installed, nothing is loaded and a tip is printed if such
    files exist.
    """
    try:
        import dotenv
    except ImportError:
        if path or os.path.isfile(".env") or os.path.isfile(".erlenenv"):
            click.secho(
                " * Tip: There are .env or .erlenenv files present. Install"
                " python-dotenv to use them.",
                fg="yellow",
                err=True,
            )
        return False

    values: dict[str, str | None] = {}
    if load_defaults:
        for name in (".erlenenv", ".env"):
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                values.update(dotenv.dotenv_values(found, encoding="utf-8"))
    if path is not None and os.path.isfile(path):
        values.update(dotenv.dotenv_values(path, encoding="utf-8"))

    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    return bool(values)


def show_server_banner(debug: bool, app_import_path: str | None) -> None:
    """Print the app being served and the debug mode, except in the reloader child."""
    if is_running_from_reloader():
        return
    if app_import_path is not None:
        click.echo(f" * Serving erlen app '{app_import_path}'")
    click.echo(f" * Debug mode: {'on' if debug else 'off'}")


class CertParamType(click.ParamType):  # type: ignore[type-arg]
    """``--cert``: a certificate file, ``adhoc``, or an import path to an SSLContext."""

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        try:
            import ssl
        except ImportError:  # pragma: no cover
            raise click.BadParameter(
                'Using "--cert" requires Python to be compiled with SSL support.',
                ctx,
                param,
            ) from None

        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            text = click.STRING(value, param, ctx)
            if text.lower() == "adhoc":
                try:
                    importlib.import_module("cryptography")
                except ImportError:
                    raise click.BadParameter(
                        "Using ad-hoc certificates requires the cryptography"
                        " library. Install it with 'pip install cryptography'.",
                        ctx,
                        param,
                    ) from None
                return "adhoc"

            obj = import_string(text, silent=True)
            if isinstance(obj, ssl.SSLContext):
                return obj
            raise


def _validate_key(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """Check ``--key`` against ``--cert`` and join them into ``(cert, key)``."""
    cert = ctx.params.get("cert")
    is_adhoc = cert == "adhoc"
    try:
        import ssl
    except ImportError:  # pragma: no cover
        is_context = False
    else:
        is_context = isinstance(cert, ssl.SSLContext)

    if value is not None:
        if is_adhoc:
            raise click.BadParameter(
                'When "--cert" is "adhoc", "--key" is not used.', ctx, param
            )
        if is_context:
            raise click.BadParameter(
                'When "--cert" is an SSLContext object, "--key" is not used.',
                ctx,
                param,
            )
        if not cert:
            raise click.BadParameter('"--cert" must also be specified.', ctx, param)
        ctx.params["cert"] = cert, value
    elif cert and not (is_adhoc or is_context):
        raise click.BadParameter('Required when using "--cert".', ctx, param)
    return value


class SeparatedPathType(click.Path):
    """Paths separated by :data:`os.pathsep`, each checked like :class:`click.Path`."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        items = self.split_envvar_value(value)
        return [
            super(SeparatedPathType, self).convert(item, param, ctx) for item in items
        ]


@click.command("run", short_help="Run a development server.")
@click.option("--host", "-h", default="127.0.0.1", help="The interface to bind to.")
@click.option("--port", "-p", default=5000, help="The port to bind to.")
@click.option(
    "--cert",
    type=CertParamType(),
    help="Specify a certificate file to use HTTPS.",
    is_eager=True,
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_validate_key,
    expose_value=False,
    help="The key file to use when specifying a certificate.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Enable or disable the reloader. By default the reloader is active if"
    " debug is enabled.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Enable or disable the debugger. By default the debugger is active if"
    " debug is enabled.",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    help="Enable or disable multithreading.",
)
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    help=(
        "Extra files that trigger a reload on change. Multiple paths are"
        f" separated by {os.path.pathsep!r}."
    ),
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    help=(
        "Files matching these fnmatch patterns will not trigger a reload on"
        " change. Multiple patterns are separated by"
        f" {os.path.pathsep!r}."
    ),
)
@click.option(
    "--asgi",
    is_flag=True,
    default=False,
    help="Serve through the app's ASGI entry with uvicorn (pip install"
    " 'erlen[asgi]'): async views run on its event loop, WebSocket routes work.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: ssl.SSLContext | tuple[str, str | None] | t.Literal["adhoc"] | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
    asgi: bool = False,
) -> None:
    """Run a local development server.

    This server is for development only; use a production WSGI server to
    deploy. The reloader and debugger follow debug mode unless set here.
    With ``--asgi`` the server is uvicorn, with its reloader.
    """
    if asgi:
        _run_asgi(info, host, port, reload, cert, extra_files)
        return
    app: WSGIApplication
    try:
        app = info.load_app()
    except Exception as e:
        if not is_running_from_reloader():
            raise e from None
        traceback.print_exc()
        err = e

        def failed_app(
            environ: WSGIEnvironment, start_response: StartResponse
        ) -> cabc.Iterable[bytes]:
            raise err from None

        app = failed_app

    debug = get_debug_flag()
    if reload is None:
        reload = debug
    if debugger is None:
        debugger = debug

    show_server_banner(debug, info.app_import_path)
    if debugger and not is_running_from_reloader():
        from .security import debugger_binding_message

        message, warning = debugger_binding_message(host)
        click.secho(message, fg="red" if warning else None, err=warning)
    run_simple(
        host,
        port,
        app,
        use_reloader=reload,
        use_debugger=debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
    )


run_command.params.insert(0, _debug_option)


def _run_asgi(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    cert: t.Any,
    extra_files: list[str] | None,
) -> None:
    """``erlen run --asgi``: serve the app's ASGI entry with uvicorn."""
    try:
        import uvicorn
    except ImportError:
        raise click.UsageError(
            "'--asgi' serves the app with uvicorn, which is not installed."
            " Install it with: pip install 'erlen[asgi]'"
        ) from None
    if cert is not None:
        raise click.UsageError(
            "'--cert' is not supported with '--asgi'; run uvicorn directly"
            " with '--ssl-certfile' and '--ssl-keyfile'."
        )
    app = info.load_app()  # fails here, with the usual messages, if it cannot load
    debug = get_debug_flag()
    if reload is None:
        reload = debug
    show_server_banner(debug, info.app_import_path)
    options: dict[str, t.Any] = {
        "host": host,
        "port": port,
        "log_level": "debug" if debug else "info",
    }
    if reload and info.create_app is None:
        # The reloader imports the app again in a new process: by name.
        if info.app_import_path:
            os.environ["ERLEN_APP"] = info.app_import_path
        uvicorn.run(
            "erlen.cli:load_asgi_app",
            factory=True,
            reload=True,
            reload_dirs=[os.getcwd(), *(extra_files or ())],
            **options,
        )
    else:
        if reload:
            click.secho(
                " * The reloader needs an app found by '--app' or ERLEN_APP;"
                " serving without it.",
                fg="yellow",
            )
        uvicorn.run(app, **options)


def load_asgi_app() -> Erlen:
    """Load the app as ``erlen run`` does, from ``ERLEN_APP`` (uvicorn's reloader calls it)."""
    return ScriptInfo(app_import_path=os.environ.get("ERLEN_APP")).load_app()


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the app's context.

    The namespace holds ``app``, ``g`` and whatever the app's shell context
    processors return; ``PYTHONSTARTUP`` is run first.
    """
    import code

    app = _cv_app.get().app
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\n"
        f"Instance: {app.instance_path}"
    )
    namespace: dict[str, t.Any] = {}

    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup, encoding="utf-8") as f:
            exec(compile(f.read(), startup, "exec"), namespace)

    namespace.update(app.make_shell_context())

    interactive_hook = getattr(sys, "__interactivehook__", None)
    if interactive_hook is not None:
        try:
            import readline
            from rlcompleter import Completer
        except ImportError:  # pragma: no cover
            pass
        else:
            readline.set_completer(Completer(namespace).complete)
        interactive_hook()

    code.interact(banner=banner, local=namespace)


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help=(
        "Method to sort routes by. 'match' is the order that erlen will match"
        " routes when dispatching a request."
    ),
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show all registered routes with their endpoints and methods."""
    url_map = current_app.url_map
    rules = list(url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return

    hidden = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = url_map.host_matching

    def domain(rule: t.Any) -> str:
        return (rule.host if host_matching else rule.subdomain) or ""

    show_domain = any(domain(rule) for rule in rules)
    headers = ["Endpoint", "Methods"]
    if show_domain:
        headers.append("Host" if host_matching else "Subdomain")
    headers.append("Rule")

    rows: list[list[str]] = []
    for rule in rules:
        row = [rule.endpoint, ", ".join(sorted((rule.methods or set()) - hidden))]
        if show_domain:
            row.append(domain(rule))
        row.append(rule.rule)
        rows.append(row)

    columns = {"endpoint": 0, "methods": 1, "rule": len(headers) - 1}
    if show_domain:
        columns["domain"] = 2
    if sort in columns:
        rows.sort(key=itemgetter(columns[sort]))

    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * w for w in widths], *rows]:
        click.echo(
            "  ".join(
                cell.ljust(w) for cell, w in zip(row, widths, strict=True)
            ).rstrip()
        )


@click.command("check", short_help="Check the app's configuration for problems.")
@click.option(
    "--deploy",
    is_flag=True,
    help="Also run the checks for a production deployment.",
)
@with_appcontext
def check_command(deploy: bool) -> None:
    """Check the app's configuration and print each problem with its fix.

    With --deploy, also check what a production deployment needs: a strong
    SECRET_KEY, debug off, a body limit, TRUSTED_HOSTS, secure cookies, no
    reachable debugger, dependencies without known advisories, and the
    checks of installed extensions. Exits with status 1 when any problem is
    found.
    """
    from .checks import run_deploy_checks

    app = _cv_app.get().app
    problems = run_deploy_checks(app, deploy=deploy)
    what = "deployment checks" if deploy else "checks"
    if not problems:
        click.echo(f"No problems found by the {what} of app '{app.name}'.")
        return
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    click.echo(f"The {what} of app '{app.name}' found {count}:\n")
    for problem in problems:
        click.echo(f"[{problem.check}] {problem.message}")
        click.echo(f"    Fix: {problem.fix}")
    raise click.exceptions.Exit(1)


cli = ErlenGroup(
    name="erlen",
    help="""\
A general utility script for erlen applications.

An application to load must be given with the '--app' option,
'ERLEN_APP' environment variable, or with a 'wsgi.py' or 'app.py' file
in the current directory.
""",
)


def main() -> None:
    """Run the ``erlen`` command line; the console script's entry point."""
    cli.main()
