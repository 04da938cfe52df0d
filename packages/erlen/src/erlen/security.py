"""Secure defaults: safe redirects, security headers, guarded input and deploy checks.

What an app gets without asking (see ``docs/security.md``):

- Bad client input never becomes a 500. The request body is read through a
  guard that turns malformed chunked encoding and disconnects into a 400 and
  enforces ``MAX_CONTENT_LENGTH`` on chunked bodies too (413, never a truncated
  body); JSON nested deeper than ``MAX_JSON_DEPTH`` is a 400; cookies with raw
  non-ASCII bytes or longer than ``MAX_COOKIE_SIZE`` are ignored; ``int`` and
  ``float`` URL converters accept ASCII digits only.
- :func:`is_safe_redirect_url` decides whether a user-given URL is safe to
  redirect to, the way browsers parse it; :func:`erlen.redirect` encodes
  control characters instead of failing.
- Every response gets the headers in ``SECURITY_HEADERS`` (and
  ``Strict-Transport-Security`` over HTTPS with secure cookies);
  :func:`security_headers` and :func:`no_security_headers` change that per view.
- ``erlen check --deploy`` runs the :func:`deploy_check` functions and the
  checks extensions add with :func:`add_deploy_check`.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import importlib.metadata
import io
import ipaddress
import itertools
import json
import operator
import os
import re
import typing as t
import weakref

from werkzeug.datastructures import Headers
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_cookie
from werkzeug.routing import FloatConverter as _FloatConverter
from werkzeug.routing import IntegerConverter as _IntegerConverter
from werkzeug.urls import iri_to_uri
from werkzeug.wsgi import get_content_length
from werkzeug.wsgi import LimitedStream

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment

    from .app import Erlen
    from .config import Config
    from .wrappers import Response

__all__ = [
    "DEFAULT_SECURITY_HEADERS",
    "DeployProblem",
    "RedirectLocationError",
    "add_deploy_check",
    "auth_cookie_options",
    "deploy_check",
    "is_safe_redirect_url",
    "no_security_headers",
    "run_deploy_checks",
    "safe_redirect_location",
    "security_headers",
]

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

# -- safe redirects -------------------------------------------------------------

_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


class RedirectLocationError(BadRequest, ValueError):
    """A redirect target cannot be encoded as a URL (a bad port or host name).

    Raised by :func:`erlen.redirect` in the app's code; when not caught it is a
    400 response, since the URL usually came from the client.
    """


def safe_redirect_location(location: str) -> str:
    """Return ``location`` encoded for a ``Location`` header.

    Control characters (CR, LF, NUL, ...) and spaces are percent-encoded, then
    the IRI is encoded as a URI (non-ASCII path, IDNA host). The result never
    contains a character a header cannot carry.

    :raises RedirectLocationError: the host or port cannot be encoded.
    """
    encoded = _CONTROL.sub(lambda m: f"%{ord(m.group()):02X}", location)
    try:
        return iri_to_uri(encoded)
    except ValueError as e:
        raise RedirectLocationError(
            f"The redirect target {location!r} is not a valid URL ({e})."
            " Check the URL, or validate user-given targets with"
            " erlen.security.is_safe_redirect_url() first."
        ) from e


def _browser_view(url: str) -> str:
    """``url`` as a browser reads it: outer spaces and controls stripped, tabs
    and newlines removed, ``\\`` read as ``/``."""
    url = url.strip("".join(map(chr, range(0x21))))
    return _TAB_NEWLINE.sub("", url).replace("\\", "/")


def _host_matches(hostname: str, allowed: cabc.Iterable[str]) -> bool:
    """Whether ``hostname`` equals an allowed host; ``.example.com`` also matches
    its subdomains. Ports are ignored; comparison is case-insensitive."""
    hostname = hostname.lower().rstrip(".")
    for entry in allowed:
        entry = _strip_port(entry.lower()).rstrip(".")
        if not entry:
            continue
        if entry[0] == "." and (hostname == entry[1:] or hostname.endswith(entry)):
            return True
        if hostname == entry:
            return True
    return False


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host


def _is_safe_view(url: str, hosts: tuple[str, ...], require_https: bool) -> bool:
    if not url or url.startswith("//"):
        return False
    match = _SCHEME.match(url)
    if match is None:
        return not require_https
    scheme = match.group(1).lower()
    if scheme not in ("http", "https") or (require_https and scheme != "https"):
        return False
    rest = url[match.end() :]
    if not rest.startswith("/"):
        return False
    authority = re.split(r"[/?#]", rest.lstrip("/"), maxsplit=1)[0]
    host = _strip_port(authority.rpartition("@")[2])
    return bool(host) and _host_matches(host, hosts)


def is_safe_redirect_url(
    url: str | None,
    *,
    host: str | None = None,
    allowed_hosts: cabc.Iterable[str] = (),
    require_https: bool = False,
) -> t.TypeGuard[str]:
    """Tell whether redirecting to ``url`` keeps the user on a trusted site.

    Use it on every redirect target that comes from the client (``?next=``,
    a form field, a header) and fall back to a fixed page when it says no::

        target = request.args.get("next")
        if not is_safe_redirect_url(target):
            target = url_for("index")
        return redirect(target)

    A URL is safe when it is a relative URL (``/account``, ``page?x=1``), or an
    ``http``/``https`` URL whose host is ``host`` or in ``allowed_hosts``. The
    check reads the URL the way browsers do: outer spaces and control
    characters are stripped, tabs and newlines removed and ``\\`` read as
    ``/``. Scheme-relative URLs (``//evil.example``, ``////evil.example``,
    ``/\\evil.example``), ``javascript:``, ``data:`` and other schemes, foreign
    hosts, ``http:evil.example`` and empty values are unsafe. The value
    :func:`erlen.redirect` would send is checked too.

    :param url: the target; ``None`` is unsafe.
    :param host: the site's own host, ``request.host`` by default inside a
        request. Outside one only relative URLs and ``allowed_hosts`` pass.
    :param allowed_hosts: other trusted hosts; ``.example.com`` also allows its
        subdomains. Ports are ignored.
    :param require_https: also reject ``http`` URLs and relative URLs.
    """
    if not isinstance(url, str):
        return False
    if host is None:
        from .globals import _cv_request

        ctx = _cv_request.get(None)
        if ctx is not None:
            try:
                host = ctx.request.host
            except HTTPException:
                host = None
    hosts = (*((host,) if host else ()), *allowed_hosts)
    if not _is_safe_view(_browser_view(url), hosts, require_https):
        return False
    try:
        encoded = safe_redirect_location(url)
    except RedirectLocationError:
        return False
    return _is_safe_view(_browser_view(encoded), hosts, require_https)


# -- security headers -----------------------------------------------------------

#: The headers every response gets unless the view already set them; the
#: default of the ``SECURITY_HEADERS`` config key.
DEFAULT_SECURITY_HEADERS: cabc.Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_VIEW_ATTR = "_erlen_security_headers"


def _header_name(name: str) -> str:
    """``x_frame_options`` -> ``X-Frame-Options``; hyphenated names are kept."""
    if "_" not in name:
        return name
    return "-".join(part.capitalize() for part in name.split("_"))


@dataclasses.dataclass(frozen=True)
class _ViewHeaders:
    """The per-view changes :func:`security_headers` records on a view."""

    changes: tuple[tuple[str, str | None], ...]
    disable_all: bool = False


def security_headers(
    headers: cabc.Mapping[str, str | None] | None = None, /, **changes: str | None
) -> t.Callable[[F], F]:
    """Change the security headers of one view; decorate the view function.

    Give header names as a mapping or as keyword arguments
    (``x_frame_options`` means ``X-Frame-Options``). A string value replaces
    the default or adds a header; ``None`` drops that header for this view::

        @app.get("/embed")
        @security_headers(x_frame_options="SAMEORIGIN", referrer_policy=None)
        def embed(): ...

    Apply it below ``@app.route`` (closer to the function). Headers the view
    sets on its response itself always win.
    """
    merged = {**(headers or {}), **changes}
    record = _ViewHeaders(tuple((_header_name(k), v) for k, v in merged.items()))

    def decorator(f: F) -> F:
        setattr(f, _VIEW_ATTR, record)
        return f

    return decorator


def no_security_headers(f: F) -> F:
    """Send none of the default security headers (nor HSTS) from this view."""
    setattr(f, _VIEW_ATTR, _ViewHeaders((), disable_all=True))
    return f


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of ``headers``, without copying them.

    Werkzeug's ``Headers`` keeps them in a list; iterating it directly costs a
    fraction of ``Headers.items()`` on the per-request path. Read only.
    """
    items: list[tuple[str, str]] | None = getattr(headers, "_list", None)
    if items is None:  # pragma: no cover - a Headers without Werkzeug's list
        return list(headers.items())
    return items


