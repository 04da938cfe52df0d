"""The extension protocol: one small, typed base that every erlen extension shares.

An extension is created once, ``ext = MyExt()``, and bound to any number of apps
with ``ext.init_app(app)`` (or ``MyExt(app)``). Everything that belongs to one app
lives in ``app.extensions[ext.name]``; the extension object itself holds only
options that are the same for every app. At run time the extension finds its
state through :data:`erlen.current_app`.

.. code-block:: python

    class Greeter(Extension["GreeterState"]):
        name = "greeter"
        config_defaults = {"GREETER_WORD": "Hello"}

        def create_state(self, app: Erlen) -> GreeterState:
            return GreeterState(word=app.config["GREETER_WORD"])

        def greet(self, who: str) -> str:
            return f"{self.state.word}, {who}!"
"""

from __future__ import annotations

import collections.abc as cabc
import typing as t
import weakref

from .checks import add_deploy_check as add_deploy_check
from .checks import DeployProblem as DeployProblem
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Erlen

StateT = t.TypeVar("StateT")

#: Which extension object registered each state: ``{app: {name: extension}}``.
#: ``app.extensions[name]`` stays the state itself, so code that reads it
#: directly keeps working; this records who owns it.
_owners: weakref.WeakKeyDictionary[Erlen, dict[str, Extension[t.Any]]] = (
    weakref.WeakKeyDictionary()
)

#: The app registries ``setup_app`` typically adds to, restored if it fails.
_DICT_REGISTRIES = (
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "template_context_processors",
    "url_value_preprocessors",
    "url_default_functions",
)
_LIST_REGISTRIES = ("teardown_appcontext_funcs", "shell_context_processors")


def registered_extension(app: Erlen, name: str) -> Extension[t.Any] | None:
    """The extension object that registered ``app.extensions[name]``, if one did."""
    return _owners.get(app, {}).get(name)


#: The attribute :func:`nonblocking` sets on a hook.
_NONBLOCKING = "__erlen_nonblocking__"

HookT = t.TypeVar("HookT", bound=t.Callable[..., t.Any])


@t.overload
def nonblocking(
    func: HookT, *, unless: t.Callable[[], bool] | None = None
) -> HookT: ...


@t.overload
def nonblocking(
    func: None = None, *, unless: t.Callable[[], bool]
) -> t.Callable[[HookT], HookT]: ...


def nonblocking(
    func: HookT | None = None, *, unless: t.Callable[[], bool] | None = None
) -> HookT | t.Callable[[HookT], HookT]:
    """Mark a sync hook that never blocks, so the ASGI entry calls it on the event loop.

    Without the mark, a sync ``before_request``, ``after_request`` or teardown
    function of an ``async def`` view runs in the thread pool, which costs a
    thread hop per request. Mark only functions that do no I/O and take no
    lock that another thread may hold; under WSGI the mark changes nothing.

    ``unless`` makes the mark conditional, for a ``before_request`` or
    ``after_request`` hook that blocks only with some setting: a function
    without arguments, asked on the loop before each call (so cheap and never
    blocking), that returns true when this call may block. It marks a plain
    function only: on a method it would hold for every instance. A teardown
    function's conditional mark counts as none (popping is planned before the
    request's contexts exist).
    """
    if func is None:
        if unless is None:
            raise TypeError("nonblocking() takes a hook, or unless= to decorate one")
        condition = unless
        return lambda hook: nonblocking(hook, unless=condition)
    if unless is not None and hasattr(func, "__func__"):
        raise TypeError(
            f"nonblocking({func!r}, unless=...) would mark the method for every"
            " instance of its class; mark a function that calls it instead"
        )
    target = getattr(func, "__func__", func)  # a method: mark its function
    try:
        setattr(target, _NONBLOCKING, True if unless is None else unless)
    except AttributeError:
        raise TypeError(
            f"nonblocking() cannot mark {func!r}: it takes no attributes;"
            " mark the function it calls instead"
        ) from None
    return func


def is_nonblocking(func: t.Callable[..., t.Any]) -> bool:
    """Whether ``func`` was marked with :func:`nonblocking` (its ``unless``
    condition, if any, asked now)."""
    mark = getattr(func, _NONBLOCKING, False)
    return mark is True or (callable(mark) and not mark())


def _is_always_nonblocking(func: t.Callable[..., t.Any]) -> bool:
    """Whether ``func`` carries an unconditional :func:`nonblocking` mark."""
    return getattr(func, _NONBLOCKING, False) is True


class ExtensionError(RuntimeError):
    """An extension was used in a way that cannot work; the message says how to fix it."""


def get_app(app: Erlen | None = None, *, purpose: str = "use this extension") -> Erlen:
    """Return ``app`` or the active application, with a clear error when there is none."""
    if app is not None:
        return app
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            f"Working outside of application context: an application context is"
            f" needed to {purpose}. Push one with 'with app.app_context():' in"
            " scripts, jobs and tests."
        )
    return ctx.app


