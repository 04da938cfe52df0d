"""erlen-login in Socket.IO handlers, found at run time (never a dependency).

``current_user`` works in handlers as in views, since handlers run in a
request context holding the connection's session. :func:`login_required`
guards an event handler, or every handler of a :class:`Namespace` class.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import typing as t
import weakref

from socketio.exceptions import ConnectionRefusedError as SocketIORefused

from ._context import optional_handling
from ._context import Pending

T = t.TypeVar("T")


def _current_user() -> t.Any:
    try:
        module = importlib.import_module("erlen_login")
    except ImportError:
        raise RuntimeError(
            "login_required needs erlen-login for 'current_user': install it with"
            " pip install 'erlen[login]' and set up its LoginManager."
        ) from None
    return module.current_user


def is_authenticated() -> bool:
    """Whether erlen-login's ``current_user`` is logged in (an error without it)."""
    return bool(getattr(_current_user(), "is_authenticated", False))


def _refuse(event: str) -> None:
    if event == "connect":
        raise SocketIORefused("unauthorized")
    handling = optional_handling()
    if handling is not None:
        from .helpers import disconnect

        disconnect()


def _join_user_room() -> t.Any:
    """Put the connection in its user's room, so ``disconnect_user`` finds it."""
    from .extension import user_room
    from .helpers import join_room

    user_id = getattr(_current_user(), "get_id", lambda: None)()
    if user_id is None:
        return Pending()
    return join_room(user_room(user_id))


_logout_hooks: weakref.WeakSet[t.Any] = weakref.WeakSet()


def on_logout(app: t.Any, disconnect_user: t.Callable[[t.Any], None]) -> None:
    """With erlen-login installed, disconnect a user's sockets when they log out."""
    if app in _logout_hooks:
        return
    try:
        signal = importlib.import_module("erlen_login").user_logged_out
    except (ImportError, AttributeError):
        return
    _logout_hooks.add(app)

    def logged_out(sender: t.Any, **kwargs: t.Any) -> None:
        user = kwargs.get("user")
        get_id = getattr(user, "get_id", None)
        user_id = get_id() if callable(get_id) else None
        if user_id is None:
            return
        try:
            disconnect_user(user_id)
        except Exception:
            app.logger.exception(
                "could not disconnect the sockets of a logged-out user"
            )

    signal.connect(logged_out, sender=app, weak=False)


def _guard(func: t.Callable[..., t.Any], event: str | None) -> t.Callable[..., t.Any]:
    def event_name() -> str:
        if event is not None:
            return event
        from erlen.globals import request

        return str(getattr(request, "event", {}).get("message", ""))

    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def async_guarded(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if not is_authenticated():
                _refuse(event_name())
                return None
            if event_name() == "connect":
                await _join_user_room()
            return await func(*args, **kwargs)

        return async_guarded

    @functools.wraps(func)
    def guarded(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if not is_authenticated():
            _refuse(event_name())
            return None
        if event_name() == "connect":
            _join_user_room()
        return func(*args, **kwargs)

    return guarded


def login_required(target: T) -> T:
    """Refuse a handler's event unless ``current_user.is_authenticated``.

    On a ``connect`` handler the connection is refused; on another event the
    client is disconnected and the handler does not run. On a
    :class:`~erlen_socketio.Namespace` subclass, every ``on_*`` method is
    guarded, so the namespace is for logged-in users only.
    """
    from .namespace import Namespace

    if isinstance(target, type) and issubclass(target, Namespace):
        for name, member in list(vars(target).items()):
            if name.startswith("on_") and callable(member):
                event = name[3:]
                setattr(target, name, _guard(member, event))
        if "on_connect" not in vars(target):

            def on_connect(self: t.Any) -> None:
                return None

            target.on_connect = _guard(on_connect, "connect")  # type: ignore[attr-defined]
        return t.cast(T, target)
    if callable(target):
        return t.cast(T, _guard(target, None))
    raise TypeError("login_required decorates a handler function or a Namespace class")
