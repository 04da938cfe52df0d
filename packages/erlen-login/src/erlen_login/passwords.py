"""Password hashing on passlib's ``CryptContext`` (from the ``libpass`` distribution).

New hashes are Argon2id (through argon2-cffi). Hashes Flask apps already store
still verify: bcrypt (``$2b$...``), passlib's ``pbkdf2_sha256`` and Werkzeug's
``scrypt:...``/``pbkdf2:...`` from ``generate_password_hash``. A successful
check of an outdated hash returns a new one, so stored hashes move to the
current scheme as users log in (see :meth:`PasswordHasher.verify_and_update`).
"""

from __future__ import annotations

import secrets
import threading
import typing as t

from passlib.context import CryptContext
from werkzeug.security import check_password_hash

from erlen import current_app
from erlen import has_app_context

__all__ = [
    "DEFAULT_SCHEMES",
    "PasswordHasher",
    "hash_password",
    "verify_and_update",
    "verify_password",
]

#: The schemes a default hasher knows; the first one hashes new passwords.
DEFAULT_SCHEMES = ("argon2", "bcrypt", "pbkdf2_sha256")

_WERKZEUG_PREFIXES = ("scrypt:", "pbkdf2:")


class PasswordHasher:
    """Hash and verify passwords; every scheme after the first is deprecated.

    Keyword arguments go to :class:`passlib.context.CryptContext`, e.g.
    ``argon2__memory_cost=19456`` to follow a particular guideline.
    """

    def __init__(
        self, schemes: t.Sequence[str] = DEFAULT_SCHEMES, **context_options: t.Any
    ) -> None:
        self.context = CryptContext(
            schemes=list(schemes), deprecated="auto", **context_options
        )
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        """Return a new hash of ``password`` with the current scheme."""
        return str(self.context.hash(password))

    def verify_and_update(
        self, password: str, stored: str | None
    ) -> tuple[bool, str | None]:
        """Check ``password`` against ``stored``; return ``(ok, new_hash)``.

        ``new_hash`` is set when the password was right but ``stored`` uses an
        outdated scheme or outdated parameters: store it in place of the old
        one. A missing or unknown ``stored`` hash costs as long as a real check
        and fails, so response times do not tell which accounts exist.
        """
        if not isinstance(password, str) or not password:
            self.dummy_verify(password if isinstance(password, str) else "")
            return False, None
        if not stored:
            self.dummy_verify(password)
            return False, None
        if stored.startswith(_WERKZEUG_PREFIXES):
            try:
                ok = check_password_hash(stored, password)
            except (ValueError, TypeError):
                ok = False
            return ok, (self.hash(password) if ok else None)
        try:
            ok, new_hash = self.context.verify_and_update(password, stored)
        except (ValueError, TypeError):
            self.dummy_verify(password)
            return False, None
        return bool(ok), (str(new_hash) if new_hash else None)

    def verify(self, password: str, stored: str | None) -> bool:
        """Check ``password`` against ``stored`` (no upgrade)."""
        return self.verify_and_update(password, stored)[0]

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one real check, for a user that does not exist."""
        if self._dummy is None:
            with self._lock:
                if self._dummy is None:
                    self._dummy = self.hash(secrets.token_urlsafe(16))
        try:
            self.context.verify(password or "x", self._dummy)
        except (ValueError, TypeError):
            pass


_default_hasher = PasswordHasher()


def current_hasher() -> PasswordHasher:
    """The active app's hasher (``LoginManager.password_hasher``), or the default."""
    if has_app_context():
        manager = getattr(current_app, "login_manager", None)
        hasher = getattr(manager, "password_hasher", None)
        if isinstance(hasher, PasswordHasher):
            return hasher
    return _default_hasher


def hash_password(password: str) -> str:
    """Hash ``password`` with the current scheme (Argon2id by default)."""
    return current_hasher().hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    """Check ``password`` against a stored hash of any known scheme."""
    return current_hasher().verify(password, stored)


def verify_and_update(password: str, stored: str | None) -> tuple[bool, str | None]:
    """Check ``password``; see :meth:`PasswordHasher.verify_and_update`."""
    return current_hasher().verify_and_update(password, stored)
