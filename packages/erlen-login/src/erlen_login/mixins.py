"""Mixins that give user and role classes what the login manager expects.

:class:`UserMixin` works on plain classes, dataclasses and erlen-sql models
alike; every attribute it reads is optional and looked up at run time.
"""

from __future__ import annotations

import collections.abc as cabc
import secrets
import time
import typing as t

__all__ = ["AnonymousUserMixin", "RoleMixin", "UserMixin", "role_names"]

#: At most this many remember-me tokens are kept per user (one per device).
MAX_REMEMBER_TOKENS = 20


def role_names(user: object) -> set[str]:
    """Return the names of ``user.roles`` (role objects with ``name``, or strings)."""
    roles = getattr(user, "roles", None) or ()
    if isinstance(roles, str):
        roles = roles.split(",")
    return {str(getattr(r, "name", r)).strip() for r in roles}


def _permissions_of(role: object) -> set[str]:
    if isinstance(role, RoleMixin):
        return role.get_permissions()
    perms = getattr(role, "permissions", None) or ()
    if isinstance(perms, str):
        perms = perms.split(",")
    return {str(p).strip() for p in perms if str(p).strip()}


class UserMixin:
    """Default implementations of the user protocol.

    Flask-Login's part: ``is_active``, ``is_authenticated``, ``is_anonymous``,
    ``get_id()`` (``str(self.id)``) and equality by id. erlen-login adds,
    reading optional attributes: ``session_token`` (a per-user secret whose
    change ends every session, remember cookie and bearer token),
    ``remember_tokens`` (the server-side record of remember-me cookies),
    ``password_hash`` and ``roles``. Store those attributes, or override the
    methods to keep them elsewhere.
    """

    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:
        """Whether the account may log in; ``login_user`` refuses inactive users."""
        return True

    @property
    def is_authenticated(self) -> bool:
        """Whether the user logged in (any loaded user that is active)."""
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        """``False``: this is a real user."""
        return False

    def get_id(self) -> str:
        """Return the id the session stores, ``str(self.id)``."""
        try:
            return str(self.id)  # type: ignore[attr-defined]
        except AttributeError:
            raise NotImplementedError("No `id` attribute - override `get_id`") from None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UserMixin):
            return self.get_id() == other.get_id()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        if equal is NotImplemented:
            return NotImplemented
        return not equal

    # -- revocation -------------------------------------------------------------

    def get_session_token(self) -> str | None:
        """The per-user secret bound into sessions and cookies; ``None`` disables the check."""
        token = getattr(self, "session_token", None)
        return None if token is None else str(token)

    def rotate_session_token(self) -> None:
        """Give the user a new session token: logs the user out everywhere.

        Also forgets every remember-me token. The app saves the user afterwards.
        """
        setattr(self, "session_token", secrets.token_urlsafe(24))  # noqa: B010
        self.clear_remember_tokens()

    def add_remember_token(self, digest: str, expires_at: float) -> None:
        """Record a remember-me token (its SHA-256 digest) valid until ``expires_at``."""
        now = time.time()
        tokens = {
            k: v
            for k, v in (getattr(self, "remember_tokens", None) or {}).items()
            if v > now
        }
        tokens[digest] = expires_at
        if len(tokens) > MAX_REMEMBER_TOKENS:
            tokens = dict(
                sorted(tokens.items(), key=lambda kv: kv[1])[-MAX_REMEMBER_TOKENS:]
            )
        setattr(self, "remember_tokens", tokens)  # noqa: B010

    def use_remember_token(self, digest: str) -> bool:
        """Remove a remember-me token; return whether it was recorded and unexpired."""
        tokens = dict(getattr(self, "remember_tokens", None) or {})
        expires_at = tokens.pop(digest, None)
        if expires_at is None:
            return False
        setattr(self, "remember_tokens", tokens)  # noqa: B010
        return bool(expires_at > time.time())

    def clear_remember_tokens(self) -> None:
        """Forget every remember-me token of this user."""
        setattr(self, "remember_tokens", {})  # noqa: B010

    # -- passwords and roles ----------------------------------------------------

    def set_password(self, password: str) -> None:
        """Hash and store ``password`` and log the user out everywhere else."""
        from .passwords import hash_password

        setattr(self, "password_hash", hash_password(password))  # noqa: B010
        self.rotate_session_token()

    def check_password(self, password: str) -> bool:
        """Verify ``password``; an outdated hash is replaced by a current one."""
        from .passwords import verify_and_update

        ok, new_hash = verify_and_update(password, getattr(self, "password_hash", None))
        if ok and new_hash is not None:
            setattr(self, "password_hash", new_hash)  # noqa: B010
        return ok

    def has_role(self, role: str | object) -> bool:
        """Whether the user has the role (a name or a role object)."""
        return str(getattr(role, "name", role)) in role_names(self)

    def get_permissions(self) -> set[str]:
        """Every permission of every role of the user."""
        roles = getattr(self, "roles", None) or ()
        if isinstance(roles, str):
            return set()
        perms: set[str] = set()
        for role in roles:
            perms |= _permissions_of(role)
        return perms

    def has_permission(self, permission: str) -> bool:
        """Whether one of the user's roles grants ``permission``."""
        return permission in self.get_permissions()


class AnonymousUserMixin:
    """The user object for visitors who are not logged in."""

    @property
    def is_authenticated(self) -> bool:
        """``False``: nobody logged in."""
        return False

    @property
    def is_active(self) -> bool:
        """``False``: an anonymous visitor has no account."""
        return False

    @property
    def is_anonymous(self) -> bool:
        """``True``."""
        return True

    def get_id(self) -> None:
        """``None``: an anonymous visitor has no id."""
        return None

    def has_role(self, role: str | object) -> bool:
        """``False``: anonymous visitors have no roles."""
        return False

    def has_permission(self, permission: str) -> bool:
        """``False``: anonymous visitors have no permissions."""
        return False


class RoleMixin:
    """A role with a ``name`` and ``permissions`` (an iterable or a comma-separated string)."""

    # No class-level annotations: SQLAlchemy's declarative models would read
    # them as columns. ``name`` and ``permissions`` are looked up at run time.

    def get_permissions(self) -> set[str]:
        """The role's permissions as a set of names."""
        perms: cabc.Iterable[t.Any] | str = getattr(self, "permissions", None) or ()
        if isinstance(perms, str):
            perms = perms.split(",")
        return {str(p).strip() for p in perms if str(p).strip()}

    def __eq__(self, other: object) -> bool:
        name = getattr(other, "name", other)
        return bool(getattr(self, "name", None) == name)

    def __hash__(self) -> int:
        return hash(getattr(self, "name", None))
