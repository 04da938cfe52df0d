"""The :class:`LoginManager` extension: who the current user is, and what to do about it."""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import dataclasses
import functools
import hashlib
import inspect
import os
import secrets
import sys
import time
import typing as t
import warnings
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from itsdangerous import BadData
from itsdangerous import URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from erlen import abort
from erlen import current_app
from erlen import flash
from erlen import g
from erlen import request
from erlen import session
from erlen.ext import DeployProblem
from erlen.ext import Extension
from erlen.ext import ExtensionError
from erlen.ext import nonblocking
from erlen.security import auth_cookie_options

from . import config as _c
from .mixins import AnonymousUserMixin
from .passwords import PasswordHasher
from .signals import session_protected
from .signals import user_accessed
from .signals import user_loaded_from_cookie
from .signals import user_loaded_from_request
from .signals import user_needs_refresh
from .signals import user_unauthorized
from .throttle import LoginThrottle
from .throttle import store_from_url
from .throttle import ThrottleStore

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen
    from erlen import Request
    from erlen import Response

__all__ = ["LoginManager", "LoginState"]

UserLoader = t.Callable[[str], t.Any]
RequestLoader = t.Callable[["Request"], t.Any]
Handler = t.Callable[[], t.Any]

#: ``g`` keys used during one request.
_G_USER = "_login_user"
_G_REMEMBER = "_erlen_login_remember"

_REMEMBER_SALT = "erlen-login.remember"
_STATIC_SUFFIX = "static"


@dataclasses.dataclass
class LoginState:
    """What the login manager keeps per app in ``app.extensions["login"]``."""

    #: The manager that owns this state.
    manager: LoginManager
    #: Failed-login counters (memory or Redis).
    throttle: LoginThrottle


def token_digest(token: str | None) -> str | None:
    """A short, one-way digest of a per-user secret, safe to keep in a cookie."""
    if token is None:
        return None
    return hashlib.sha256(("erlen-login|" + token).encode("utf-8")).hexdigest()[:32]


def session_token_of(user: t.Any) -> str | None:
    """The digest of ``user``'s session token (``get_session_token()`` or ``session_token``)."""
    getter = getattr(user, "get_session_token", None)
    token = getter() if callable(getter) else getattr(user, "session_token", None)
    return token_digest(None if token is None else str(token))


def signing_serializer(app: Erlen, salt: str) -> URLSafeTimedSerializer:
    """A timed serializer over ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS`` still verify."""
    secret = app.secret_key
    if not secret:
        raise RuntimeError(
            "erlen-login signs cookies and tokens with the app's secret key. Set"
            " app.config['SECRET_KEY'] to a long random value."
        )
    fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or []
    keys: list[t.Any] = [*fallbacks, secret]
    return URLSafeTimedSerializer(keys, salt=salt)


def _duration(value: t.Any, name: str) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise TypeError(f"{name} must be a datetime.timedelta, instead got: {value}")


def _is_async(func: t.Callable[..., t.Any] | None) -> bool:
    return func is not None and inspect.iscoroutinefunction(func)


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and endpoint.rpartition(".")[2] == _STATIC_SUFFIX


def _is_multiprocess_server() -> bool:
    try:
        workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    except ValueError:
        workers = 1
    return workers > 1 or "gunicorn" in sys.modules


