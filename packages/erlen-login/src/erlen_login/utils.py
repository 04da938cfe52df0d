"""``current_user``, logging in and out, view decorators and redirect helpers."""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
import typing as t
from datetime import timedelta
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response as BaseResponse

from erlen import current_app
from erlen import g
from erlen import has_request_context
from erlen import redirect
from erlen import request
from erlen import session
from erlen import url_for
from erlen.security import is_safe_redirect_url

from . import config as _c
from .login_manager import _G_REMEMBER
from .login_manager import _G_USER
from .login_manager import _is_static
from .login_manager import _remember_digest
from .login_manager import LoginManager
from .login_manager import session_token_of
from .signals import user_logged_in
from .signals import user_logged_out
from .signals import user_login_confirmed

__all__ = [
    "authenticate",
    "confirm_login",
    "current_user",
    "decode_cookie",
    "encode_cookie",
    "fresh_login_required",
    "get_next_url",
    "login_exempt",
    "login_fresh",
    "login_remembered",
    "login_required",
    "login_url",
    "login_user",
    "logout_everywhere",
    "logout_user",
    "make_next_param",
    "set_login_view",
]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: The logged-in user, or an anonymous user; ``None`` outside a request.
current_user: t.Any = LocalProxy(lambda: _get_user())


def _manager() -> LoginManager:
    manager = getattr(current_app, "login_manager", None)
    if not isinstance(manager, LoginManager):
        raise RuntimeError(
            "No LoginManager is registered on this app. Create one with"
            " 'login_manager = LoginManager(app)' or 'login_manager.init_app(app)'."
        )
    return manager


def _get_user() -> t.Any:
    """Return the user of the current request, loading it on first use."""
    if not has_request_context():
        return None
    if _G_USER not in g:
        _manager()._load_user()
    return g.get(_G_USER)


def _user_context_processor() -> dict[str, t.Any]:
    """Template context processor: ``current_user`` in every template."""
    return {"current_user": _get_user()}


# -- the legacy cookie signature (Flask-Login's encode_cookie) ---------------------


def _secret_key(key: str | bytes | None = None) -> bytes:
    """Return ``key`` (or the app's ``SECRET_KEY``) as bytes."""
    if key is None:
        key = current_app.config["SECRET_KEY"]
    if isinstance(key, str):
        key = key.encode("latin1")
    return t.cast(bytes, key)


def _cookie_digest(payload: str, key: str | bytes | None = None) -> str:
    return hmac.new(
        _secret_key(key), payload.encode("utf-8"), hashlib.sha512
    ).hexdigest()


def encode_cookie(payload: str, key: str | bytes | None = None) -> str:
    """Sign ``payload`` as ``payload|HMAC-SHA512`` (Flask-Login's cookie format).

    erlen-login's remember cookie does not use it (it carries a rotating,
    expiring token); it stays for apps that sign their own values this way.
    """
    return f"{payload}|{_cookie_digest(payload, key=key)}"


def decode_cookie(cookie: str, key: str | bytes | None = None) -> str | None:
    """Return the payload of an :func:`encode_cookie` value, or ``None`` if forged.

    Without ``key`` every key in ``SECRET_KEY_FALLBACKS`` is tried after ``SECRET_KEY``.
    """
    try:
        payload, digest = cookie.rsplit("|", 1)
        digest.encode("ascii")
    except (ValueError, AttributeError, UnicodeError):
        return None
    keys: list[str | bytes | None] = [key]
    if key is None:
        keys.extend(current_app.config.get("SECRET_KEY_FALLBACKS") or ())
    for candidate in keys:
        if hmac.compare_digest(_cookie_digest(payload, key=candidate), digest):
            return payload
    return None


# -- login URLs ----------------------------------------------------------------


def expand_login_view(login_view: str) -> str:
    """Return ``login_view`` if it is a URL, else ``url_for(login_view)``."""
    if login_view.startswith(("https://", "http://", "/")):
        return login_view
    return url_for(login_view)


