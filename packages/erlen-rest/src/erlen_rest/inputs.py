"""Input converters for request arguments: each takes a string and returns a value or raises ``ValueError``.

Every converter has a ``__schema__`` so that arguments document their type.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import typing as t

__all__ = [
    "URL",
    "boolean",
    "date",
    "date_from_iso8601",
    "datetime_from_iso8601",
    "datetime_from_rfc822",
    "email",
    "int_range",
    "ip",
    "ipv4",
    "ipv6",
    "iso8601interval",
    "natural",
    "netloc_regex",
    "positive",
    "regex",
    "url",
]

_LABEL = r"[a-z0-9\u00a1-\uffff](?:[a-z0-9\u00a1-\uffff-]*[a-z0-9\u00a1-\uffff])?"
_DOMAIN = rf"(?:{_LABEL}\.)+[a-z\u00a1-\uffff]{{2,}}"

#: The parts of a URL's network location, as named groups.
netloc_regex = re.compile(
    r"^(?:(?P<auth>[^\s:@/]+(?::[^\s:@/]*)?)@)?"
    r"(?:(?P<localhost>localhost)"
    r"|(?P<ipv4>\d{1,3}(?:\.\d{1,3}){3})"
    r"|\[?(?P<ipv6>[0-9a-f]*:[0-9a-f:]*)\]?"
    rf"|(?P<domain>{_DOMAIN}))"
    r"(?::(?P<port>\d+))?$",
    re.IGNORECASE,
)

_URL = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<netloc>[^/?#\s]+)(?P<rest>[/?#]\S*)?$",
    re.IGNORECASE,
)


def _schema(type_: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"type": type_, **extra}


class _Converter:
    __schema__: t.ClassVar[dict[str, t.Any]]


def _is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_ipv6(value: str) -> bool:
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ipv4(value: str) -> str:
    """Accept an IPv4 address."""
    if not _is_ipv4(value):
        raise ValueError(f"{value} is not a valid ipv4 address")
    return value


def ipv6(value: str) -> str:
    """Accept an IPv6 address."""
    if not _is_ipv6(value):
        raise ValueError(f"{value} is not a valid ipv6 address")
    return value


def ip(value: str) -> str:
    """Accept an IPv4 or IPv6 address."""
    if not (_is_ipv4(value) or _is_ipv6(value)):
        raise ValueError(f"{value} is not a valid ip")
    return value


ipv4.__schema__ = _schema("string", format="ipv4")  # type: ignore[attr-defined]
ipv6.__schema__ = _schema("string", format="ipv6")  # type: ignore[attr-defined]
ip.__schema__ = _schema("string", format="ip")  # type: ignore[attr-defined]


class URL:
    """Validate a URL, with switches for what is allowed.

    :param check: resolve the host name (a DNS lookup).
    :param ip: allow IP addresses. :param local: allow localhost and loopback addresses.
    :param port: allow an explicit port. :param auth: allow ``user:password@``.
    :param schemes: allowed schemes. :param domains: only these domains.
    :param exclude: never these domains.
    """

    __schema__: t.ClassVar[dict[str, t.Any]] = {"type": "string", "format": "url"}

    def __init__(
        self,
        check: bool = False,
        ip: bool = False,
        local: bool = False,
        port: bool = False,
        auth: bool = False,
        schemes: t.Iterable[str] | None = None,
        domains: t.Iterable[str] | None = None,
        exclude: t.Iterable[str] | None = None,
    ) -> None:
        self.check = check
        self.ip = ip
        self.local = local
        self.port = port
        self.auth = auth
        self.schemes = tuple(schemes) if schemes else ("http", "https", "ftp", "ftps")
        self.domains = tuple(domains) if domains else ()
        self.exclude = tuple(exclude) if exclude else ()

    def error(self, value: str, details: str | None = None) -> ValueError:
        """Build the ``ValueError`` for a bad URL."""
        msg = f"{value} is not a valid URL"
        return ValueError(f"{msg}. {details}" if details else msg)

    def _parts(self, value: str) -> tuple[str, dict[str, str | None]] | None:
        match = _URL.match(value)
        if not match:
            return None
        netloc = netloc_regex.match(match.group("netloc"))
        if not netloc:
            return None
        return match.group("scheme").lower(), netloc.groupdict()

    def __call__(self, value: str) -> str:
        parsed = self._parts(value)
        if parsed is None:
            if "://" not in value and self._parts(f"http://{value}") is not None:
                raise self.error(value, f"Did you mean: http://{value}")
            raise self.error(value)
        scheme, parts = parsed
        if parts["ipv4"] and not _is_ipv4(parts["ipv4"]):
            raise self.error(value)
        if parts["ipv6"] and not _is_ipv6(parts["ipv6"]):
            raise self.error(value)
        if parts["port"] is not None and not 0 < int(parts["port"]) < 65536:
            raise self.error(value)
        if scheme not in self.schemes:
            raise self.error(value, "Protocol is not allowed")
        host = (
            parts["localhost"]
            or parts["ipv4"]
            or parts["ipv6"]
            or parts["domain"]
            or ""
        )
        is_ip = bool(parts["ipv4"] or parts["ipv6"])
        if is_ip and not self.ip and not _is_local(host):
            raise self.error(value, "IP is not allowed")
        if _is_local(host) and not self.local:
            if is_ip and not self.ip:
                raise self.error(value, "IP is not allowed")
            raise self.error(value, "Localhost is not allowed")
        if parts["auth"] and not self.auth:
            raise self.error(value, "Authentication is not allowed")
        if parts["port"] and not self.port:
            raise self.error(value, "Custom port is not allowed")
        if parts["domain"]:
            domain = parts["domain"].lower()
            if self.domains and domain not in self.domains:
                raise self.error(value, "Domain is not allowed")
            if domain in self.exclude:
                raise self.error(value, "Domain is not allowed")
            if self.check:
                try:
                    socket.getaddrinfo(domain, None)
                except OSError:
                    raise self.error(value, "Domain does not exists") from None
        return value


#: Any URL: IPs, localhost, ports and credentials allowed.
url = URL(ip=True, auth=True, port=True, local=True)

_LOCAL_PART = re.compile(r"^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*$")
_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$", re.IGNORECASE)


class email:
    """Validate an e-mail address (switches as in :class:`URL`)."""

    __schema__: t.ClassVar[dict[str, t.Any]] = {"type": "string", "format": "email"}

    def __init__(
        self,
        check: bool = False,
        ip: bool = False,
        local: bool = False,
        domains: t.Iterable[str] | None = None,
        exclude: t.Iterable[str] | None = None,
    ) -> None:
        self.check = check
        self.ip = ip
        self.local = local
        self.domains = tuple(domains) if domains else ()
        self.exclude = tuple(exclude) if exclude else ()

    def error(self, value: str, msg: str | None = None) -> ValueError:
        """Build the ``ValueError`` for a bad address."""
        return ValueError((msg or "{0} is not a valid email").format(value))

    def __call__(self, value: str) -> str:
        if value.count("@") != 1:
            raise self.error(value)
        local_part, server = value.split("@")
        if not local_part or not server or not _LOCAL_PART.match(local_part):
            raise self.error(value)
        is_ip = _is_ipv4(server) or _is_ipv6(server)
        if not (is_ip or server == "localhost" or _DOMAIN_RE.match(server)):
            raise self.error(value)
        if self.domains and server not in self.domains:
            raise self.error(value, "{0} does not belong to the authorized domains")
        if server in self.exclude:
            raise self.error(value, "{0} belongs to a forbidden domain")
        if _is_local(server) and not self.local:
            raise self.error(value)
        if is_ip and not self.ip:
            raise self.error(value)
        if self.check and not is_ip and server != "localhost":
            try:
                socket.getaddrinfo(server, None)
            except OSError:
                raise self.error(value) from None
        return value


class regex:
    """Accept strings matching a regular expression (compiled at once: bad patterns fail early)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.re = re.compile(pattern, flags)

    def __call__(self, value: str) -> str:
        if not self.re.search(value):
            raise ValueError(f"Value does not match pattern: {self.pattern!r}")
        return value

    def __deepcopy__(self, memo: dict[int, t.Any]) -> regex:
        return regex(self.pattern)

    @property
    def __schema__(self) -> dict[str, t.Any]:
        return {"type": "string", "pattern": self.pattern}


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


