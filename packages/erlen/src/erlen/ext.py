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

from .checks import add_deploy_check as add_deploy_check
from .checks import DeployProblem as DeployProblem
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Erlen

StateT = t.TypeVar("StateT")


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
        """Register the extension on ``app``; a second call for the same app is an error."""
        if self.name in app.extensions:
            raise ExtensionError(
                f"The {self.name!r} extension is already registered on the app"
                f" {app.name!r}. Call 'init_app' once per app; to replace it,"
                f" remove app.extensions[{self.name!r}] first."
            )
        for key, value in self.config_defaults.items():
            app.config.setdefault(key, value)
        state = self.create_state(app)
        app.extensions[self.name] = state
        self.setup_app(app, state)
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

        Raises a clear error when no app is active or the extension was never
        registered on it.
        """
        app = get_app(app, purpose=f"use the {self.name!r} extension")
        try:
            return t.cast(StateT, app.extensions[self.name])
        except KeyError:
            raise ExtensionError(
                f"The {self.name!r} extension is not registered on the app"
                f" {app.name!r}. Did you forget to call"
                f" '{type(self).__name__.lower()}.init_app(app)'?"
            ) from None

    @property
    def state(self) -> StateT:
        """The state for the active app; see :meth:`get_state`."""
        return self.get_state()