def make_next_param(login_url: str, current_url: str) -> str:
    """Shorten ``current_url`` to a path when it is on the login URL's origin."""
    l_url = urlsplit(login_url)
    c_url = urlsplit(current_url)
    if (not l_url.scheme or l_url.scheme == c_url.scheme) and (
        not l_url.netloc or l_url.netloc == c_url.netloc
    ):
        return urlunsplit(("", "", c_url.path, c_url.query, ""))
    return current_url


def login_url(
    login_view: str, next_url: str | None = None, next_field: str = "next"
) -> str:
    """Build the login page's URL with ``next`` pointing back to ``next_url``.

    ``FORCE_HOST_FOR_REDIRECTS`` puts that host into the URL.
    """
    base = expand_login_view(login_view)
    if next_url is None:
        return base
    parts = list(urlsplit(base))
    query = [
        (k, v)
        for k, v in parse_qsl(parts[3], keep_blank_values=True)
        if k != next_field
    ]
    query.append((next_field, make_next_param(base, next_url)))
    parts[3] = urlencode(sorted(query))
    force_host = current_app.config.get("FORCE_HOST_FOR_REDIRECTS")
    if force_host:
        parts[1] = force_host
    return urlunsplit(parts)


def set_login_view(login_view: str, blueprint: t.Any = None) -> None:
    """Set the login view of the current app, or of one blueprint."""
    manager = _manager()
    views = manager.blueprint_login_views
    if blueprint is None and not views:
        manager.login_view = login_view
        return
    if manager.login_view is not None and None not in views:
        views[None] = manager.login_view
    views[None if blueprint is None else blueprint.name] = login_view
    manager.login_view = None


def _redirect_with_next(view: str, manager: LoginManager) -> BaseResponse:
    if current_app.config.get("USE_SESSION_FOR_NEXT", _c.USE_SESSION_FOR_NEXT):
        session["_id"] = manager._session_identifier_generator()
        session["next"] = make_next_param(expand_login_view(view), request.url)
        return redirect(login_url(view))
    return redirect(login_url(view, next_url=request.url))


def get_next_url(default: str | None = None) -> str:
    """Return where to send the user after logging in: a safe ``next`` or ``default``.

    Looks at ``?next=``, a form field ``next`` and (with ``USE_SESSION_FOR_NEXT``)
    ``session["next"]``; each is checked with
    :func:`erlen.security.is_safe_redirect_url`, so ``//evil.example``,
    ``https://evil.example``, ``javascript:`` and friends give ``default``
    (``"/"`` when not given).
    """
    candidates = [request.args.get("next")]
    if request.method == "POST":
        candidates.append(request.form.get("next"))
    if current_app.config.get("USE_SESSION_FOR_NEXT") and "next" in session:
        candidates.append(session.pop("next"))
    for candidate in candidates:
        if candidate and is_safe_redirect_url(candidate):
            return candidate
    return default if default is not None else "/"


# -- logging in and out --------------------------------------------------------


def _rotate_session() -> None:
    """Start a new session: keep only ``LOGIN_SESSION_KEEP_KEYS``."""
    keep_keys = current_app.config.get("LOGIN_SESSION_KEEP_KEYS", _c.SESSION_KEEP_KEYS)
    kept = {k: session[k] for k in keep_keys if k in session}
    regenerate = getattr(session, "regenerate", None)
    if callable(regenerate):
        regenerate()
    session.clear()
    session.update(kept)


