"""Secure defaults: safe redirects, security headers and the debugger's address.

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
import ipaddress
import re
import typing as t

from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.urls import iri_to_uri

from ._werkzeug_compat import append_valid_headers as append_valid_headers
from ._werkzeug_compat import header_pairs as header_pairs

if t.TYPE_CHECKING:  # pragma: no cover
    from .app import Erlen
    from .config import Config
    from .wrappers import Response

__all__ = [
    "DEFAULT_SECURITY_HEADERS",
    "RedirectLocationError",
    "auth_cookie_options",
    "debugger_binding_message",
    "is_loopback",
    "is_safe_redirect_url",
    "no_security_headers",
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
_HSTS = "strict-transport-security"


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


class SecurityHeaderPolicy:
    """The security headers of an app, computed once from its config.

    The app builds one on its first request from ``SECURITY_HEADERS``,
    ``STRICT_TRANSPORT_SECURITY`` and ``SESSION_COOKIE_SECURE``, builds it
    again when :meth:`matches` says those changed, and calls :meth:`apply` on
    every response: headers the response already has are left alone.
    """

    def __init__(self, config: Config | cabc.Mapping[str, t.Any]) -> None:
        #: The config values the policy was built from (see :func:`policy_source`).
        self.source = policy_source(config)
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

    def matches(self, config: Config | cabc.Mapping[str, t.Any]) -> bool:
        """Whether the policy was built from the values ``config`` holds now."""
        return policy_source(config) == self.source

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
                if name.lower() == _HSTS:
                    continue  # HTTPS only: added by apply()
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
        if https and not (record and record.disable_all):
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
        """The view's own ``Strict-Transport-Security`` (``None`` drops it), else the app's."""
        if record is not None:
            for name, value in record.changes:
                if name.lower() == _HSTS:
                    return value
        return self.hsts


def policy_source(config: Config | cabc.Mapping[str, t.Any]) -> tuple[t.Any, ...]:
    """The config values a policy is built from (the header dict copied);
    a policy is current while they compare equal to the config's."""
    headers = config.get("SECURITY_HEADERS")
    return (
        dict(headers) if isinstance(headers, cabc.Mapping) else headers,
        config.get("STRICT_TRANSPORT_SECURITY"),
        config.get("SESSION_COOKIE_SECURE"),
    )


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
