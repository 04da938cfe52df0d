"""Defaults shared by the login manager, under Flask-Login's names."""

from __future__ import annotations

from datetime import timedelta

#: The default name of the remember-me cookie (``REMEMBER_COOKIE_NAME``).
COOKIE_NAME = "remember_token"

#: How long a remember-me cookie lasts (``REMEMBER_COOKIE_DURATION``).
COOKIE_DURATION = timedelta(days=365)

#: Whether the remember-me cookie is HTTPS-only when neither
#: ``REMEMBER_COOKIE_SECURE`` nor ``SESSION_COOKIE_SECURE`` says otherwise.
COOKIE_SECURE = False

#: Whether scripts are kept away from the remember-me cookie.
COOKIE_HTTPONLY = True

#: The ``SameSite`` attribute of the remember-me cookie when neither
#: ``REMEMBER_COOKIE_SAMESITE`` nor ``SESSION_COOKIE_SAMESITE`` is set.
COOKIE_SAMESITE = "Lax"

#: The message flashed when a visitor must log in first.
LOGIN_MESSAGE = "Please log in to access this page."

#: The flash category of :data:`LOGIN_MESSAGE`.
LOGIN_MESSAGE_CATEGORY = "message"

#: The message flashed when a remembered user must log in again.
REFRESH_MESSAGE = "Please reauthenticate to access this page."

#: The flash category of :data:`REFRESH_MESSAGE`.
REFRESH_MESSAGE_CATEGORY = "message"

#: The user method that returns the id stored in the session.
ID_ATTRIBUTE = "get_id"

#: The session keys the login manager owns; ``"strong"`` session protection
#: removes them.
SESSION_KEYS = {
    "_user_id",
    "_remember",
    "_remember_seconds",
    "_id",
    "_fresh",
    "_session_token",
    "next",
}

#: Request methods that ``login_required`` lets through (CORS preflight).
EXEMPT_METHODS = {"OPTIONS"}

#: Whether ``unauthorized()`` keeps ``next`` in the session instead of the URL.
USE_SESSION_FOR_NEXT = False

#: Session keys that survive the session rotation of ``login_user``.
SESSION_KEEP_KEYS = ("_permanent", "next")

#: Failed logins allowed per account and per client address in one window.
THROTTLE_LIMIT = 10

#: The throttling window, in seconds.
THROTTLE_WINDOW = 180

#: IPv6 clients are throttled per network of this prefix length.
THROTTLE_IPV6_PREFIX = 64

#: How long a bearer token lasts, in seconds.
TOKEN_MAX_AGE = 3600

#: How long a password-reset token lasts, in seconds.
RESET_MAX_AGE = 3600

#: How long an email-confirmation token lasts, in seconds.
CONFIRM_MAX_AGE = 86400 * 3
