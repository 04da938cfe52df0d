"""Sessions: per-client data kept between requests, by default in a signed cookie.

``app.session_interface`` decides how a session is loaded from a request and
saved into a response. The default, :class:`SecureCookieSessionInterface`,
stores the whole session in a cookie signed with ``SECRET_KEY``: the client can
read it but not change it. Without a secret key the session is a
:class:`NullSession` that refuses writes.
"""

from __future__ import annotations

import collections.abc as cabc
import hashlib
import typing as t
import zlib
from datetime import datetime
from datetime import timezone

from itsdangerous import Signer
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from werkzeug.datastructures import CallbackDict

from ._werkzeug_compat import dump_payload_uncompressed
from .config import cookie_size_limit
from .ext import nonblocking
from .json.tag import TaggedJSONSerializer
from .security import append_valid_headers
from .security import header_pairs

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Erlen
    from .wrappers import Request
    from .wrappers import Response

__all__ = [
    "session_json_serializer",
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
]


class SessionMixin(cabc.MutableMapping[str, t.Any]):
    """What every session object offers on top of a mutable mapping.

    Session interfaces that cannot track reads and writes keep the conservative
    defaults: the session counts as ``modified`` and ``accessed``.
    """

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session
        (``PERMANENT_SESSION_LIFETIME``); stored under the ``"_permanent"`` key."""
        return self.get("_permanent", False)  # type: ignore[no-any-return]

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: ``True`` when the request carried no (valid) session, if the interface
    #: can tell.
    new = False

    #: Whether the session changed during the request, so it must be saved.
    modified = True

    #: Whether the session was read or written during the request, so the
    #: response depends on the session cookie (``Vary: Cookie``).
    accessed = True


class SecureCookieSession(CallbackDict[str, t.Any], SessionMixin):
    """The default session: a dict that records reads and writes.

    Any write sets :attr:`modified` and :attr:`accessed`; reading a key, a
    membership test, ``len()``, iteration and the views (``keys()``,
    ``items()``, ``values()``) set :attr:`accessed`.
    """

    modified = False
    accessed = False

    def __init__(
        self,
        initial: cabc.Mapping[str, t.Any]
        | cabc.Iterable[tuple[str, t.Any]]
        | None = None,
    ) -> None:
        super().__init__(initial, _mark_modified)

    def __getitem__(self, key: str) -> t.Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().get(key, default)

    def setdefault(self, key: str, default: t.Any = None) -> t.Any:
        self.accessed = True
        return super().setdefault(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def __len__(self) -> int:
        self.accessed = True
        return super().__len__()

    def __iter__(self) -> cabc.Iterator[str]:
        self.accessed = True
        return super().__iter__()

    def keys(self) -> t.Any:
        self.accessed = True
        return super().keys()

    def values(self) -> t.Any:
        self.accessed = True
        return super().values()

    def items(self) -> t.Any:
        self.accessed = True
        return super().items()


def _mark_modified(session: SecureCookieSession) -> None:
    session.modified = True
    session.accessed = True


_NO_SECRET_KEY_MSG = (
    "The session is unavailable because no secret key was set. Set the"
    " secret_key on the application to something unique and secret."
)


class NullSession(SecureCookieSession):
    """The session used when sessions are unavailable; reads work, writes raise.

    Every write raises ``RuntimeError`` explaining that no secret key is set.
    """

    def _fail(self, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise RuntimeError(_NO_SECRET_KEY_MSG)

    __setitem__ = __delitem__ = clear = pop = popitem = _fail
    update = setdefault = __ior__ = _fail
    del _fail


class SessionInterface:
    """How an app loads sessions from requests and saves them into responses.

    Subclass it and set ``app.session_interface`` to store sessions elsewhere
    (a database, Redis, ...). Implement :meth:`open_session` and
    :meth:`save_session`; the ``get_cookie_*`` helpers read the app's
    ``SESSION_COOKIE_*`` config.

    The app opens the session lazily: :meth:`open_session` runs on the first use
    of ``session`` in a request (or at the end of a request that carries the
    session cookie, so a permanent session can be refreshed), not on every
    request. :meth:`save_session` runs after the response is built, only for a
    session that was opened and is not a null session.
    """

    #: The class :meth:`make_null_session` instantiates.
    null_session_class: type[NullSession] = NullSession

    #: Whether the stored data is pickled; informational, for extensions that
    #: need to know whether arbitrary objects survive a round trip.
    pickle_based = False

    def make_null_session(self, app: Erlen) -> NullSession:
        """Return the session to use when :meth:`open_session` returns ``None``."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether ``obj`` is a null session; null sessions are never saved."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Erlen) -> str:
        """The cookie name: ``SESSION_COOKIE_NAME``."""
        return app.config["SESSION_COOKIE_NAME"]  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: Erlen) -> str | None:
        """The cookie's ``Domain``: ``SESSION_COOKIE_DOMAIN``, or ``None`` (this
        host only) when unset or empty, and always for a ``__Host-`` name."""
        if self.get_cookie_name(app).startswith("__Host-"):
            return None
        return app.config["SESSION_COOKIE_DOMAIN"] or None

    def get_cookie_path(self, app: Erlen) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``;
        always ``/`` for a ``__Host-`` name."""
        if self.get_cookie_name(app).startswith("__Host-"):
            return "/"
        return app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: Erlen) -> bool:
        """Whether scripts cannot read the cookie: ``SESSION_COOKIE_HTTPONLY``."""
        return app.config["SESSION_COOKIE_HTTPONLY"]  # type: ignore[no-any-return]

    def get_cookie_secure(self, app: Erlen) -> bool:
        """Whether the cookie is sent over HTTPS only: ``SESSION_COOKIE_SECURE``,
        and always for a ``__Host-`` or ``__Secure-`` name (browsers require it)."""
        if self.get_cookie_name(app).startswith(("__Host-", "__Secure-")):
            return True
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Erlen) -> str | None:
        """The cookie's ``SameSite`` value: ``SESSION_COOKIE_SAMESITE``."""
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Erlen) -> bool:
        """Whether the cookie is partitioned (CHIPS): ``SESSION_COOKIE_PARTITIONED``."""
        return app.config["SESSION_COOKIE_PARTITIONED"]  # type: ignore[no-any-return]

    def get_expiration_time(self, app: Erlen, session: SessionMixin) -> datetime | None:
        """When the cookie expires: now plus the permanent session lifetime for a
        permanent session, ``None`` (end of the browser session) otherwise."""
        if session.permanent:
            return datetime.now(timezone.utc) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Erlen, session: SessionMixin) -> bool:
        """Whether :meth:`save_session` should send the cookie again.

        True when the session was modified, or when it is permanent and
        ``SESSION_REFRESH_EACH_REQUEST`` is on (which slides the expiry forward).
        """
        return session.modified or (
            session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
        )

    def open_session(self, app: Erlen, request: Request) -> SessionMixin | None:
        """Load the session for ``request``.

        Return ``None`` when sessions are unavailable; the app then uses
        :meth:`make_null_session`. Must not raise for bad client input.
        """
        raise NotImplementedError

    def save_session(
        self, app: Erlen, session: SessionMixin, response: Response
    ) -> None:
        """Store ``session`` (for example by setting a cookie on ``response``)."""
        raise NotImplementedError


