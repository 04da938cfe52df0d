"""Signed, expiring tokens: bearer tokens for APIs, password-reset and email-confirmation links.

Every token is signed with ``SECRET_KEY`` (keys in ``SECRET_KEY_FALLBACKS``
still verify) and carries the digest of the user's session token, so
:func:`erlen_login.logout_everywhere` and a password change end them all.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import typing as t

from itsdangerous import BadData

from erlen import current_app

from .login_manager import session_token_of
from .login_manager import signing_serializer
from .throttle import logger
from .throttle import ThrottleStoreError

__all__ = [
    "load_auth_token",
    "make_auth_token",
    "make_confirm_token",
    "make_reset_token",
    "revoke_auth_token",
    "verify_confirm_token",
    "verify_reset_token",
]

_AUTH_SALT = "erlen-login.auth"
_RESET_SALT = "erlen-login.reset"
_CONFIRM_SALT = "erlen-login.confirm"
_MAX_TOKEN_LENGTH = 4096


def _manager() -> t.Any:
    from .utils import _manager

    return _manager()


def _user_id(user: t.Any) -> str:
    return str(getattr(user, _manager().id_attribute)())


def _digest(value: t.Any) -> str:
    return hashlib.sha256(repr(value).encode("utf-8", "replace")).hexdigest()[:24]


def _loads(token: str, salt: str, max_age: float) -> t.Any:
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return signing_serializer(app, salt).loads(token, max_age=int(max_age))
    except (BadData, UnicodeError, ValueError, TypeError):
        return None


# -- bearer tokens ------------------------------------------------------------------


def make_auth_token(user: t.Any, expires_in: float | None = None) -> str:
    """Return a bearer token for ``user``, valid ``expires_in`` seconds.

    Clients send it as ``Authorization: Bearer <token>``; the login manager
    loads the user from it (never from the query string). The default
    lifetime is ``LOGIN_TOKEN_MAX_AGE``. End it early with
    :func:`revoke_auth_token`, or all of a user's with ``logout_everywhere``.
    """
    if expires_in is None:
        expires_in = float(current_app.config["LOGIN_TOKEN_MAX_AGE"])
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    payload = {
        "u": _user_id(user),
        "s": session_token_of(user),
        "j": secrets.token_urlsafe(12),
        "x": int(time.time() + expires_in),
    }
    return signing_serializer(app, _AUTH_SALT).dumps(payload)


def _decode_auth_token(token: str) -> dict[str, t.Any] | None:
    data = _loads(token, _AUTH_SALT, 10 * 365 * 86400)
    if not isinstance(data, dict) or not {"u", "s", "j", "x"} <= data.keys():
        return None
    if not isinstance(data["x"], int) or data["x"] < time.time():
        return None
    return data


def load_auth_token(token: str) -> t.Any:
    """Return the user a bearer token belongs to, or ``None`` when it is not valid."""
    data = _decode_auth_token(token)
    if data is None:
        return None
    manager = _manager()
    try:
        if manager.state.throttle.store.is_marked(f"revoked:{data['j']}"):
            return None
    except ThrottleStoreError as e:  # an outage must not let revoked tokens pass
        logger.warning("Cannot check bearer token revocation, refusing it: %s", e)
        return None
    user = manager._call_user_loader(str(data["u"]))
    if user is None or session_token_of(user) != data["s"]:
        return None
    if not getattr(user, "is_active", True):
        return None
    return user


def revoke_auth_token(token: str) -> bool:
    """End one bearer token before it expires; return whether it was valid.

    The token's id is kept in the throttle store (memory or Redis) until the
    token would have expired.
    """
    data = _decode_auth_token(token)
    if data is None:
        return False
    ttl = max(1.0, data["x"] - time.time())
    _manager().state.throttle.store.mark(f"revoked:{data['j']}", ttl)
    return True


# -- password reset and email confirmation ----------------------------------------


def make_reset_token(user: t.Any) -> str:
    """Return a password-reset token for ``user`` (send it by mail in a link).

    It expires after ``LOGIN_RESET_MAX_AGE`` seconds and works once: setting
    the new password changes the hash it is bound to.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    payload = {
        "u": _user_id(user),
        "p": _digest(getattr(user, "password_hash", None)),
        "s": session_token_of(user),
    }
    return signing_serializer(app, _RESET_SALT).dumps(payload)


def verify_reset_token(token: str, max_age: float | None = None) -> t.Any:
    """Return the user of a valid, unused reset token, else ``None``."""
    if max_age is None:
        max_age = float(current_app.config["LOGIN_RESET_MAX_AGE"])
    data = _loads(token, _RESET_SALT, max_age)
    if not isinstance(data, dict) or not {"u", "p", "s"} <= data.keys():
        return None
    user = _manager()._call_user_loader(str(data["u"]))
    if user is None:
        return None
    if data["p"] != _digest(getattr(user, "password_hash", None)):
        return None
    if data["s"] != session_token_of(user):
        return None
    return user


def _confirmed_state(user: t.Any) -> t.Any:
    return (getattr(user, "confirmed_at", None), getattr(user, "confirmed", None))


def make_confirm_token(user: t.Any, email: str | None = None) -> str:
    """Return an email-confirmation token for ``user`` and ``email``.

    ``email`` defaults to ``user.email``. It expires after
    ``LOGIN_CONFIRM_MAX_AGE`` seconds and is refused once the user is
    confirmed (``confirmed_at`` or ``confirmed`` changed) or the email changed.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if email is None:
        email = getattr(user, "email", None)
    payload = {
        "u": _user_id(user),
        "m": email,
        "c": _digest(_confirmed_state(user)),
    }
    return signing_serializer(app, _CONFIRM_SALT).dumps(payload)


def verify_confirm_token(token: str, max_age: float | None = None) -> t.Any:
    """Return the user of a valid, unused confirmation token, else ``None``."""
    if max_age is None:
        max_age = float(current_app.config["LOGIN_CONFIRM_MAX_AGE"])
    data = _loads(token, _CONFIRM_SALT, max_age)
    if not isinstance(data, dict) or not {"u", "m", "c"} <= data.keys():
        return None
    user = _manager()._call_user_loader(str(data["u"]))
    if user is None or data["c"] != _digest(_confirmed_state(user)):
        return None
    if hasattr(user, "email") and data["m"] != user.email:
        return None
    return user
