"""Cross-site request forgery protection: the browser's own signals first, tokens as fallback.

:class:`CSRFProtect` checks every state-changing request (``WTF_CSRF_METHODS``)
before its view runs:

1. A browser says where a request comes from. ``Sec-Fetch-Site: same-origin``
   (or ``none``, a request the user started) is accepted; any other value, or an
   ``Origin`` header that names neither this host nor one of
   ``WTF_CSRF_TRUSTED_ORIGINS``, is refused before any token is read, over HTTP
   and HTTPS alike.
2. A request that carries neither header (an old browser, a script, a test
   client) must carry a token from :func:`generate_csrf`: in the form field,
   in a prefixed form's field, in a JSON body or in one of ``WTF_CSRF_HEADERS``.
   Over HTTPS its ``Referer`` must then name this host (``WTF_CSRF_SSL_STRICT``).

Tokens are the random value kept in the session, signed with ``SECRET_KEY``
(or ``WTF_CSRF_SECRET_KEY``) and timestamped; keys in ``SECRET_KEY_FALLBACKS``
still verify tokens signed before a key rotation. The format is Flask-WTF's, so
pages rendered before a switch keep working.
"""

from __future__ import annotations

import collections.abc as cabc
import hmac
import logging
import secrets
import typing as t
import urllib.parse
from datetime import datetime
from datetime import timedelta
from datetime import timezone

from itsdangerous import BadData
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer
from markupsafe import escape
from markupsafe import Markup
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from erlen import Blueprint
from erlen import current_app
from erlen import g
from erlen import request
from erlen import session
from erlen.ext import DeployProblem
from erlen.ext import Extension
from erlen.ext import nonblocking

from ._asgi import body_unreadable_here

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

__all__ = [
    "CSRFError",
    "CSRFProtect",
    "csrf_meta_tag",
    "generate_csrf",
    "logger",
    "validate_csrf",
]

#: Logs why a request or a form failed the CSRF check, at ``INFO``.
logger = logging.getLogger(__name__)

#: The salt that separates CSRF token signatures from other uses of the key.
SALT = "wtf-csrf-token"
#: Tokens longer than this are refused without trying to verify them.
MAX_TOKEN_LENGTH = 512

MISSING = "The CSRF token is missing."
SESSION_MISSING = "The CSRF session token is missing."
EXPIRED = "The CSRF token has expired."
INVALID = "The CSRF token is invalid."
MISMATCH = "The CSRF tokens do not match."

#: Where the signing time of the token :class:`CSRFProtect` accepted is kept in
#: ``g``, so that a form with a shorter time limit can still refuse it.
_SIGNED_AT = "_erlen_csrf_signed_at"

_T = t.TypeVar("_T")


class CSRFError(BadRequest):
    """A request failed the CSRF check: a 400 whose description says why.

    Handle it with ``@app.errorhandler(CSRFError)`` to show your own page.
    """

    description = "CSRF validation failed."