def login_user(
    user: t.Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool:
    """Log ``user`` in for this session; return ``False`` for an inactive user.

    The session is rotated first (only ``LOGIN_SESSION_KEEP_KEYS`` survive),
    then holds ``_user_id``, ``_fresh``, ``_id`` and ``_session_token``.

    :param remember: also set the remember-me cookie.
    :param duration: how long that cookie lasts instead of ``REMEMBER_COOKIE_DURATION``.
    :param force: log in even if ``user.is_active`` is false.
    :param fresh: mark the session fresh (see :func:`fresh_login_required`).
    """
    if not force and not user.is_active:
        return False
    manager = _manager()
    if duration is not None and not isinstance(duration, timedelta):
        raise TypeError(
            f"duration must be a datetime.timedelta, instead got: {duration}"
        )
    user_id = getattr(user, manager.id_attribute)()
    _rotate_session()
    session["_user_id"] = user_id
    session["_fresh"] = fresh
    session["_id"] = manager._session_identifier_generator()
    session["_session_token"] = session_token_of(user)
    if remember:
        expires = None
        if duration is not None:
            expires = time.time() + duration.total_seconds()
        value, expiry = manager._issue_remember_token(user, expires)
        setattr(g, _G_REMEMBER, ("set", value, expiry))
    elif current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies:
        setattr(g, _G_REMEMBER, ("clear", None, None))
    setattr(g, _G_USER, user)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user_logged_in.send(app, user=_get_user())
    return True


def _forget_remember_cookie(user: t.Any) -> None:
    cookie = request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"])
    if not cookie:
        return
    decoded = _manager()._decode_remember_cookie(cookie)
    if decoded is not None and hasattr(user, "use_remember_token"):
        user.use_remember_token(_remember_digest(decoded[1]))
    setattr(g, _G_REMEMBER, ("clear", None, None))


def logout_user() -> bool:
    """Log the current user out: clear the session and the remember-me cookie.

    The remember-me token of this browser is forgotten on the server too, so
    a copy of the cookie no longer logs anyone in.
    """
    user = _get_user()
    manager = _manager()
    _forget_remember_cookie(user)
    regenerate = getattr(session, "regenerate", None)
    if callable(regenerate):
        regenerate()
    session.clear()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user_logged_out.send(app, user=user)
    manager._update_request_context_with_user()
    return True


def logout_everywhere(user: t.Any = None, *, keep_current: bool = False) -> None:
    """End every session, remember cookie and bearer token of ``user``.

    Rotates the user's session token (``user.rotate_session_token()``, or a
    new ``session_token`` attribute). The app saves the user afterwards. With
    ``keep_current`` the session of this request stays logged in; otherwise
    it is logged out too.
    """
    import secrets

    target = _get_user() if user is None else user
    rotate = getattr(target, "rotate_session_token", None)
    if callable(rotate):
        rotate()
    else:
        target.session_token = secrets.token_urlsafe(24)
        if hasattr(target, "clear_remember_tokens"):
            target.clear_remember_tokens()
    current = _get_user()
    is_current = getattr(current, "is_authenticated", False) and current == target
    if is_current and keep_current:
        session["_session_token"] = session_token_of(target)
        _reissue_remember_cookie(target)
    elif is_current:
        logout_user()


def _reissue_remember_cookie(user: t.Any) -> None:
    """Give this browser a new remember-me cookie (same expiry) after its token was dropped."""
    if g.get(_G_REMEMBER) is not None:
        return
    cookie = request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"])
    if not cookie:
        return
    manager = _manager()
    decoded = manager._decode_remember_cookie(cookie)
    if decoded is None or decoded[0] != str(getattr(user, manager.id_attribute)()):
        return
    setattr(g, _G_REMEMBER, ("set", *manager._issue_remember_token(user, decoded[3])))


def confirm_login() -> None:
    """Mark the session fresh again, after the user re-entered a password."""
    session["_fresh"] = True
    session["_id"] = _manager()._session_identifier_generator()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user_login_confirmed.send(app)


def login_fresh() -> bool:
    """Whether the user logged in during this session (not from a remember cookie)."""
    return bool(session.get("_fresh", False))


def login_remembered() -> bool:
    """Whether the request carries a valid remember-me cookie."""
    cookie = request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"])
    if not cookie or g.get(_G_REMEMBER, (None,))[0] == "clear":
        return False
    return _manager()._decode_remember_cookie(cookie) is not None


def authenticate(user: t.Any, password: str, *, account: str | None = None) -> bool:
    """Check a login attempt, throttled per account and per client address.

    Raises :class:`erlen_login.throttle.LoginThrottled` (429 with
    ``Retry-After``) after ``LOGIN_THROTTLE_LIMIT`` failures in
    ``LOGIN_THROTTLE_WINDOW`` seconds. ``user`` may be ``None`` (unknown
    account): the check then takes as long as a real one and fails. A
    correct password stored with an outdated scheme is re-hashed into
    ``user.password_hash``; save the user afterwards. Inactive users fail.

    :param account: what the visitor typed as user name or email; the
        throttle counts failures per value.
    """
    manager = _manager()
    throttle = manager.state.throttle
    user_id = None
    if user is not None:
        get_id = getattr(user, manager.id_attribute, None)
        user_id = str(get_id()) if callable(get_id) else None
    keys = throttle.keys(
        account, request.remote_addr, user_id, ipv6_prefix=throttle.ipv6_prefix
    )
    throttle.attempt(keys)  # counted before checking: parallel guesses add up
    if user is None:
        manager.password_hasher.dummy_verify(password)
        ok = False
    elif callable(getattr(user, "check_password", None)):
        ok = bool(user.check_password(password))
    else:
        ok, new_hash = manager.password_hasher.verify_and_update(
            password, getattr(user, "password_hash", None)
        )
        if ok and new_hash is not None:
            user.password_hash = new_hash
    if ok and not getattr(user, "is_active", True):
        ok = False
    if ok:
        throttle.success(keys, attempted=True)
    return ok


# -- view decorators -------------------------------------------------------------


def _login_disabled() -> bool:
    return request.method in _c.EXEMPT_METHODS or bool(
        current_app.config.get("LOGIN_DISABLED")
    )


def login_required(func: F) -> F:
    """Let only logged-in users reach the view; others get ``unauthorized()``.

    ``OPTIONS`` requests and ``LOGIN_DISABLED = True`` pass. Works on
    ``async def`` views.
    """

    @functools.wraps(func)
    def decorated_view(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if not _login_disabled() and not current_user.is_authenticated:
            return _manager().unauthorized()
        return current_app.ensure_sync(func)(*args, **kwargs)

    return t.cast(F, decorated_view)


def fresh_login_required(func: F) -> F:
    """Like :func:`login_required`, and the login must be fresh (not remembered).

    A remembered user gets ``needs_refresh()``.
    """

    @functools.wraps(func)
    def decorated_view(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if not _login_disabled():
            if not current_user.is_authenticated:
                return _manager().unauthorized()
            if not login_fresh():
                return _manager().needs_refresh()
        return current_app.ensure_sync(func)(*args, **kwargs)

    return t.cast(F, decorated_view)


def login_exempt(func: F) -> F:
    """Keep a view open under :meth:`LoginManager.require_login`."""
    func._login_exempt = True  # type: ignore[attr-defined]
    return func


def _check_required() -> BaseResponse | None:
    """``before_request`` hook of :meth:`LoginManager.require_login`."""
    if _login_disabled():
        return None
    endpoint = request.endpoint
    if endpoint is None or _is_static(endpoint):
        return None
    view = current_app.view_functions.get(endpoint)
    if getattr(view, "_login_exempt", False) or getattr(
        getattr(view, "view_class", None), "login_exempt", False
    ):
        return None
    manager = _manager()
    open_views = {manager.login_view, manager.refresh_view}
    open_views.update(manager.blueprint_login_views.values())
    if endpoint in open_views:
        return None
    if not current_user.is_authenticated:
        return manager.unauthorized()
    return None
