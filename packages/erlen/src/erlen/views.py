"""Class-based views: ``View`` and ``MethodView``."""

from __future__ import annotations

import inspect
import typing as t

from . import typing as ft
from .globals import current_app
from .globals import request

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

http_method_funcs = frozenset(
    ["get", "post", "head", "options", "delete", "put", "trace", "patch"]
)


class View:
    """A class-based view: subclass it, implement :meth:`dispatch_request`, register
    ``MyView.as_view("name")``.

    By default a new instance is created per request (``init_every_request``);
    set it to ``False`` to reuse one instance, which must then hold no
    per-request state.
    """

    #: Methods the view accepts; defaults to ``GET`` (with HEAD and OPTIONS).
    methods: t.ClassVar[t.Collection[str] | None] = None
    #: Whether ``OPTIONS`` is answered automatically.
    provide_automatic_options: t.ClassVar[bool | None] = None
    #: Decorators applied, in order, to the function :meth:`as_view` returns.
    decorators: t.ClassVar[list[t.Callable[..., t.Any]]] = []
    #: Create a new instance for every request.
    init_every_request: t.ClassVar[bool] = True

    def dispatch_request(self) -> ft.ResponseReturnValue:
        """Handle the request; the URL arguments are passed as keyword arguments."""
        raise NotImplementedError()

    @classmethod
    def as_view(
        cls, name: str, *class_args: t.Any, **class_kwargs: t.Any
    ) -> ft.RouteCallable:
        """Turn the class into a view function named ``name`` (the endpoint).

        Arguments are passed to the constructor.
        """
        async_class = not cls.decorators and _is_async_class(cls)
        if cls.init_every_request and not async_class:

            def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
                self = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
                return current_app.ensure_sync(self.dispatch_request)(**kwargs)  # type: ignore[no-any-return]

        elif not async_class:
            self = cls(*class_args, **class_kwargs)

            def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
                return current_app.ensure_sync(self.dispatch_request)(**kwargs)  # type: ignore[no-any-return]

        else:
            view = _async_view(cls, class_args, class_kwargs)  # type: ignore[assignment]

        if cls.decorators:
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)

        view.view_class = cls  # type: ignore[attr-defined]
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods  # type: ignore[attr-defined]
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """Dispatch to the method named after the HTTP method: ``get``, ``post``...

    ``methods`` is filled in from the handlers a subclass defines; ``HEAD``
    falls back to ``get``.
    """

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" not in cls.__dict__:
            methods = set()
            for base in cls.__bases__:
                if getattr(base, "methods", None):
                    methods.update(base.methods)  # type: ignore[attr-defined]
            for key in http_method_funcs:
                if hasattr(cls, key):
                    methods.add(key.upper())
            if methods:
                cls.methods = methods

    def dispatch_request(self, **kwargs: t.Any) -> ft.ResponseReturnValue:
        return current_app.ensure_sync(self._handler())(**kwargs)  # type: ignore[no-any-return]

    def _handler(self) -> t.Callable[..., t.Any]:
        """The method that handles this request's HTTP method."""
        meth = getattr(self, request.method.lower(), None)
        if meth is None and request.method == "HEAD":
            meth = getattr(self, "get", None)
        assert meth is not None, f"Unimplemented method {request.method!r}"
        return meth  # type: ignore[no-any-return]


def _is_async_class(cls: type[View]) -> bool:
    """Whether the view's code is all ``async def``: its ``dispatch_request``,
    or every handler of a ``MethodView`` that keeps the default one."""
    if inspect.iscoroutinefunction(cls.dispatch_request):
        return True
    if not issubclass(cls, MethodView) or (
        cls.dispatch_request is not MethodView.dispatch_request
    ):
        return False
    handlers = [getattr(cls, m) for m in http_method_funcs if hasattr(cls, m)]
    return bool(handlers) and all(inspect.iscoroutinefunction(h) for h in handlers)


def _async_view(
    cls: type[View], class_args: tuple[t.Any, ...], class_kwargs: dict[str, t.Any]
) -> ft.RouteCallable:
    """An ``async def`` view for an all-async class, so ASGI servers await it on
    their loop (WSGI runs it like any async view)."""
    by_method = not inspect.iscoroutinefunction(cls.dispatch_request)
    shared = None if cls.init_every_request else cls(*class_args, **class_kwargs)

    async def view(**kwargs: t.Any) -> ft.ResponseReturnValue:
        if shared is not None:
            self = shared
        else:
            self = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]
        if by_method:
            return await t.cast(MethodView, self)._handler()(**kwargs)  # type: ignore[no-any-return]
        return await self.dispatch_request(**kwargs)  # type: ignore[misc,no-any-return]

    return view