def append_valid_headers(headers: Headers, pairs: t.Iterable[tuple[str, str]]) -> None:
    """Append headers that were validated once, when the app started.

    ``Headers.add`` checks every name and value again; on the hot path, pairs
    built and checked at start-up go straight into Werkzeug's list.
    """
    items: list[tuple[str, str]] | None = getattr(headers, "_list", None)
    if items is None:  # pragma: no cover - a Headers without Werkzeug's list
        headers.extend(pairs)
    else:
        items.extend(pairs)


class SecurityHeaderPolicy:
    """The security headers of an app, computed once from its config.

    The app builds one on its first request from ``SECURITY_HEADERS``,
    ``STRICT_TRANSPORT_SECURITY`` and ``SESSION_COOKIE_SECURE``, then calls
    :meth:`apply` on every response: headers the response already has are
    left alone.
    """

    def __init__(self, config: Config | cabc.Mapping[str, t.Any]) -> None:
        headers = config.get("SECURITY_HEADERS") or {}
        self.headers: tuple[tuple[str, str], ...] = tuple(
            (_header_name(k), v) for k, v in headers.items() if v is not None
        )
        Headers(self.headers)  # raises now for a name or value that is not valid
        self._names = frozenset(name.lower() for name, _ in self.headers)
        hsts = config.get("STRICT_TRANSPORT_SECURITY")
        #: ``Strict-Transport-Security`` for HTTPS requests, or ``None``.
        self.hsts: str | None = (
            hsts if hsts and config.get("SESSION_COOKIE_SECURE") else None
        )
        if self.hsts is not None:
            Headers([("Strict-Transport-Security", self.hsts)])
        self._per_view: dict[_ViewHeaders, tuple[tuple[str, str], ...]] = {}

    def _for_view(self, record: _ViewHeaders) -> tuple[tuple[str, str], ...]:
        try:
            return self._per_view[record]
        except KeyError:
            pass
        if record.disable_all:
            pairs: tuple[tuple[str, str], ...] = ()
        else:
            merged = {name.lower(): (name, value) for name, value in self.headers}
            for name, value in record.changes:
                merged[name.lower()] = (name, value)  # type: ignore[assignment]
            pairs = tuple((n, v) for n, v in merged.values() if v is not None)
            Headers(pairs)  # raises now for a name or value that is not valid
        self._per_view[record] = pairs
        return pairs

    def apply(
        self, response: Response, view: t.Any = None, https: bool = False
    ) -> None:
        """Add the headers ``response`` does not have yet.

        :param view: the view function that handled the request, whose
            :func:`security_headers` changes apply.
        :param https: whether the request came over HTTPS (adds HSTS).
        """
        record: _ViewHeaders | None = getattr(view, _VIEW_ATTR, None)
        pairs = self.headers if record is None else self._for_view(record)
        if https and self.hsts is not None and not (record and record.disable_all):
            hsts = self._hsts_for(record)
            if hsts is not None:
                pairs = (*pairs, ("Strict-Transport-Security", hsts))
        if not pairs:
            return
        headers = response.headers
        names = (
            self._names
            if pairs is self.headers
            else frozenset(name.lower() for name, _ in pairs)
        )
        # An ordinary response has none of these headers yet: one pass over
        # its few headers, then the pairs (validated when the policy was
        # built) are appended as they are.
        for key, _ in header_pairs(headers):
            if key.lower() in names:
                present = {key.lower() for key, _ in header_pairs(headers)}
                pairs = tuple(pair for pair in pairs if pair[0].lower() not in present)
                break
        append_valid_headers(headers, pairs)

    def _hsts_for(self, record: _ViewHeaders | None) -> str | None:
        if record is not None:
            for name, value in record.changes:
                if name.lower() == "strict-transport-security":
                    return value
        return self.hsts