class _KeyCachingSigner(TimestampSigner):
    """A timestamp signer that derives each of its keys once, not on every use.

    itsdangerous derives the signing key (an HMAC of the salt) each time a
    cookie is signed or verified. The session serializer reuses one signer,
    so the derived keys, one per secret key, are kept on it.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[t.Any, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        if secret_key is None:
            secret_key = self.secret_keys[-1]
        try:
            return self._derived[secret_key]
        except KeyError:
            derived = self._derived[secret_key] = super().derive_key(secret_key)
            return derived
        except TypeError:  # an unhashable key (a bytearray) is not cached
            return super().derive_key(secret_key)


#: The serializer session cookies use (tagged JSON); tools import it by this
#: name, as from ``flask.sessions``.
session_json_serializer = TaggedJSONSerializer()


#: Payloads shorter than this are not compressed: zlib's set-up costs more
#: than the rest of a request, and a few dozen bytes hardly ever shrink.
_COMPRESS_FROM = 256


class _SessionSerializer(URLSafeTimedSerializer):
    """itsdangerous's URL-safe timed serializer, compressing only payloads that
    may gain from it. Its output is the same format, so any itsdangerous
    serializer with the same key and salt reads it, and it reads theirs."""

    _default_signer: Signer | None = None

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        # Signers hold only their configuration: reuse the one for the default
        # salt instead of building one for every cookie signed or read
        # (reading asks for it by the salt's value, signing by None).
        if salt is not None and salt != self.salt:
            return super().make_signer(salt)
        if self._default_signer is None:
            self._default_signer = super().make_signer()
        return self._default_signer

    def dump_payload(self, obj: t.Any) -> bytes:
        # Skip the URL-safe mixin's dump_payload, which always tries zlib.
        json = dump_payload_uncompressed(self, obj)
        if len(json) >= _COMPRESS_FROM:
            compressed = zlib.compress(json)
            if len(compressed) < len(json) - 1:
                return b"." + base64_encode(compressed)
        return base64_encode(json)


#: How many signing serializers an interface keeps (one per set of keys).
_SERIALIZER_CACHE_SIZE = 16


class SecureCookieSessionInterface(SessionInterface):
    """Store the session in a cookie signed with the app's secret key.

    The cookie holds the session as tagged JSON (see :mod:`erlen.json.tag`),
    signed and timestamped with :mod:`itsdangerous`. Keys in
    ``SECRET_KEY_FALLBACKS`` still verify old cookies, which are then re-signed
    with ``SECRET_KEY`` when saved. A cookie that is missing, tampered with,
    expired or otherwise unreadable gives an empty session.

    The signing serializer is built once per app and set of keys and reused.
    Change the class attributes below in a subclass, not on a live instance.
    """

    #: Salt mixed into the signing key, separating session signatures from
    #: other uses of the secret key.
    salt = "cookie-session"
    #: The hash function for the signature. Referencing it is safe on systems
    #: where SHA-1 is disabled; only calling it would fail.
    digest_method = staticmethod(hashlib.sha1)
    #: How itsdangerous derives the signing key from the secret key.
    key_derivation = "hmac"
    #: Turns the session into text and back.
    serializer = session_json_serializer
    #: The class of the sessions :meth:`open_session` returns.
    session_class = SecureCookieSession

    def _build_signing_serializer(
        self, keys: list[str | bytes]
    ) -> URLSafeTimedSerializer:
        return _SessionSerializer(
            keys,  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer=_KeyCachingSigner,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def get_signing_serializer(self, app: Erlen) -> URLSafeTimedSerializer | None:
        """Return the serializer that signs and verifies session cookies, or
        ``None`` when the app has no secret key.

        Every key in ``SECRET_KEY_FALLBACKS`` can verify a cookie; the current
        ``SECRET_KEY`` signs new ones.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        # Cached per app (see docs/internals.md), by interface and keys, so a
        # change of either takes effect at once.
        cache: dict[t.Any, URLSafeTimedSerializer] | None = getattr(
            app, "_session_serializers", None
        )
        if cache is None:
            cache = {}
            try:
                app._session_serializers = cache
            except AttributeError:  # an app-like object that takes no attributes
                pass
        try:
            cache_key = (self, secret_key, tuple(fallbacks) if fallbacks else ())
            rv = cache.get(cache_key)
        except TypeError:  # unhashable keys: build without caching
            return self._build_signing_serializer([*(fallbacks or ()), secret_key])
        if rv is None:
            rv = self._build_signing_serializer([*cache_key[2], secret_key])
            if len(cache) >= _SERIALIZER_CACHE_SIZE:
                cache.clear()
            cache[cache_key] = rv
        return rv

    @nonblocking
    def open_session(self, app: Erlen, request: Request) -> SecureCookieSession | None:
        """Load the session from the request's cookie.

        Returns ``None`` without a secret key, and a new empty session when the
        cookie is absent or cannot be trusted (bad signature, expired, longer
        than ``MAX_COOKIE_SIZE`` when that is set, garbage).
        """
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        limit = cookie_size_limit(app.config)
        if value and (limit is None or len(value) <= limit):
            max_age = int(app.permanent_session_lifetime.total_seconds())
            try:
                data = signer.loads(value, max_age=max_age)
            except Exception:  # anything a client sends must not become a 500
                data = None
            if isinstance(data, dict):
                return self.session_class(data)
        session = self.session_class()
        session.new = True
        return session

    @nonblocking
    def save_session(
        self, app: Erlen, session: SessionMixin, response: Response
    ) -> None:
        """Set, refresh or delete the session cookie on ``response``.

        When the session was used, adds ``Vary: Cookie`` and makes the response
        ``Cache-Control: private`` so shared caches never serve one user's page
        to another. An emptied session deletes the cookie; otherwise it is set
        when :meth:`should_set_cookie` says so.
        """
        private = session.accessed
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        partitioned = self.get_cookie_partitioned(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)

        if not session:
            if session.modified:
                response.delete_cookie(
                    name,
                    domain=domain,
                    path=path,
                    secure=secure,
                    partitioned=partitioned,
                    samesite=samesite,
                    httponly=httponly,
                )
                private = True
        elif self.should_set_cookie(app, session):
            signer = self.get_signing_serializer(app)
            if signer is not None:
                response.set_cookie(
                    name,
                    signer.dumps(dict(session)),
                    expires=self.get_expiration_time(app, session),
                    httponly=httponly,
                    domain=domain,
                    path=path,
                    secure=secure,
                    partitioned=partitioned,
                    samesite=samesite,
                )
                private = True
        if private:
            _mark_private(response)


_VARY_COOKIE = (("Vary", "Cookie"),)
_CACHE_PRIVATE = (("Cache-Control", "private"),)


def _mark_private(response: Response) -> None:
    """Add ``Vary: Cookie`` and ``Cache-Control: private`` (dropping ``public``)."""
    headers = response.headers
    present = {key.lower() for key, _ in header_pairs(headers)}
    # Set the headers directly in the common case where they are absent:
    # ``response.vary`` and ``response.cache_control`` parse and rebuild them.
    if "vary" in present:
        response.vary.add("Cookie")
    else:
        append_valid_headers(headers, _VARY_COOKIE)
    if "cache-control" not in present:
        append_valid_headers(headers, _CACHE_PRIVATE)
        return
    cache_control = response.cache_control
    if not cache_control.private:
        cache_control.public = False
        cache_control.private = True