_ISO_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:T(?P<hour>\d{2})(?::(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def _parse_iso(value: str) -> tuple[dt.datetime, dt.timedelta, bool]:
    """Parse an ISO 8601 date or date-time; return it, its resolution and whether it had a time."""
    match = _ISO_DATETIME.match(value)
    if not match:
        raise ValueError(value)
    day = dt.date.fromisoformat(match.group("date"))
    if match.group("hour") is None:
        return dt.datetime(day.year, day.month, day.day), dt.timedelta(days=1), False
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    second = int(match.group("second") or 0)
    fraction = match.group("fraction")
    micro = int((fraction + "000000")[:6]) if fraction else 0
    tzinfo: dt.tzinfo | None = None
    tz = match.group("tz")
    if tz:
        if tz == "Z":
            tzinfo = dt.timezone.utc
        else:
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
            tzinfo = dt.timezone(sign * offset)
    result = dt.datetime(
        day.year, day.month, day.day, hour, minute, second, micro, tzinfo=tzinfo
    )
    if match.group("second") is not None:
        resolution = dt.timedelta(seconds=1)
    elif match.group("minute") is not None:
        resolution = dt.timedelta(minutes=1)
    else:
        resolution = dt.timedelta(hours=1)
    return result, resolution, True


def _parse_duration(value: str) -> dt.timedelta:
    match = _DURATION.match(value)
    if not match or value in {"P", "PT"}:
        raise ValueError(value)
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return dt.timedelta(
        days=parts["years"] * 365
        + parts["months"] * 30
        + parts["weeks"] * 7
        + parts["days"],
        hours=parts["hours"],
        minutes=parts["minutes"],
        seconds=parts["seconds"],
    )


def iso8601interval(
    value: str, argument: str = "argument"
) -> tuple[dt.datetime, dt.datetime]:
    """Parse an ISO 8601 interval (``start/end``, ``start/duration`` or a single date-time) into UTC bounds."""
    try:
        start_text, _, end_text = value.partition("/")
        start, resolution, _ = _parse_iso(start_text)
        start = _utc(start)
        if not end_text:
            return start, start + resolution
        if end_text.startswith("P"):
            return start, start + _parse_duration(end_text)
        end, _, _ = _parse_iso(end_text)
        return start, _utc(end)
    except ValueError:
        raise ValueError(
            f"Invalid {argument}: {value}. {argument} must be a valid ISO8601 date/time interval."
        ) from None


iso8601interval.__schema__ = {"type": "string", "format": "iso8601-interval"}  # type: ignore[attr-defined]


def date(value: str) -> dt.datetime:
    """Parse a ``YYYY-MM-DD`` date into a date-time at midnight."""
    return dt.datetime.strptime(value, "%Y-%m-%d")


date.__schema__ = {"type": "string", "format": "date"}  # type: ignore[attr-defined]


def _positive_int(value: t.Any, argument: str, minimum: int, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Invalid {argument}: {value}. {argument} must be {what}"
        ) from None
    if number < minimum:
        raise ValueError(f"Invalid {argument}: {value}. {argument} must be {what}")
    return number


def natural(value: t.Any, argument: str = "argument") -> int:
    """Accept integers >= 0."""
    return _positive_int(value, argument, 0, "a non-negative integer")


def positive(value: t.Any, argument: str = "argument") -> int:
    """Accept integers >= 1."""
    return _positive_int(value, argument, 1, "a positive integer")


natural.__schema__ = {"type": "integer", "minimum": 0}  # type: ignore[attr-defined]
positive.__schema__ = {"type": "integer", "minimum": 0, "exclusiveMinimum": True}  # type: ignore[attr-defined]


class int_range:
    """Accept integers between ``low`` and ``high``, both included."""

    def __init__(self, low: int, high: int, argument: str = "argument") -> None:
        self.low = low
        self.high = high
        self.argument = argument

    def __call__(self, value: t.Any) -> int:
        number = _positive_int(value, self.argument, -(2**63), "an integer")
        if not self.low <= number <= self.high:
            raise ValueError(
                f"Invalid {self.argument}: {number}. {self.argument} must be within the range {self.low} - {self.high}"
            )
        return number

    @property
    def __schema__(self) -> dict[str, t.Any]:
        return {"type": "integer", "minimum": self.low, "maximum": self.high}


def boolean(value: t.Any) -> bool:
    """Parse ``true``/``1``/``on`` and ``false``/``0``/``off`` (any case); non-strings by truth."""
    if isinstance(value, bool):
        return value
    if value is None:
        raise ValueError("boolean type must be non-null")
    if not isinstance(value, str):
        return bool(value)
    lowered = value.strip().lower()
    if lowered in {"true", "1", "on", "yes"}:
        return True
    if lowered in {"false", "0", "off", "no", ""}:
        return False
    raise ValueError(f"Invalid literal for boolean(): {value}")


boolean.__schema__ = {"type": "boolean"}  # type: ignore[attr-defined]

_RFC822_FORMATS = (
    "%a, %d %b %Y %H:%M:%S %z",
    "%a, %d %b %Y %H:%M:%S",
    "%a, %d %b %Y %H:%M",
    "%a, %d %b %Y",
)


def datetime_from_rfc822(value: str) -> dt.datetime:
    """Parse an RFC 822 date-time into an aware UTC date-time."""
    for fmt in _RFC822_FORMATS:
        try:
            return _utc(dt.datetime.strptime(value.strip(), fmt))
        except ValueError:
            continue
    raise ValueError(f'Invalid date literal "{value}"')


def datetime_from_iso8601(value: str) -> dt.datetime:
    """Parse an ISO 8601 date-time; an offset is converted to UTC, a date alone stays naive."""
    try:
        parsed, _, has_time = _parse_iso(value)
    except ValueError:
        raise ValueError(f'Invalid date literal "{value}"') from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.timezone.utc)
    return parsed


def date_from_iso8601(value: str) -> dt.date:
    """Parse an ISO 8601 date or date-time into a date."""
    return datetime_from_iso8601(value).date()


datetime_from_iso8601.__schema__ = {"type": "string", "format": "date-time"}  # type: ignore[attr-defined]
date_from_iso8601.__schema__ = {"type": "string", "format": "date"}  # type: ignore[attr-defined]
datetime_from_rfc822.__schema__ = {"type": "string", "format": "date-time"}  # type: ignore[attr-defined]