# -- cookies used by extensions -------------------------------------------------


def auth_cookie_options(app: Erlen) -> dict[str, t.Any]:
    """Return ``secure``, ``httponly`` and ``samesite`` for an auth cookie.

    Extensions that set their own cookies (remember-me, CSRF) use these as
    defaults so that one setting, ``SESSION_COOKIE_SECURE``, makes every auth
    cookie HTTPS-only; ``SESSION_COOKIE_SAMESITE`` is followed too.
    """
    return {
        "secure": bool(app.config["SESSION_COOKIE_SECURE"]),
        "httponly": True,
        "samesite": app.config["SESSION_COOKIE_SAMESITE"],
    }


# -- guarded request input ------------------------------------------------------


class _GuardedBody(LimitedStream):
    """The request body: at most ``limit`` bytes, read errors are a 400.

    With ``is_max`` (a chunked body with ``MAX_CONTENT_LENGTH`` set), a body
    longer than the limit raises a 413 instead of being cut short.
    """

    def readinto(self, b: bytearray) -> int | None:  # type: ignore[override]
        try:
            return super().readinto(b)
        except HTTPException:
            raise
        except Exception as e:
            raise BadRequest(f"The request body could not be read: {e}") from e

    def on_disconnect(self, error: Exception | None = None) -> None:
        if self._limit_is_max and error is None:
            return
        reason = f" ({error})" if error is not None else ""
        raise ClientDisconnected(
            "The request body ended before it was complete; the client may"
            f" have disconnected{reason}."
        )

    def on_exhausted(self) -> None:
        if self._limit_is_max and self._has_more():
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()
        if self._limit_is_max and self.is_exhausted and self._has_more():
            raise RequestEntityTooLarge()
        return data

    def _has_more(self) -> bool:
        """Whether the client sent more than the limit (reads one byte)."""
        try:
            return bool(self._stream.read(1))
        except Exception as e:
            raise BadRequest(f"The request body could not be read: {e}") from e


