"""Every private name of Werkzeug and itsdangerous that erlen relies on, in one place.

erlen uses its dependencies through their public API, except for these few
internals that the hot path or a safety fix needs. Each is reached only
through this module, and ``tests/test_werkzeug_compat.py`` checks each one
against the installed release, so a release that changes one fails loudly
there instead of misbehaving elsewhere. nox runs the core's tests against the
oldest supported and the newest Werkzeug.

========================================  ===========================================
Private name                              Why
========================================  ===========================================
``Headers._list``                         read and append response headers without
                                          copying or re-validating them (hot path)
``LimitedStream._limit_is_max``,          tell a chunked body's maximum from a known
``LimitedStream._stream``                 length, and read one byte past it (413)
``Request._cached_json``                  the JSON cache ``get_json`` shares with
                                          Werkzeug's ``request.json``
``Request._load_form_data``,              overridden: a malformed form is a 400, and
``Request._get_file_stream``              upload files are closed when parsing fails
``Response._on_close``                    whether a response has close callbacks
``MapAdapter(...)`` positional arguments  bind the URL map from the parsed request
``Client._cookies``,                      the test client's session transaction, as
``Client._add_cookies_to_wsgi``,          Flask's uses them
``Client._update_cookies_from_response``
itsdangerous ``URLSafeSerializerMixin``   dump a session payload without the mixin's
in the serializer's MRO                   unconditional zlib attempt
========================================  ===========================================
"""

from __future__ import annotations

import operator
import typing as t

from itsdangerous.url_safe import URLSafeSerializerMixin
from werkzeug.routing import MapAdapter

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import Headers
    from werkzeug.test import Client
    from werkzeug.wrappers import Request
    from werkzeug.wrappers import Response
    from werkzeug.wsgi import LimitedStream


# -- Headers -----------------------------------------------------------------------


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


# -- LimitedStream -------------------------------------------------------------------


def limit_is_max(stream: LimitedStream) -> bool:
    """Whether the stream's limit is a maximum (chunked body), not a known length."""
    return stream._limit_is_max


def underlying_stream(stream: LimitedStream) -> t.IO[bytes]:
    """The stream a ``LimitedStream`` reads from (the server's ``wsgi.input``)."""
    return stream._stream


# -- Request and Response ----------------------------------------------------------------


#: The request methods erlen overrides; tests check they exist and are used.
OVERRIDDEN_REQUEST_METHODS = ("_load_form_data", "_get_file_stream")


def get_cached_json(request: Request) -> tuple[t.Any, t.Any]:
    """``(result, silent result)`` of earlier ``get_json`` calls; ``...`` when none."""
    return request._cached_json


def set_cached_json(request: Request, value: tuple[t.Any, t.Any]) -> None:
    """Store what :func:`get_cached_json` returns."""
    request._cached_json = value


#: ``close_callbacks(response)``: the list ``call_on_close`` appends to (an
#: ``attrgetter``, so the per-response call costs no Python frame).
close_callbacks: t.Callable[[Response], list[t.Callable[[], t.Any]]] = (
    operator.attrgetter("_on_close")
)


#: ``MapAdapter(map, server_name, script_name, subdomain, url_scheme, path_info,
#: default_method, query_args)``: Werkzeug's constructor, positional, as
#: ``Map.bind`` calls it.
new_map_adapter = MapAdapter

#: The constructor's parameters, in order; checked by the tests.
MAP_ADAPTER_PARAMETERS = (
    "map",
    "server_name",
    "script_name",
    "subdomain",
    "url_scheme",
    "path_info",
    "default_method",
    "query_args",
)


# -- the test client ---------------------------------------------------------------------


def client_cookies_enabled(client: Client) -> bool:
    """Whether the test client keeps cookies (``use_cookies=True``)."""
    return client._cookies is not None


def add_client_cookies(client: Client, environ: dict[str, t.Any]) -> None:
    """Put the client's cookies for ``environ``'s host and path into its ``Cookie``."""
    client._add_cookies_to_wsgi(environ)


def update_client_cookies(
    client: Client, server_name: str, path: str, set_cookies: list[str]
) -> None:
    """Store the ``Set-Cookie`` header values of a response in the client's jar."""
    client._update_cookies_from_response(server_name, path, set_cookies)


# -- itsdangerous --------------------------------------------------------------------------


def dump_payload_uncompressed(serializer: t.Any, obj: t.Any) -> bytes:
    """Serialize ``obj`` as the base serializer does, skipping the URL-safe
    mixin's ``dump_payload`` (which always tries zlib)."""
    return super(URLSafeSerializerMixin, serializer).dump_payload(obj)  # type: ignore[no-any-return]