class _TokenError(ValidationError):
    """A token check failed: ``reason`` is Flask-WTF's message, ``hint`` what to do."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint

    @property
    def description(self) -> str:
        """The reason followed by the hint, for people."""
        return f"{self.reason} {self.hint}" if self.hint else self.reason


# -- tokens ----------------------------------------------------------------------


def _configured_key() -> str | bytes | None:
    """The key tokens are signed with: ``WTF_CSRF_SECRET_KEY``, else ``SECRET_KEY``."""
    app = current_app
    key: str | bytes | None = app.config.get("WTF_CSRF_SECRET_KEY", app.secret_key)
    return key


def _signing_keys(secret_key: str | bytes | None) -> list[str | bytes]:
    """All keys that verify a token, the signing key last (itsdangerous's order)."""
    if secret_key is not None:
        return [secret_key]
    key = _configured_key()
    if not key:
        raise RuntimeError(
            "A secret key is required to use CSRF. Set SECRET_KEY (or"
            " WTF_CSRF_SECRET_KEY) in the app's config."
        )
    if "WTF_CSRF_SECRET_KEY" in current_app.config:
        return [key]
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or ()
    return [*fallbacks, key]


def _field_name(token_key: str | None) -> str:
    if token_key:
        return token_key
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")  # type: ignore[no-any-return]


def _seconds(limit: int | float | timedelta | None) -> float | None:
    if isinstance(limit, timedelta):
        return limit.total_seconds()
    return limit


def generate_csrf(
    secret_key: str | bytes | None = None, token_key: str | None = None
) -> str:
    """Return the signed CSRF token for this request, creating the session's secret.

    The random secret is kept in the session under ``token_key`` (default
    ``WTF_CSRF_FIELD_NAME``); the signed token is cached in ``g`` under the same
    name, so every call in one request returns the same token. Only a call to
    this function (rendering ``{{ csrf_token() }}``, a form's token field or
    :func:`csrf_meta_tag`) writes to the session: a page without a token sets
    no session cookie.

    :param secret_key: sign with this key instead of ``WTF_CSRF_SECRET_KEY`` or
        ``SECRET_KEY``.
    :param token_key: the session and ``g`` key; default ``WTF_CSRF_FIELD_NAME``.
    """
    keys = _signing_keys(secret_key)
    field_name = _field_name(token_key)
    cached = g.get(field_name)
    if isinstance(cached, str):
        return cached
    serializer = URLSafeTimedSerializer(keys, salt=SALT)  # type: ignore[arg-type]
    raw = session.get(field_name)
    if not isinstance(raw, str):
        raw = session[field_name] = secrets.token_hex(20)
    token = serializer.dumps(raw)
    setattr(g, field_name, token)
    return token


def _verify(
    data: object,
    secret_key: str | bytes | None = None,
    time_limit: int | float | timedelta | None = None,
    token_key: str | None = None,
) -> datetime:
    """Check a submitted token; return when it was signed, or raise :class:`_TokenError`."""
    keys = _signing_keys(secret_key)
    field_name = _field_name(token_key)
    if time_limit is None:
        time_limit = current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if not data:
        raise _TokenError(MISSING)
    raw = session.get(field_name)
    if not isinstance(raw, str):
        if getattr(session, "new", False):
            hint = (
                "The request carried no session cookie: cookies may be blocked"
                " for this site, or the session expired. Enable cookies, reload"
                " the page that holds the form and submit it again."
            )
        else:
            hint = (
                "The session holds no CSRF secret: the page that sent this"
                " request never rendered a token (add {{ form.csrf_token }},"
                " {{ form.hidden_tag() }} or {{ csrf_token() }} to it), or the"
                " session was cleared since. Reload the page and submit again."
            )
        raise _TokenError(SESSION_MISSING, hint)
    if not isinstance(data, str) or len(data) > MAX_TOKEN_LENGTH:
        raise _TokenError(INVALID)
    serializer = URLSafeTimedSerializer(keys, salt=SALT)  # type: ignore[arg-type]
    limit = _seconds(time_limit)
    try:
        token, signed_at = serializer.loads(
            data,
            max_age=None if limit is None else int(limit),
            return_timestamp=True,
        )
    except SignatureExpired:
        raise _TokenError(EXPIRED) from None
    except BadData:
        raise _TokenError(INVALID) from None
    except Exception:  # anything a client sends must not become a 500
        raise _TokenError(INVALID) from None
    if not isinstance(token, str) or not hmac.compare_digest(
        raw.encode(), token.encode()
    ):
        raise _TokenError(MISMATCH)
    return t.cast(datetime, signed_at)


def validate_csrf(
    data: object,
    secret_key: str | bytes | None = None,
    time_limit: int | float | timedelta | None = None,
    token_key: str | None = None,
) -> None:
    """Check a token made by :func:`generate_csrf`; raise ``ValidationError`` if it fails.

    The error's message says which check failed: the token is missing, the
    session holds no secret, the token expired (``time_limit`` seconds, default
    ``WTF_CSRF_TIME_LIMIT``; ``None`` in the config means no limit), it is not
    a valid signed token, or it belongs to another session.
    """
    try:
        _verify(data, secret_key, time_limit, token_key)
    except _TokenError as e:
        raise ValidationError(e.reason) from None


def csrf_meta_tag(
    name: str | None = None,
    secret_key: str | bytes | None = None,
    token_key: str | None = None,
) -> Markup:
    """Return ``<meta name="csrf-token" content="...">`` for JavaScript clients.

    Scripts read it and send the token in the ``X-CSRFToken`` header.
    ``name`` defaults to ``WTF_CSRF_META_NAME``.
    """
    if name is None:
        name = current_app.config.get("WTF_CSRF_META_NAME", "csrf-token")
    token = generate_csrf(secret_key=secret_key, token_key=token_key)
    return Markup('<meta name="{}" content="{}">').format(escape(name), token)


def _token_time_ok(time_limit: int | float | timedelta | None) -> None:
    """Refuse a token :class:`CSRFProtect` accepted if it is older than ``time_limit``."""
    signed_at = g.get(_SIGNED_AT)
    limit = _seconds(time_limit)
    if not isinstance(signed_at, datetime) or limit is None:
        return
    if datetime.now(timezone.utc) - signed_at > timedelta(seconds=limit):
        raise ValidationError(EXPIRED)


# -- where a request comes from --------------------------------------------------

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or ``None``."""
    try:
        parts = urllib.parse.urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    # Browsers send only scheme://host[:port]; anything more is not an origin.
    if "@" in parts.netloc or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def _this_host() -> str:
    """The request's host, lower case, without the port of its own scheme."""
    host = request.host.lower()
    default = _DEFAULT_PORTS.get(request.scheme)
    if default and host.endswith(f":{default}"):
        host = host[: -len(default) - 1]
    return host


def _trusted(origin: str | None) -> bool:
    if origin is None:
        return False
    normalized = _normalize_origin(origin)
    if normalized is None:
        return False
    for trusted in current_app.config.get("WTF_CSRF_TRUSTED_ORIGINS") or ():
        if _normalize_origin(trusted) == normalized:
            return True
    return False


def _same_origin_by_headers() -> bool | None:
    """Whether the browser says this request comes from this site.

    ``True``: it does. ``None``: it sent neither ``Sec-Fetch-Site`` nor
    ``Origin``, so the token must decide. A request from elsewhere raises
    :class:`CSRFError`.
    """
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    origin = request.headers.get("Origin")
    if site:
        if site in ("same-origin", "none") or _trusted(origin):
            return True
        _refuse(
            f"The request was refused because the browser reports that it was"
            f" sent by a page of another site (Sec-Fetch-Site: {site[:20]})."
            " Submit the form from this site; if the other site is yours, add"
            " its origin to WTF_CSRF_TRUSTED_ORIGINS."
        )
    if origin is None:
        return None
    normalized = _normalize_origin(origin)
    if normalized is not None and normalized.partition("://")[2] == _this_host():
        return True
    if _trusted(origin):
        return True
    _refuse(
        f"The request was refused because it was sent by a page of another"
        f" origin ({origin[:100]!r}), not by this site. Submit the form from"
        " this site; if that origin is yours, add it to WTF_CSRF_TRUSTED_ORIGINS."
    )


def _refuse(reason: str) -> t.NoReturn:
    logger.info(reason)
    raise CSRFError(reason)


def _same_referrer(referrer: str) -> bool:
    try:
        got = urllib.parse.urlsplit(referrer)
        want = urllib.parse.urlsplit(f"https://{request.host}/")
        return (got.scheme, got.hostname, got.port) == (
            want.scheme,
            want.hostname,
            want.port,
        )
    except ValueError:
        return False


# -- the extension ---------------------------------------------------------------


class _CSRFState:
    """What ``app.extensions["csrf"]`` holds: the owning :class:`CSRFProtect`'s
    methods, so code written for Flask-WTF can call ``exempt`` and ``protect`` on it."""

    def __init__(self, owner: CSRFProtect) -> None:
        self.owner = owner
        self.exempt = owner.exempt
        self.protect = owner.protect


class CSRFProtect(Extension[_CSRFState]):
    """Check every state-changing request of an app for cross-site request forgery.

    ``CSRFProtect(app)`` or ``csrf = CSRFProtect()`` then ``csrf.init_app(app)``.
    Views and blueprints marked with :meth:`exempt` are skipped; with
    ``WTF_CSRF_CHECK_DEFAULT = False`` nothing is checked until a view or hook
    calls :meth:`protect`. A failed check raises :class:`CSRFError`.
    """

    name = "csrf"
    config_defaults: t.ClassVar[cabc.Mapping[str, t.Any]] = {
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_CHECK_DEFAULT": True,
        "WTF_CSRF_METHODS": ("POST", "PUT", "PATCH", "DELETE"),
        "WTF_CSRF_FIELD_NAME": "csrf_token",
        "WTF_CSRF_HEADERS": ("X-CSRFToken", "X-CSRF-Token"),
        "WTF_CSRF_META_NAME": "csrf-token",
        "WTF_CSRF_TIME_LIMIT": 3600,
        "WTF_CSRF_SSL_STRICT": True,
        "WTF_CSRF_TRUSTED_ORIGINS": (),
    }

    def __init__(self, app: Erlen | None = None) -> None:
        self._exempt_views: set[str] = set()
        self._exempt_blueprints: list[Blueprint] = []
        super().__init__(app)

    def create_state(self, app: Erlen) -> _CSRFState:
        return _CSRFState(self)

    def setup_app(self, app: Erlen, state: _CSRFState) -> None:
        app.add_template_global(generate_csrf, "csrf_token")
        app.add_template_global(csrf_meta_tag, "csrf_meta_tag")
        app.before_request(self._check_default)

    def deploy_problems(
        self, app: Erlen, state: _CSRFState
    ) -> cabc.Iterable[DeployProblem]:
        if not app.config.get("WTF_CSRF_ENABLED", True):
            yield DeployProblem(
                "csrf_enabled",
                "WTF_CSRF_ENABLED is False: forms and other state-changing"
                " requests are not protected against cross-site request forgery.",
                "Remove WTF_CSRF_ENABLED = False from the production config"
                " (keep it only in tests).",
            )
        if not app.config.get("WTF_CSRF_SSL_STRICT", True):
            yield DeployProblem(
                "csrf_ssl_strict",
                "WTF_CSRF_SSL_STRICT is False: over HTTPS, a request that relies"
                " on its CSRF token is accepted whatever its Referer says.",
                "Remove WTF_CSRF_SSL_STRICT = False from the production config.",
            )

    def exempt(self, view: _T) -> _T:
        """Skip the check for a view, a ``"module.function"`` name or a blueprint.

        Usable as a decorator under ``@app.route``; returns what it was given.
        """
        if isinstance(view, Blueprint):
            if not any(bp is view for bp in self._exempt_blueprints):
                self._exempt_blueprints.append(view)
        elif isinstance(view, str):
            self._exempt_views.add(view)
        else:
            self._exempt_views.add(_location(view))
        return view

    def _is_exempt(self) -> bool:
        app = current_app
        # Compare the blueprint objects, not their names: an unrelated nested
        # blueprint may share an exempt one's name ("admin.hooks" vs "hooks").
        for name in request.blueprints:
            registered = app.blueprints.get(name)
            if any(registered is bp for bp in self._exempt_blueprints):
                return True
        endpoint = request.endpoint
        view = app.view_functions.get(endpoint) if endpoint else None
        return view is not None and _location(view) in self._exempt_views

    @nonblocking
    def _check_default(self) -> None:
        """``before_request`` hook: :meth:`protect` unless exempt or disabled.

        Marked :func:`~erlen.ext.nonblocking`: it reads headers, the session
        and a body that is already in memory, and signs with ``hmac``; under
        ASGI it runs on the event loop for ``async def`` views.
        """
        config = current_app.config
        if not config["WTF_CSRF_ENABLED"] or not config["WTF_CSRF_CHECK_DEFAULT"]:
            return
        if request.method not in config["WTF_CSRF_METHODS"]:
            return
        if not request.endpoint or self._is_exempt():
            return
        self.protect()

    def protect(self, apply_exemptions: bool = False) -> None:
        """Check the current request now; raise :class:`CSRFError` if it fails.

        Does nothing for methods outside ``WTF_CSRF_METHODS`` or when
        ``WTF_CSRF_ENABLED`` is off. With ``apply_exemptions=True`` exempt views
        and blueprints, and URLs that match no view, are skipped, as in the
        automatic check.
        """
        config = current_app.config
        if not config.get("WTF_CSRF_ENABLED", True):
            return
        methods = config.get(
            "WTF_CSRF_METHODS", self.config_defaults["WTF_CSRF_METHODS"]
        )
        if request.method not in methods:
            return
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return
        if _same_origin_by_headers():
            g.csrf_valid = True
            return
        try:
            signed_at = _verify(self._get_csrf_token())
        except _TokenError as e:
            logger.info(e.reason)
            raise CSRFError(e.description) from None
        if request.is_secure and config.get("WTF_CSRF_SSL_STRICT", True):
            referrer = request.referrer
            if not referrer:
                _refuse("The referrer header is missing.")
            if not _same_referrer(referrer):
                _refuse("The referrer does not match the host.")
        g.csrf_valid = True
        setattr(g, _SIGNED_AT, signed_at)

    def _get_csrf_token(self) -> object:
        """The submitted token: form field, prefixed field, JSON body, then headers."""
        config = current_app.config
        field_name: str = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        pending = body_unreadable_here()
        if pending:
            # Under ASGI the body of a streamed view is still arriving and must
            # not be waited for on the loop: refuse a declared oversize body as
            # parsing would, else use the headers.
            limit = request.max_content_length
            declared = request.content_length
            if limit is not None and declared is not None and declared > limit:
                raise RequestEntityTooLarge()
        else:
            form = request.form
            token = form.get(field_name)
            if token:
                return token
            for key in form:
                if key.endswith(field_name):
                    token = form[key]
                    if token:
                        return token
            if request.is_json:
                body = request.get_json(silent=True)
                if isinstance(body, dict) and body.get(field_name):
                    return body[field_name]
        headers = config.get(
            "WTF_CSRF_HEADERS", self.config_defaults["WTF_CSRF_HEADERS"]
        )
        for header in headers:
            token = request.headers.get(header)
            if token:
                return token
        if pending:
            raise _TokenError(
                MISSING,
                f"The request body is streamed and is not searched for a token:"
                f" send it in the {headers[0] if headers else 'X-CSRFToken'} header.",
            )
        return None


def _location(view: object) -> str:
    return f"{getattr(view, '__module__', '')}.{getattr(view, '__name__', '')}"