_NO_LIMIT = 2**63


def guarded_input_stream(
    environ: WSGIEnvironment, max_content_length: int | None
) -> t.IO[bytes]:
    """Return the request body stream with every limit enforced.

    Like Werkzeug's ``get_input_stream``, but a chunked body (the server sets
    ``wsgi.input_terminated``) longer than ``max_content_length`` raises a
    413 on every read path instead of being silently truncated; a body
    shorter than its ``Content-Length`` (the client disconnected) and errors
    from the server while reading (malformed chunked encoding) raise a 400.
    Without ``Content-Length`` or a server that ends the stream, the body is
    empty.
    """
    stream = t.cast(t.IO[bytes], environ["wsgi.input"])
    content_length = get_content_length(environ)
    if content_length is not None:
        if max_content_length is not None and content_length > max_content_length:
            raise RequestEntityTooLarge()
        return t.cast(t.IO[bytes], _GuardedBody(stream, content_length))
    if "wsgi.input_terminated" in environ:
        if max_content_length is not None:
            return t.cast(
                t.IO[bytes], _GuardedBody(stream, max_content_length, is_max=True)
            )
        return t.cast(t.IO[bytes], _GuardedBody(stream, _NO_LIMIT, is_max=True))
    return io.BytesIO()


def parse_request_cookies(
    header: str, cls: type[MultiDict[str, str]], max_size: int
) -> MultiDict[str, str]:
    """Parse a ``Cookie`` header, dropping cookies a browser would not have sent.

    A cookie whose raw name or value holds non-ASCII bytes (undecodable or
    forged by a client), whose quoted escapes do not decode as UTF-8, or whose
    value is longer than ``max_size`` is left out, as if absent. Quoted values
    with escapes that decode to Unicode (as Werkzeug writes them) are kept.
    """
    if not header.isascii():
        header = ";".join(part for part in header.split(";") if part.isascii())
    cookies = parse_cookie(header, cls=cls)
    escapes = "\\" in header
    if len(header) <= max_size and not escapes:
        return cookies
    return cls(
        [
            (k, v)
            for k, v in cookies.items(multi=True)
            if len(v) <= max_size and not (escapes and "\ufffd" in v)
        ]
    )


