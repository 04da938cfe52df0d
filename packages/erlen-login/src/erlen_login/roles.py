"""Roles and permissions: ``roles_required``, ``roles_accepted``, ``permission_required``.

A user's roles are ``user.roles``: role objects with a ``name`` (erlen-sql
models, :class:`erlen_login.RoleMixin`, anything) or plain strings. A role's
permissions are its ``permissions`` attribute: an iterable or a comma-separated
string. Nothing from erlen-sql is imported; relationships are just iterables.
"""

from __future__ import annotations

import collections.abc as cabc
import functools
import typing as t

from erlen import abort
from erlen import current_app

from .mixins import _permissions_of
from .mixins import role_names
from .utils import _login_disabled
from .utils import _manager
from .utils import current_user

__all__ = ["permission_required", "roles_accepted", "roles_required"]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _user_permissions(user: t.Any) -> set[str]:
    getter = getattr(user, "get_permissions", None)
    if callable(getter):
        return set(t.cast("cabc.Iterable[str]", getter()))
    roles = getattr(user, "roles", None) or ()
    if isinstance(roles, str):
        return set()
    perms: set[str] = set()
    for role in roles:
        perms |= _permissions_of(role)
    return perms


def _guard(check: t.Callable[[t.Any], str | None]) -> t.Callable[[F], F]:
    def decorator(func: F) -> F:
        @functools.wraps(func)
        def decorated_view(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if not _login_disabled():
                if not current_user.is_authenticated:
                    return _manager().unauthorized()
                problem = check(current_user._get_current_object())
                if problem is not None:
                    abort(403, description=problem)
            return current_app.ensure_sync(func)(*args, **kwargs)

        return t.cast(F, decorated_view)

    return decorator


def roles_required(*roles: str) -> t.Callable[[F], F]:
    """Let through users who have every one of ``roles``; others get 403."""

    def check(user: t.Any) -> str | None:
        missing = sorted(set(roles) - role_names(user))
        if missing:
            return f"This page needs the role(s): {', '.join(missing)}."
        return None

    return _guard(check)


def roles_accepted(*roles: str) -> t.Callable[[F], F]:
    """Let through users who have at least one of ``roles``; others get 403."""

    def check(user: t.Any) -> str | None:
        if role_names(user) & set(roles):
            return None
        return f"This page needs one of the roles: {', '.join(sorted(roles))}."

    return _guard(check)


def permission_required(*permissions: str) -> t.Callable[[F], F]:
    """Let through users whose roles grant every one of ``permissions``; others get 403."""

    def check(user: t.Any) -> str | None:
        missing = sorted(set(permissions) - _user_permissions(user))
        if missing:
            return f"This page needs the permission(s): {', '.join(missing)}."
        return None

    return _guard(check)