class LoginManager(Extension[LoginState]):
    """Keep track of the logged-in user across requests, as Flask-Login does.

    Settings live on the object (``login_view``, messages, callbacks) and are
    shared by every app the manager is registered on; per-app state lives in
    ``app.extensions["login"]`` and the manager is also ``app.login_manager``.

    :param app: register on this app right away.
    :param add_context_processor: make ``current_user`` available in templates.
    """

    name = "login"
    config_defaults: t.ClassVar[cabc.Mapping[str, t.Any]] = {
        "REMEMBER_COOKIE_NAME": _c.COOKIE_NAME,
        "REMEMBER_COOKIE_DURATION": _c.COOKIE_DURATION,
        "REMEMBER_COOKIE_DOMAIN": None,
        "REMEMBER_COOKIE_PATH": "/",
        "REMEMBER_COOKIE_SECURE": None,
        "REMEMBER_COOKIE_HTTPONLY": _c.COOKIE_HTTPONLY,
        "REMEMBER_COOKIE_SAMESITE": None,
        "REMEMBER_COOKIE_REFRESH_EACH_REQUEST": False,
        "USE_SESSION_FOR_NEXT": _c.USE_SESSION_FOR_NEXT,
        "FORCE_HOST_FOR_REDIRECTS": None,
        "LOGIN_DISABLED": False,
        "LOGIN_SESSION_KEEP_KEYS": _c.SESSION_KEEP_KEYS,
        "LOGIN_THROTTLE_LIMIT": _c.THROTTLE_LIMIT,
        "LOGIN_THROTTLE_WINDOW": _c.THROTTLE_WINDOW,
        "LOGIN_THROTTLE_STORE": None,
        "LOGIN_THROTTLE_FAIL_CLOSED": False,
        "LOGIN_THROTTLE_IPV6_PREFIX": _c.THROTTLE_IPV6_PREFIX,
        "LOGIN_TOKEN_MAX_AGE": _c.TOKEN_MAX_AGE,
        "LOGIN_RESET_MAX_AGE": _c.RESET_MAX_AGE,
        "LOGIN_CONFIRM_MAX_AGE": _c.CONFIRM_MAX_AGE,
    }

    def __init__(
        self, app: Erlen | None = None, add_context_processor: bool = True
    ) -> None:
        #: The class of ``current_user`` for visitors who are not logged in.
        self.anonymous_user: t.Callable[[], t.Any] = AnonymousUserMixin
        #: The endpoint (or URL) of the login page; ``None`` answers 401.
        self.login_view: str | None = None
        #: Login views per blueprint name; the ``None`` key is the app's.
        self.blueprint_login_views: dict[str | None, str] = {}
        #: Flashed by :meth:`unauthorized`; ``None`` flashes nothing.
        self.login_message: str | None = _c.LOGIN_MESSAGE
        #: The flash category of :attr:`login_message`.
        self.login_message_category = _c.LOGIN_MESSAGE_CATEGORY
        #: The endpoint of the re-authentication page for :meth:`needs_refresh`.
        self.refresh_view: str | None = None
        #: Flashed by :meth:`needs_refresh`.
        self.needs_refresh_message: str | None = _c.REFRESH_MESSAGE
        #: The flash category of :attr:`needs_refresh_message`.
        self.needs_refresh_message_category = _c.REFRESH_MESSAGE_CATEGORY
        #: ``"basic"``, ``"strong"`` or ``None``; ``SESSION_PROTECTION`` overrides it.
        self.session_protection: str | None = "basic"
        #: Translates the flashed messages (e.g. ``gettext``).
        self.localize_callback: t.Callable[[str], t.Any] | None = None
        #: Set by :meth:`unauthorized_handler`.
        self.unauthorized_callback: Handler | None = None
        #: Set by :meth:`needs_refresh_handler`.
        self.needs_refresh_callback: Handler | None = None
        #: The user method that returns the id stored in the session.
        self.id_attribute = _c.ID_ATTRIBUTE
        #: Hashes and verifies passwords (Argon2id by default).
        self.password_hasher = PasswordHasher()
        #: A throttle store object; overrides ``LOGIN_THROTTLE_STORE``.
        self.throttle_store: ThrottleStore | None = None
        self._user_callback: UserLoader | None = None
        self._request_callback: RequestLoader | None = None
        self._add_context_processor = add_context_processor
        super().__init__(app)

    # -- registration ------------------------------------------------------------

    def init_app(self, app: Erlen, add_context_processor: bool = True) -> None:
        """Register on ``app``: remember-cookie hook, ``current_user`` in templates."""
        self._add_context_processor = add_context_processor and getattr(
            self, "_add_context_processor", True
        )
        super().init_app(app)

    def create_state(self, app: Erlen) -> LoginState:
        """Build the per-app state: the throttle over the configured store."""
        store = self.throttle_store or store_from_url(
            app.config["LOGIN_THROTTLE_STORE"]
        )
        prefix = app.config["LOGIN_THROTTLE_IPV6_PREFIX"]
        if type(prefix) is not int or not 0 < prefix <= 128:
            raise ExtensionError(
                f"LOGIN_THROTTLE_IPV6_PREFIX must be an int from 1 to 128 (the"
                f" IPv6 network a client is counted by), not {prefix!r}."
            )
        throttle = LoginThrottle(
            store,
            limit=int(app.config["LOGIN_THROTTLE_LIMIT"]),
            window=float(app.config["LOGIN_THROTTLE_WINDOW"]),
            fail_closed=bool(app.config["LOGIN_THROTTLE_FAIL_CLOSED"]),
            ipv6_prefix=prefix,
        )
        return LoginState(manager=self, throttle=throttle)

    def setup_app(self, app: Erlen, state: LoginState) -> None:
        """Install ``app.login_manager``, the hooks and the context processor."""
        app.login_manager = self  # type: ignore[attr-defined]
        app.before_request(self._preload_hook)
        app.after_request(self._update_remember_cookie)
        if self._add_context_processor:
            from .utils import _user_context_processor

            app.context_processor(_user_context_processor)

    def deploy_problems(
        self, app: Erlen, state: LoginState
    ) -> cabc.Iterable[DeployProblem]:
        """Report an insecure remember cookie, no session protection, a per-process throttle."""
        if not self._cookie_options(app)["secure"]:
            yield DeployProblem(
                "login.remember_cookie_secure",
                "The remember-me cookie is sent over plain HTTP.",
                "Set SESSION_COOKIE_SECURE = True (or REMEMBER_COOKIE_SECURE = True)"
                " and serve the site over HTTPS.",
            )
        if app.config.get("SESSION_PROTECTION", self.session_protection) is None:
            yield DeployProblem(
                "login.session_protection",
                "SESSION_PROTECTION is None: a stolen session cookie stays fresh"
                " from any client.",
                "Set SESSION_PROTECTION = 'basic' (the default) or 'strong'.",
            )
        from .throttle import MemoryThrottleStore

        if isinstance(state.throttle.store, MemoryThrottleStore) and (
            app.config["LOGIN_THROTTLE_STORE"] != "memory://"
            or _is_multiprocess_server()
        ):
            yield DeployProblem(
                "login.throttle_store",
                "Failed logins are counted in each process's memory: with several"
                " worker processes or hosts an attacker gets the limit once per process.",
                "Set LOGIN_THROTTLE_STORE = 'redis://...' (pip install"
                " 'erlen-login[redis]'); set it to 'memory://' only when one"
                " process serves the app.",
            )

    # -- callbacks ---------------------------------------------------------------

    def user_loader(self, callback: UserLoader) -> UserLoader:
        """Register the function that loads a user from the id in the session.

        It takes the id as a string and returns the user or ``None``; it may
        be an ``async def`` function.
        """
        self._user_callback = callback
        return callback

    @property
    def user_callback(self) -> UserLoader | None:
        """The function registered with :meth:`user_loader`."""
        return self._user_callback

    def request_loader(self, callback: RequestLoader) -> RequestLoader:
        """Register a function that loads a user from the request (API keys...).

        Runs when the session has no user; it may be an ``async def`` function.
        Bearer tokens from :func:`erlen_login.make_auth_token` are read without it.
        """
        self._request_callback = callback
        return callback

    @property
    def request_callback(self) -> RequestLoader | None:
        """The function registered with :meth:`request_loader`."""
        return self._request_callback

    def unauthorized_handler(self, callback: Handler) -> Handler:
        """Register what :meth:`unauthorized` returns instead of redirecting."""
        self.unauthorized_callback = callback
        return callback

    def needs_refresh_handler(self, callback: Handler) -> Handler:
        """Register what :meth:`needs_refresh` returns instead of redirecting."""
        self.needs_refresh_callback = callback
        return callback

    # -- responses for missing logins ------------------------------------------

    def _flash(self, message: str | None, category: str) -> None:
        if not message:
            return
        if self.localize_callback is not None:
            message = self.localize_callback(message)
        if message:
            flash(message, category=category)

    def _login_view_for_request(self) -> str | None:
        views = self.blueprint_login_views
        for name in request.blueprints:
            if name in views:
                return views[name]
        return views.get(None, self.login_view) if None in views else self.login_view

    def unauthorized(self) -> BaseResponse:
        """Answer a request that needs a login.

        Sends :data:`user_unauthorized`; calls the :meth:`unauthorized_handler`
        if set; else redirects to the login view with ``next`` (flashing
        :attr:`login_message`), or aborts with 401 when there is no login view.
        """
        from .utils import _redirect_with_next

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        user_unauthorized.send(app)
        if self.unauthorized_callback is not None:
            return self.unauthorized_callback()  # type: ignore[no-any-return]
        login_view = self._login_view_for_request()
        if not login_view:
            abort(401)
        self._flash(self.login_message, self.login_message_category)
        return _redirect_with_next(login_view, self)

    def needs_refresh(self) -> BaseResponse:
        """Answer a request that needs a fresh login (see :func:`fresh_login_required`)."""
        from .utils import _redirect_with_next

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        user_needs_refresh.send(app)
        if self.needs_refresh_callback is not None:
            return self.needs_refresh_callback()  # type: ignore[no-any-return]
        if not self.refresh_view:
            abort(401)
        self._flash(self.needs_refresh_message, self.needs_refresh_message_category)
        return _redirect_with_next(self.refresh_view, self)

    # -- loading the user --------------------------------------------------------

    def _call_user_loader(self, user_id: t.Any) -> t.Any:
        if self._user_callback is None:
            return None
        return current_app.ensure_sync(self._user_callback)(user_id)

    def _call_request_loader(self, req: Request) -> t.Any:
        if self._request_callback is None:
            return None
        return current_app.ensure_sync(self._request_callback)(req)

    def _has_async_loader(self) -> bool:
        return _is_async(self._user_callback) or _is_async(self._request_callback)

    @functools.cached_property
    def _preload_hook(self) -> t.Callable[[], None]:
        """:meth:`_preload_for_async_view` as this manager's hook: marked
        ``nonblocking`` unless a loader is async (only then may it block, by
        calling the loader), so with sync loaders an ``async def`` view under
        ASGI costs no thread hop."""

        def preload_user() -> None:
            self._preload_for_async_view()

        return nonblocking(preload_user, unless=self._has_async_loader)

    def _preload_for_async_view(self) -> None:
        """Load the user before an ``async def`` view when a loader is async.

        An async loader runs through ``app.ensure_sync``, which cannot be
        called from inside the event loop that runs an async view; loading
        the user first leaves ``current_user`` ready in the view.
        """
        if not self._has_async_loader():
            return
        endpoint = request.endpoint
        if endpoint is None or _is_static(endpoint):
            return
        view = current_app.view_functions.get(endpoint)
        if view is None:
            return
        if getattr(view, "view_class", None) is not None or _is_async(
            inspect.unwrap(view)
        ):
            from .utils import _get_user

            _get_user()

    def _update_request_context_with_user(self, user: t.Any = None) -> None:
        if user is None:
            user = self.anonymous_user()
        setattr(g, _G_USER, user)

    def _session_identifier_generator(self) -> str:
        """SHA-512 of the client address and User-Agent, for session protection.

        The address is ``request.remote_addr``: behind a proxy, apply
        ``ProxyFix`` so it is the client's. ``X-Forwarded-For`` is never read.
        """
        agent = request.headers.get("User-Agent", "")
        base = f"{request.remote_addr}|{agent}"
        return hashlib.sha512(base.encode("utf-8", "replace")).hexdigest()

    def _session_protection_failed(self) -> bool:
        sess = session
        mode = current_app.config.get("SESSION_PROTECTION", self.session_protection)
        if mode not in ("basic", "strong"):
            return False
        if not sess or "_user_id" not in sess:
            return False
        if self._session_identifier_generator() == sess.get("_id"):
            return False
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if mode == "basic" or sess.permanent:
            if sess.get("_fresh") is not False:
                sess["_fresh"] = False
            session_protected.send(app)
            return False
        for key in _c.SESSION_KEYS:
            sess.pop(key, None)
        setattr(g, _G_REMEMBER, ("clear", None, None))
        session_protected.send(app)
        return True

    def _load_user(self) -> None:
        """Find the user for this request and store it in ``g._login_user``.

        Order: the session (checking the session token), the remember-me
        cookie, a bearer token, the request loader. Static files never run a
        loader.
        """
        if self._user_callback is None and self._request_callback is None:
            raise Exception(
                "Missing user_loader or request_loader. Register one with"
                " '@login_manager.user_loader' (a function that takes the user id"
                " from the session and returns the user or None)."
            )
        if _is_static(request.endpoint):
            return self._update_request_context_with_user()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        user_accessed.send(app)
        if self._session_protection_failed():
            return self._update_request_context_with_user()

        user = None
        user_id = session.get("_user_id")
        if user_id is not None and self._user_callback is not None:
            user = self._call_user_loader(user_id)
            if user is not None and session.get("_session_token") != session_token_of(
                user
            ):
                for key in _c.SESSION_KEYS:
                    session.pop(key, None)
                user = None
            if user is not None:
                self._refresh_remember_cookie(user)

        if user is None:
            cookie_name = current_app.config["REMEMBER_COOKIE_NAME"]
            cookie = request.cookies.get(cookie_name)
            if cookie and getattr(g, _G_REMEMBER, None) is None:
                user = self._load_user_from_remember_cookie(cookie)
            if user is None:
                user = self._load_user_from_request(request)
        return self._update_request_context_with_user(user)

    def _refresh_remember_cookie(self, user: t.Any) -> None:
        """With ``REMEMBER_COOKIE_REFRESH_EACH_REQUEST``, replace the browser's cookie.

        Runs when the user is loaded from the session, so the token is used
        and the new one recorded while the view runs: the app's own commit
        (in the view or an ``after_request`` hook) saves both.
        """
        config = current_app.config
        if not config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"]:
            return
        cookie = request.cookies.get(config["REMEMBER_COOKIE_NAME"])
        if not cookie or getattr(g, _G_REMEMBER, None) is not None:
            return
        decoded = self._decode_remember_cookie(cookie)
        if decoded is None or decoded[0] != str(session.get("_user_id")):
            return
        if hasattr(user, "use_remember_token"):
            user.use_remember_token(_remember_digest(decoded[1]))
        setattr(g, _G_REMEMBER, ("set", *self._issue_remember_token(user)))

    def _decode_remember_cookie(
        self, cookie: str
    ) -> tuple[str, str, str | None, int] | None:
        """Verify a remember cookie's signature and expiry; ``None`` when invalid.

        The payload is ``[user id, random token, session token digest,
        expiry (Unix time)]``, signed with ``SECRET_KEY`` (or a fallback).
        """
        if len(cookie) > 2048:
            return None
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            data = signing_serializer(app, _REMEMBER_SALT).loads(cookie)
        except (BadData, UnicodeError, ValueError, TypeError):
            return None
        if not (isinstance(data, list) and len(data) == 4):
            return None
        user_id, token, digest, expires_at = data
        if not (
            isinstance(user_id, str)
            and isinstance(token, str)
            and (digest is None or isinstance(digest, str))
            and isinstance(expires_at, int)
            and not isinstance(expires_at, bool)
        ):
            return None
        if expires_at < time.time():
            return None
        return user_id, token, digest, expires_at

    def _load_user_from_remember_cookie(self, cookie: str) -> t.Any:
        decoded = self._decode_remember_cookie(cookie)
        if decoded is None or self._user_callback is None:
            return None
        user_id, token, digest, expires_at = decoded
        user = self._call_user_loader(user_id)
        if user is None or session_token_of(user) != digest:
            return None
        if hasattr(user, "use_remember_token"):
            if not user.use_remember_token(_remember_digest(token)):
                return None
        session["_user_id"] = user_id
        session["_fresh"] = False
        session["_id"] = self._session_identifier_generator()
        session["_session_token"] = digest
        regenerate = getattr(session, "regenerate", None)
        if callable(regenerate):
            regenerate()
        setattr(g, _G_REMEMBER, ("set", *self._issue_remember_token(user, expires_at)))
        setattr(g, _G_USER, user)
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        user_loaded_from_cookie.send(app, user=user)
        return user

    def _load_user_from_request(self, req: Request) -> t.Any:
        user = None
        header = req.headers.get("Authorization", "")
        if header[:7].lower() == "bearer " and self._user_callback is not None:
            from .tokens import load_auth_token

            user = load_auth_token(header[7:].strip())
        if user is None and self._request_callback is not None:
            user = self._call_request_loader(req)
        if user is not None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            user_loaded_from_request.send(app, user=user)
        return user

    # -- the remember-me cookie -------------------------------------------------

    def _cookie_options(self, app: Erlen) -> dict[str, t.Any]:
        options = auth_cookie_options(app)
        config = app.config
        secure = config.get("REMEMBER_COOKIE_SECURE")
        samesite = config.get("REMEMBER_COOKIE_SAMESITE")
        return {
            "domain": config.get("REMEMBER_COOKIE_DOMAIN"),
            "path": config.get("REMEMBER_COOKIE_PATH", "/"),
            "secure": options["secure"] if secure is None else bool(secure),
            "httponly": bool(config.get("REMEMBER_COOKIE_HTTPONLY", True)),
            "samesite": samesite or options["samesite"] or _c.COOKIE_SAMESITE,
        }

    @nonblocking
    def _update_remember_cookie(self, response: Response) -> Response:
        """``after_request`` hook: set, refresh or delete the remember-me cookie.

        Marked :func:`~erlen.ext.nonblocking`, so under ASGI it runs on the
        event loop after an ``async def`` view: the cookie's value was made
        while the view ran (``login_user``, loading the user), here it is only
        written. The one path that calls the user model, Flask-Login's
        ``session["_remember"] = "set"``, warns when it runs on the loop.
        """
        marker = g.pop(_G_REMEMBER, None)
        if marker is None and session.accessed and "_remember" in session:
            # Code written for Flask-Login may ask through the session.
            operation = session.pop("_remember")
            seconds = session.pop("_remember_seconds", None)
            if operation == "set":
                _warn_on_loop()
                expires = None if seconds is None else time.time() + float(seconds)
                self._set_cookie(response, expires)
            elif operation == "clear":
                self._clear_cookie(response)
            return response
        if marker is not None:
            operation, value, expiry = marker
            if operation == "set":
                self._write_cookie(response, value, expiry)
            elif operation == "clear":
                self._clear_cookie(response)
        return response

    def _issue_remember_token(
        self, user: t.Any, expires_at: float | None = None
    ) -> tuple[str, int]:
        """Make a new remember-me token for ``user``; return the cookie value and expiry.

        The token's digest is recorded with ``user.add_remember_token`` right
        away, during the view, so the app's own commit saves it. ``expires_at``
        (Unix time) keeps the expiry of a cookie being rotated; ``None`` starts
        a new ``REMEMBER_COOKIE_DURATION``.
        """
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if expires_at is None:
            duration = _duration(
                app.config.get("REMEMBER_COOKIE_DURATION", _c.COOKIE_DURATION),
                "REMEMBER_COOKIE_DURATION",
            )
            expires_at = time.time() + duration.total_seconds()
        expiry = int(expires_at)
        user_id = str(getattr(user, self.id_attribute)())
        token = secrets.token_urlsafe(32)
        if hasattr(user, "add_remember_token"):
            user.add_remember_token(_remember_digest(token), float(expiry))
        value = signing_serializer(app, _REMEMBER_SALT).dumps(
            [user_id, token, session_token_of(user), expiry]
        )
        return value, expiry

    def _write_cookie(self, response: Response, value: str, expiry: int) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.set_cookie(
            app.config["REMEMBER_COOKIE_NAME"],
            value,
            expires=datetime.fromtimestamp(expiry, timezone.utc),
            max_age=max(0, int(expiry - time.time())),
            **self._cookie_options(app),
        )

    def _set_cookie(
        self, response: Response | None, expires_at: float | None = None
    ) -> None:
        """Issue a remember-me token for the current user and set its cookie."""
        if expires_at is None:
            _duration(
                current_app.config.get("REMEMBER_COOKIE_DURATION", _c.COOKIE_DURATION),
                "REMEMBER_COOKIE_DURATION",
            )
        user = g.get(_G_USER)
        if user is None or not getattr(user, "is_authenticated", False):
            return
        value, expiry = self._issue_remember_token(user, expires_at)
        if response is not None:
            self._write_cookie(response, value, expiry)

    def _clear_cookie(self, response: Response) -> None:
        """Delete the remember-me cookie with the attributes it was set with."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        response.delete_cookie(
            app.config["REMEMBER_COOKIE_NAME"], **self._cookie_options(app)
        )

    # -- login required by default ------------------------------------------------

    def require_login(self, target: t.Any) -> None:
        """Make every view of an app or a blueprint need a login.

        Views marked with :func:`erlen_login.login_exempt`, the login and
        refresh views, static files and ``OPTIONS`` requests stay open.
        ``target`` is the app or a blueprint.
        """
        from .utils import _check_required

        target.before_request(_check_required)


def _warn_on_loop() -> None:
    """Warn if this thread runs an event loop: issuing a token calls the user model.

    The warning points at the view that set the marker (the hook runs after
    it, so no frame of the user's is on the stack).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    message = (
        "session['_remember'] = 'set' (Flask-Login's marker) was found after an"
        " 'async def' view under ASGI: issuing the remember-me token calls the"
        " user model (get_id, add_remember_token) on the event loop, which waits"
        " for it. Call 'login_user(user, remember=True)' in the view instead."
    )
    view = current_app.view_functions.get(request.endpoint or "")
    func = inspect.unwrap(view) if view is not None else None
    code = getattr(func, "__code__", None)
    if code is None:
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return
    module_globals = getattr(func, "__globals__", {})
    warnings.warn_explicit(
        message,
        RuntimeWarning,
        code.co_filename,
        code.co_firstlineno,
        module=module_globals.get("__name__"),
        registry=module_globals.setdefault("__warningregistry__", {}),
    )


def _remember_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()
