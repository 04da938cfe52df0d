"""Reading client input safely: what the request wrappers use so that bad input
is a 4xx, never a 500.

The body is read through a guard that turns malformed chunked encoding and
disconnects into a 400 and enforces ``MAX_CONTENT_LENGTH`` on chunked bodies
too (413, never a truncated body); JSON nested deeper than ``MAX_JSON_DEPTH``
is refused once it parses; cookies with raw non-ASCII bytes or longer than
``MAX_COOKIE_SIZE`` are left out; ``int`` and ``float`` URL converters accept
ASCII digits only; a missing or repeated ``Host`` is refused when
``TRUSTED_HOSTS`` is set.
"""

from __future__ import annotations

import collections.abc as cabc
import io
import itertools
import json
import operator
import re
import typing as t

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_cookie
from werkzeug.routing import FloatConverter as _FloatConverter
from werkzeug.routing import IntegerConverter as _IntegerConverter
from werkzeug.wsgi import get_content_length
from werkzeug.wsgi import LimitedStream

from ._werkzeug_compat import limit_is_max
from ._werkzeug_compat import underlying_stream

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment


# -- the request body ------------------------------------------------------


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
        if limit_is_max(self) and error is None:
            return
        reason = f" ({error})" if error is not None else ""
        raise ClientDisconnected(
            "The request body ended before it was complete; the client may"
            f" have disconnected{reason}."
        )

    def on_exhausted(self) -> None:
        if limit_is_max(self) and self._has_more():
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()
        if limit_is_max(self) and self.is_exhausted and self._has_more():
            raise RequestEntityTooLarge()
        return data

    def _has_more(self) -> bool:
        """Whether the client sent more than the limit (reads one byte)."""
        try:
            return bool(underlying_stream(self).read(1))
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
    header: str, cls: type[MultiDict[str, str]], max_size: int | None
) -> MultiDict[str, str]:
    """Parse a ``Cookie`` header, dropping cookies a browser would not have sent.

    A cookie whose raw name or value holds non-ASCII bytes (undecodable or
    forged by a client), whose quoted escapes do not decode as UTF-8, or whose
    value is longer than ``max_size`` (``None``: no limit) is left out, as if
    absent. Quoted values
    with escapes that decode to Unicode (as Werkzeug writes them) are kept.
    """
    if not header.isascii():
        header = ";".join(part for part in header.split(";") if part.isascii())
    cookies = parse_cookie(header, cls=cls)
    escapes = "\\" in header
    if (max_size is None or len(header) <= max_size) and not escapes:
        return cookies
    return cls(
        [
            (k, v)
            for k, v in cookies.items(multi=True)
            if (max_size is None or len(v) <= max_size)
            and not (escapes and "\ufffd" in v)
        ]
    )


_BRACKET_TABLE = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_nesting_exceeds(data: bytes | str, limit: int) -> bool:
    """Tell whether JSON text nests arrays and objects deeper than ``limit``.

    Runs at C speed: text with at most ``limit`` brackets is not scanned at
    all; otherwise strings are cut out and the depth counted over the rest.
    Call it on text the parser accepted: invalid JSON may get either answer,
    and the parser rejects it far sooner (``[][][]...``).
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


#: ``name``, ``name:port`` or ``[IPv6]:port``; the port, if any, at most 5 digits.
_HOST_SYNTAX = re.compile(r"(?:\[[0-9A-Za-z:.%]*\]|[^\[\]:]*)(?::([0-9]{0,5}))?")


def check_host_syntax(host: str) -> None:
    """Raise a 400 for a ``Host`` that cannot form a URL: an unclosed ``[``, a
    port that is not a number from 0 to 65535, more than one ``:``.

    Werkzeug builds redirect URLs from the host; some releases fail (a 500)
    on such hosts when the response is sent.
    """
    if "[" not in host and "]" not in host:  # the usual case, without a regex
        port = host.partition(":")[2]
        if not port or (
            port.isdigit()
            and port.isascii()
            and (len(port) < 5 or (len(port) == 5 and port <= "65535"))
        ):
            return
        raise BadRequest(f"The Host header {host[:100]!r} is not a valid host.")
    match = _HOST_SYNTAX.fullmatch(host)
    bracket_port: str | None = match.group(1) if match is not None else None
    if match is None or (
        bracket_port is not None and len(bracket_port) == 5 and bracket_port > "65535"
    ):
        raise BadRequest(f"The Host header {host[:100]!r} is not a valid host.")


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