class Extension(t.Generic[StateT]):
    """Base class for extensions that keep per-app state in ``app.extensions``.

    Subclasses set :attr:`name`, may set :attr:`config_defaults`, implement
    :meth:`create_state` and may override :meth:`setup_app` to register hooks,
    CLI commands, template globals and blueprints.
    """

    #: Key in ``app.extensions``; also used in error messages.
    name: t.ClassVar[str]
    #: Config values set with ``setdefault`` before :meth:`create_state` runs.
    config_defaults: t.ClassVar[cabc.Mapping[str, t.Any]] = {}

    def __init__(self, app: Erlen | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        """Register the extension on ``app``; a second call for the same app is an error.

        Registration is all or nothing: if :meth:`create_state` or
        :meth:`setup_app` raises, the state, the config defaults this call
        added and the hooks ``setup_app`` registered are removed again, so
        the call can be retried. After the app handled its first request,
        it raises the core's "setup method" error and changes nothing.
        """
        if self.name in app.extensions:
            raise ExtensionError(
                f"The {self.name!r} extension is already registered on the app"
                f" {app.name!r}. Call 'init_app' once per app; to replace it,"
                f" remove app.extensions[{self.name!r}] first."
            )
        app._check_setup_finished("init_app")
        added_config = [k for k in self.config_defaults if k not in app.config]
        snapshot = _snapshot(app)
        try:
            for key, value in self.config_defaults.items():
                app.config.setdefault(key, value)
            state = self.create_state(app)
            app.extensions[self.name] = state
            _owners.setdefault(app, {})[self.name] = self
            self.setup_app(app, state)
        except BaseException:
            app.extensions.pop(self.name, None)
            owners = _owners.get(app)
            if owners is not None and owners.get(self.name) is self:
                del owners[self.name]
            for key in added_config:
                app.config.pop(key, None)
            _restore(app, snapshot)
            raise
        if type(self).deploy_problems is not Extension.deploy_problems:
            add_deploy_check(app, lambda a: self.deploy_problems(a, self.get_state(a)))

    def create_state(self, app: Erlen) -> StateT:
        """Build the per-app state stored in ``app.extensions[self.name]``."""
        raise NotImplementedError

    def setup_app(self, app: Erlen, state: StateT) -> None:
        """Register hooks, commands and globals on ``app``; the default does nothing."""

    def deploy_problems(
        self, app: Erlen, state: StateT
    ) -> cabc.Iterable[DeployProblem]:
        """Yield what is unsafe about this extension's setup for production.

        ``erlen check --deploy`` calls it for every app the extension is
        registered on (see :func:`add_deploy_check`); the default finds
        nothing. Example: a remember-me cookie that is not ``Secure``.
        """
        return ()

    def get_state(self, app: Erlen | None = None) -> StateT:
        """Return the state for ``app`` or the active app.

        Raises a clear error when no app is active, the extension was never
        registered on it, or another instance of the extension registered it
        (a second ``SQLAlchemy()`` must not use the first one's engines).
        """
        app = get_app(app, purpose=f"use the {self.name!r} extension")
        try:
            state = app.extensions[self.name]
        except KeyError:
            raise ExtensionError(
                f"The {self.name!r} extension is not registered on the app"
                f" {app.name!r}. Did you forget to call"
                f" '{type(self).__name__.lower()}.init_app(app)'?"
            ) from None
        owner = registered_extension(app, self.name)
        if owner is not None and owner is not self:
            cls = type(self).__name__
            raise ExtensionError(
                f"This {cls} instance is not registered with this app ({app.name!r}):"
                f" the {self.name!r} extension was registered by another"
                f" {type(owner).__name__} instance. Call init_app(app) with this"
                " instance, or use the registered one."
            )
        return t.cast(StateT, state)

    @property
    def state(self) -> StateT:
        """The state for the active app; see :meth:`get_state`."""
        return self.get_state()


def _snapshot(app: Erlen) -> dict[str, t.Any]:
    """Copy the registries of ``app`` that ``setup_app`` may add to."""
    rv: dict[str, t.Any] = {
        name: {k: list(v) for k, v in getattr(app, name).items()}
        for name in _DICT_REGISTRIES
    }
    rv.update({name: list(getattr(app, name)) for name in _LIST_REGISTRIES})
    return rv


def _restore(app: Erlen, snapshot: dict[str, t.Any]) -> None:
    """Put back the registries :func:`_snapshot` copied (in place: others hold them)."""
    for name in _DICT_REGISTRIES:
        registry = getattr(app, name)
        saved = snapshot[name]
        for key in list(registry):
            if key in saved:
                registry[key][:] = saved[key]
            else:
                del registry[key]
    for name in _LIST_REGISTRIES:
        getattr(app, name)[:] = snapshot[name]
