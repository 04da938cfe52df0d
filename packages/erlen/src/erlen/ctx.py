"""The application and request contexts, held in :mod:`contextvars`.

The app context makes :data:`current_app` and :data:`g` available; it can be
used alone (CLI commands, tests, background jobs). The request context adds
:data:`request` and :data:`session`, and pushes an app context if none is active.
"""

from __future__ import annotations

import contextvars
import sys
import typing as t
import weakref
from functools import update_wrapper
from types import TracebackType

from werkzeug.exceptions import HTTPException

from . import typing as ft
from .globals import _cv_app
from .globals import _cv_request
from .signals import appcontext_popped
from .signals import appcontext_pushed

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.routing import MapAdapter

    from .app import Erlen
    from .sessions import SessionMixin
    from .wrappers import Request

_sentinel = object()


class _AppCtxGlobals:
    """The ``g`` namespace: any attribute, for the lifetime of one app context.

    Annotate attributes on a subclass set as ``app.app_ctx_globals_class`` to
    give type checkers the names you store on it.
    """

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        self.__dict__[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None

    def get(self, name: str, default: t.Any | None = None) -> t.Any:
        """The attribute ``name``, or ``default``."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: t.Any = _sentinel) -> t.Any:
        """Remove and return ``name``; ``KeyError`` without a ``default``."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: t.Any = None) -> t.Any:
        """Return ``name``, setting it to ``default`` first if it is missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        ctx = _cv_app.get(None)
        if ctx is not None:
            return f"<erlen.g of '{ctx.app.name}'>"
        return object.__repr__(self)


def after_this_request(
    f: ft.AfterRequestCallable[t.Any],
) -> ft.AfterRequestCallable[t.Any]:
    """Run ``f(response)`` after the current request only, before ``after_request`` hooks."""
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request context is"
            " active, such as in a view function."
        )
    ctx._after_request_functions.append(f)
    return f


F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def copy_current_request_context(f: F) -> F:
    """Decorate ``f`` so it runs in a copy of the current request context.

    Useful for work handed to a thread or greenlet that needs ``request``.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a request"
            " context is active, such as in a view function."
        )
    ctx = ctx.copy()

    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        with ctx:
            return ctx.app.ensure_sync(f)(*args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


def has_request_context() -> bool:
    """Whether a request context is active (so ``request`` can be used)."""
    return _cv_request.get(None) is not None


def has_app_context() -> bool:
    """Whether an app context is active (so ``current_app`` can be used)."""
    return _cv_app.get(None) is not None


class AppContext:
    """Makes ``current_app`` and ``g`` available; push with ``with app.app_context():``.

    The same context can be pushed more than once; teardown functions run when
    the outermost push is popped.
    """

    def __init__(self, app: Erlen) -> None:
        self.app = app
        self.g: _AppCtxGlobals = app.app_ctx_globals_class()
        self._url_adapter: MapAdapter | None | object = _sentinel
        self._cv_tokens: list[contextvars.Token[AppContext]] = []
        #: Streams (``stream_with_context``) still to be sent; teardown waits
        #: for the last of them.
        self._stream_holds = 0
        #: The error the outermost pop saw while a stream held the teardown.
        self._deferred_exc: BaseException | None = None

    @property
    def url_adapter(self) -> MapAdapter | None:
        """A URL adapter for building URLs without a request; made on first use."""
        if self._url_adapter is _sentinel:
            self._url_adapter = self.app.create_url_adapter(None)
        return self._url_adapter  # type: ignore[return-value]

    @url_adapter.setter
    def url_adapter(self, value: MapAdapter | None) -> None:
        self._url_adapter = value

    def push(self) -> None:
        """Bind this context to the current thread or task."""
        self._cv_tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Unbind this context; the outermost pop runs the teardown functions."""
        try:
            if len(self._cv_tokens) == 1:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                if self._stream_holds:  # the stream tears down, with this error
                    self._deferred_exc = exc or self._deferred_exc
                else:
                    self.app.do_teardown_appcontext(exc or self._deferred_exc)
        finally:
            ctx = _cv_app.get()
            _cv_app.reset(self._cv_tokens.pop())
        if ctx is not self:
            raise AssertionError(
                f"Popped wrong app context. ({ctx!r} instead of {self!r})"
            )
        if appcontext_popped.receivers:
            appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)


class RequestContext:
    """Everything about one request: ``request``, ``session``, URL matching, flashes.

    The session is opened lazily, on first access to :attr:`session`, so a
    request that never touches it pays nothing for it.
    """

    def __init__(
        self,
        app: Erlen,
        environ: WSGIEnvironment,
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        self.app = app
        if request is None:
            request = app.request_class(environ)
            request.json_module = app.json
        self.request: Request = request
        self.url_adapter: MapAdapter | None = None
        try:
            self.url_adapter = app.create_url_adapter(request)
        except HTTPException as e:
            request.routing_exception = e
        self.flashes: list[tuple[str, str]] | None = None
        self._opened_session = session
        self._after_request_functions: list[ft.AfterRequestCallable[t.Any]] = []
        #: (url rule, hook chain) of this request, kept by the app.
        self._hook_cache: tuple[t.Any, t.Any] | None = None
        self._cv_tokens: list[
            tuple[contextvars.Token[RequestContext], AppContext | None]
        ] = []
        self._stream_holds = 0
        self._deferred_exc: BaseException | None = None
        #: The live streams this request created (weakly held).
        self._streams: weakref.WeakSet[t.Any] | None = None

    @property
    def session(self) -> SessionMixin:
        """The session, opened through ``app.session_interface`` on first access."""
        session = self._opened_session
        if session is None:
            interface = self.app.session_interface
            session = interface.open_session(self.app, self.request)
            if session is None:
                session = interface.make_null_session(self.app)
            self._opened_session = session
        return session

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self._opened_session = value

    @property
    def _session(self) -> SessionMixin:
        """Alias of :attr:`session` for code written against Flask's internals."""
        return self.session

    @property
    def session_opened(self) -> bool:
        """Whether the session was opened (or set) during this request."""
        return self._opened_session is not None

    def copy(self) -> RequestContext:
        """A new context for the same request and session, to push elsewhere."""
        return self.__class__(
            self.app,
            environ=self.request.environ,
            request=self.request,
            session=self.session,
        )

    def match_request(self) -> None:
        """Match the URL; store the rule and arguments, or the routing error."""
        try:
            result = self.url_adapter.match(return_rule=True)  # type: ignore[union-attr]
            self.request.url_rule, self.request.view_args = result  # type: ignore[assignment]
        except HTTPException as e:
            self.request.routing_exception = e

    def push(self) -> None:
        """Bind the context (and an app context, if needed) and match the URL."""
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx.push()
        else:
            app_ctx = None
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        if self.url_adapter is not None:
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Unbind the context; the outermost pop runs teardown and closes the request."""
        # The outermost pop tears down, unless a stream of this request is
        # still to be sent: then the stream's own pop does it, afterwards.
        outermost = len(self._cv_tokens) == 1
        clear_request = outermost and not self._stream_holds
        try:
            if outermost and exc is _sentinel:
                exc = sys.exc_info()[1]
            if (
                outermost and self._stream_holds
            ):  # the stream tears down, with this error
                self._deferred_exc = exc or self._deferred_exc
            if clear_request:
                exc = exc or self._deferred_exc
                try:
                    self.app.do_teardown_request(exc)
                finally:
                    self.request.close()
        finally:
            ctx = _cv_request.get()
            token, app_ctx = self._cv_tokens.pop()
            _cv_request.reset(token)
            if clear_request:
                ctx.request.environ["werkzeug.request"] = None
            if app_ctx is not None:
                app_ctx.pop(exc)
        if ctx is not self:
            raise AssertionError(
                f"Popped wrong request context. ({ctx!r} instead of {self!r})"
            )

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.request.url!r}"
            f" [{self.request.method}] of {self.app.name}>"
        )