_BRACKET_TABLE = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_nesting_exceeds(data: bytes | str, limit: int) -> bool:
    """Tell whether JSON text nests arrays and objects deeper than ``limit``.

    Runs at C speed: text with at most ``limit`` brackets is not scanned at
    all; otherwise strings are cut out and the depth counted over the rest.
    Invalid JSON may get either answer; the parser reports it afterwards.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    else:
        encoding = json.detect_encoding(data)
        if encoding not in ("utf-8", "utf-8-sig"):
            try:
                data = data.decode(encoding).encode("utf-8", "surrogatepass")
            except UnicodeError:
                return False
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside_strings = b"".join(data.split(b'"')[::2])
    brackets = outside_strings.translate(_BRACKET_TABLE, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    steps = map(operator.sub, brackets, itertools.repeat(1))
    return bool(max(itertools.accumulate(steps)) > limit)


def check_host_header(environ: WSGIEnvironment) -> None:
    """Raise a 400 when the ``Host`` header is missing or was sent twice.

    Used when ``TRUSTED_HOSTS`` is set, before the host is checked against it.
    """
    host = environ.get("HTTP_HOST")
    if not host:
        raise BadRequest("The request has no 'Host' header; this server requires one.")
    if "," in host:
        raise BadRequest("The request has more than one 'Host' header.")


class IntegerConverter(_IntegerConverter):
    """``int`` URL converter that accepts ASCII digits only (not ``١٢``)."""

    regex = r"[0-9]+"


class FloatConverter(_FloatConverter):
    """``float`` URL converter that accepts ASCII digits only."""

    regex = r"[0-9]+\.[0-9]+"


#: The URL converters the app registers in place of Werkzeug's.
URL_CONVERTERS: cabc.Mapping[str, type[t.Any]] = {
    "int": IntegerConverter,
    "float": FloatConverter,
}


# -- the development server -------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name) only accepts connections from this
    machine: ``127.0.0.1``, ``::1``, ``localhost``."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def debugger_binding_message(host: str) -> tuple[str, bool]:
    """Return the line the dev server prints about who can reach the debugger,
    and whether it is a warning."""
    if is_loopback(host):
        return (
            f" * Debugger bound to {host}: only this machine can reach it."
            " Pass --host to change that (never on a public network).",
            False,
        )
    return (
        f" * WARNING: the debugger is on and the server listens on {host}."
        " Anyone who can reach it can run code on this machine. Use"
        " --host 127.0.0.1 or --no-debugger.",
        True,
    )


# -- deploy checks ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DeployProblem:
    """One problem a check found: what is wrong and how to fix it.

    :param check: a short id, like ``"secret_key"``, shown in brackets.
    :param message: what is wrong.
    :param fix: what to do about it.
    """

    check: str
    message: str
    fix: str


#: A check: takes the app and yields the problems it finds (none when all is well).
DeployCheck = t.Callable[["Erlen"], cabc.Iterable[DeployProblem]]

_global_checks: list[tuple[DeployCheck, bool]] = []
_app_checks: weakref.WeakKeyDictionary[Erlen, list[tuple[DeployCheck, bool]]] = (
    weakref.WeakKeyDictionary()
)


@t.overload
def deploy_check(func: DeployCheck, /) -> DeployCheck: ...
@t.overload
def deploy_check(*, deploy: bool = True) -> t.Callable[[DeployCheck], DeployCheck]: ...
def deploy_check(func: DeployCheck | None = None, /, *, deploy: bool = True) -> t.Any:
    """Register a check that ``erlen check`` runs for every app.

    Use as ``@deploy_check`` or ``@deploy_check(deploy=False)``. Checks with
    ``deploy=True`` run only with ``--deploy``; others always run. For a check
    that belongs to one app (an extension's), use :func:`add_deploy_check`.
    """

    def decorator(f: DeployCheck) -> DeployCheck:
        _global_checks.append((f, deploy))
        return f

    return decorator(func) if func is not None else decorator


def add_deploy_check(app: Erlen, check: DeployCheck, *, deploy: bool = True) -> None:
    """Register a check that ``erlen check`` runs for ``app`` only.

    Extensions call it from ``init_app`` (``erlen.ext`` re-exports it), so
    their problems (an insecure remember cookie, CSRF turned off) appear next
    to the core's.
    """
    _app_checks.setdefault(app, []).append((check, deploy))


def run_deploy_checks(app: Erlen, *, deploy: bool = True) -> list[DeployProblem]:
    """Run the checks for ``app`` and return every problem found.

    :param deploy: include the checks meant for production deployments.
    """
    problems: list[DeployProblem] = []
    for check, for_deploy in [*_global_checks, *_app_checks.get(app, ())]:
        if for_deploy and not deploy:
            continue
        problems.extend(check(app))
    return problems


#: Example secret keys from tutorials and templates; never use one in production.
WELL_KNOWN_SECRET_KEYS = frozenset(
    {
        "dev",
        "development",
        "secret",
        "secret-key",
        "secret_key",
        "secretkey",
        "your-secret-key",
        "your_secret_key",
        "your-secret-key-here",
        "mysecretkey",
        "my-secret-key",
        "super secret key",
        "supersecretkey",
        "super-secret",
        "changeme",
        "change-me",
        "change_me",
        "default",
        "password",
        "test",
        "testing",
        "development key",
        "dev-key",
        "dev_key",
        "you-will-never-guess",
        "hard to guess string",
        "s3cr3t",
    }
)

#: Shortest secret key that ``erlen check --deploy`` accepts, in characters.
MIN_SECRET_KEY_LENGTH = 32

#: Lowest versions of dependencies that fix published security advisories.
ADVISORY_MINIMUM_VERSIONS: cabc.Mapping[str, tuple[str, str]] = {
    "werkzeug": (
        "3.1.6",
        "GHSA-29vq-49wr-vm6x, GHSA-87hc-h4r5-73f7, GHSA-hgf8-39gv-g3f2",
    ),
    "jinja2": (
        "3.1.6",
        "GHSA-cpwx-vrp4-4pq7, GHSA-q2x7-8rv6-6q7h, GHSA-gmj6-6f8f-6699",
    ),
    "gunicorn": ("23.0.0", "CVE-2024-6827, CVE-2024-1135 (request smuggling)"),
}

_FIX_SECRET_KEY = (
    "Set SECRET_KEY to a long random value kept out of version control, for"
    ' example from: python -c "import secrets; print(secrets.token_hex())"'
)


@deploy_check
def _check_secret_key(app: Erlen) -> cabc.Iterator[DeployProblem]:
    key = app.config.get("SECRET_KEY")
    if not key:
        yield DeployProblem(
            "secret_key",
            "SECRET_KEY is not set: sessions cannot be signed.",
            _FIX_SECRET_KEY,
        )
        return
    text = key.decode("latin1") if isinstance(key, bytes) else str(key)
    if text.strip().lower() in WELL_KNOWN_SECRET_KEYS:
        yield DeployProblem(
            "secret_key",
            f"SECRET_KEY is a well-known example value ({text!r}): anyone can"
            " forge session cookies.",
            _FIX_SECRET_KEY,
        )
    elif len(text) < MIN_SECRET_KEY_LENGTH:
        yield DeployProblem(
            "secret_key",
            f"SECRET_KEY is only {len(text)} characters long; use at least"
            f" {MIN_SECRET_KEY_LENGTH}.",
            _FIX_SECRET_KEY,
        )


@deploy_check
def _check_debug(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if app.debug or _env_flag("ERLEN_DEBUG"):
        yield DeployProblem(
            "debug",
            "DEBUG is on: errors show tracebacks and the debugger can run code.",
            "Set DEBUG = False and unset ERLEN_DEBUG in production.",
        )


@deploy_check
def _check_body_limit(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        yield DeployProblem(
            "max_content_length",
            "MAX_CONTENT_LENGTH is None: clients can send bodies of any size.",
            "Set MAX_CONTENT_LENGTH to the largest body the app accepts (the"
            " default is 16 MiB).",
        )


@deploy_check
def _check_trusted_hosts(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if not app.config.get("TRUSTED_HOSTS"):
        yield DeployProblem(
            "trusted_hosts",
            "TRUSTED_HOSTS is empty: any Host header is accepted, so URLs built"
            " from it (password reset links, redirects) can point elsewhere.",
            "Set TRUSTED_HOSTS to the names the app is served under, for"
            ' example ["example.com", ".example.com"].',
        )


@deploy_check(deploy=False)
def _check_trusted_hosts_type(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if isinstance(app.config.get("TRUSTED_HOSTS"), str):
        yield DeployProblem(
            "trusted_hosts",
            "TRUSTED_HOSTS is a string; it must be a list of host names.",
            'Write TRUSTED_HOSTS = ["example.com"], not "example.com".',
        )


@deploy_check
def _check_secure_cookies(app: Erlen) -> cabc.Iterator[DeployProblem]:
    if not app.config.get("SESSION_COOKIE_SECURE"):
        yield DeployProblem(
            "session_cookie_secure",
            "SESSION_COOKIE_SECURE is off: session (and extensions' auth)"
            " cookies are also sent over plain HTTP.",
            "Serve the app over HTTPS and set SESSION_COOKIE_SECURE = True.",
        )


@deploy_check(deploy=False)
def _check_samesite_none(app: Erlen) -> cabc.Iterator[DeployProblem]:
    samesite = app.config.get("SESSION_COOKIE_SAMESITE")
    if (
        isinstance(samesite, str)
        and samesite.lower() == "none"
        and not app.config.get("SESSION_COOKIE_SECURE")
    ):
        yield DeployProblem(
            "session_cookie_samesite",
            "SESSION_COOKIE_SAMESITE is 'None' without SESSION_COOKIE_SECURE:"
            " browsers reject such cookies, so sessions will not work.",
            "Set SESSION_COOKIE_SECURE = True, or use 'Lax' (the default).",
        )


def _wrapped_apps(app: Erlen) -> cabc.Iterator[t.Any]:
    """``app.wsgi_app`` and the apps middleware wraps, a few levels deep."""
    current: t.Any = app.wsgi_app
    for _ in range(8):
        if current is None:
            return
        yield current
        current = getattr(current, "app", None) or getattr(current, "wsgi_app", None)


@deploy_check
def _check_debugger(app: Erlen) -> cabc.Iterator[DeployProblem]:
    from werkzeug.debug import DebuggedApplication

    if any(isinstance(a, DebuggedApplication) for a in _wrapped_apps(app)):
        yield DeployProblem(
            "debugger",
            "The app is wrapped in Werkzeug's debugger: anyone who reaches it"
            " can run code on the server.",
            "Remove the DebuggedApplication middleware in production.",
        )
        return
    host = os.environ.get("ERLEN_RUN_HOST")
    if host and not is_loopback(host) and (app.debug or _env_flag("ERLEN_DEBUG")):
        yield DeployProblem(
            "debugger",
            f"ERLEN_RUN_HOST={host} with debug on: 'erlen run' would expose"
            " the debugger to the network.",
            "Unset ERLEN_RUN_HOST or ERLEN_DEBUG; deploy with a WSGI server.",
        )


def _env_flag(name: str) -> bool:
    value = os.environ.get(name, "")
    return bool(value) and value.lower() not in ("0", "false", "no")


def _version_tuple(version: str) -> tuple[int, ...]:
    match = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(p) for p in match.group().split(".")) if match else ()


@deploy_check
def _check_dependency_versions(app: Erlen) -> cabc.Iterator[DeployProblem]:
    for name, (minimum, advisories) in ADVISORY_MINIMUM_VERSIONS.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        if _version_tuple(installed) < _version_tuple(minimum):
            yield DeployProblem(
                "dependencies",
                f"{name} {installed} is installed; versions before {minimum}"
                f" have known security advisories ({advisories}).",
                f"Upgrade it: python -m pip install '{name}>={minimum}'",
            )
