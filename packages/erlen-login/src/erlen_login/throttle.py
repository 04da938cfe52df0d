"""Throttling of failed logins per account and per client address.

Counters live in a :class:`ThrottleStore`: :class:`MemoryThrottleStore` (one
process, the default) or :class:`RedisThrottleStore` (shared by every worker
and host; needs ``redis``, the ``erlen-login[redis]`` extra). The same store
keeps the ids of revoked bearer tokens.

When Redis cannot be reached the throttle *fails open* by default: logins go
on without throttling and a warning is logged. Passwords are still checked
and hashed slowly, and an outage of the shared cache should not lock every
user out. ``LOGIN_THROTTLE_FAIL_CLOSED = True`` refuses logins instead (429).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import threading
import time
import typing as t
import unicodedata

from werkzeug.exceptions import ServiceUnavailable
from werkzeug.exceptions import TooManyRequests

__all__ = [
    "LoginThrottle",
    "LoginThrottled",
    "MemoryThrottleStore",
    "RedisThrottleStore",
    "ThrottleStore",
    "ThrottleStoreError",
    "store_from_url",
]

logger = logging.getLogger("erlen_login")


class ThrottleStoreError(ServiceUnavailable, RuntimeError):
    """The store could not be reached (Redis down, timeout).

    Unhandled in a view (``revoke_auth_token`` during an outage) it is a 503
    whose page names no server; ``str()`` keeps the cause for the logs.
    """

    description = "Signing in is unavailable for a moment. Please try again shortly."

    def __init__(self, cause: str) -> None:
        super().__init__()
        self.cause = cause

    def __str__(self) -> str:
        return self.cause


class LoginThrottled(TooManyRequests):
    """Too many failed logins: a 429 response with ``Retry-After``."""

    description = (
        "Too many failed login attempts. Wait before trying again; the"
        " Retry-After header says how many seconds."
    )

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=max(1, retry_after))


class ThrottleStore(t.Protocol):
    """Where counters and revoked token ids live; keys expire on their own."""

    def hit(self, key: str, window: float) -> tuple[int, float]:
        """Add one to ``key``'s counter; return the count and seconds left in its window."""
        ...

    def peek(self, key: str) -> tuple[int, float]:
        """Return ``key``'s count and the seconds left in its window (0, 0 when unset)."""
        ...

    def reset(self, key: str) -> None:
        """Forget ``key``'s counter."""
        ...

    def release(self, key: str) -> None:
        """Take one back from ``key``'s counter (an attempt that did not fail)."""
        ...

    def mark(self, key: str, ttl: float) -> None:
        """Remember that ``key`` exists for ``ttl`` seconds (revoked tokens)."""
        ...

    def is_marked(self, key: str) -> bool:
        """Whether ``key`` was marked and has not expired."""
        ...


class MemoryThrottleStore:
    """Counters in this process's memory: right for one process only."""

    #: Expired entries are dropped when the store holds more than this many.
    max_entries = 100_000

    def __init__(self) -> None:
        self._data: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        if len(self._data) > self.max_entries:
            self._data = {k: v for k, v in self._data.items() if v[1] > now}

    def hit(self, key: str, window: float) -> tuple[int, float]:
        """See :meth:`ThrottleStore.hit`."""
        now = time.monotonic()
        with self._lock:
            count, until = self._data.get(key, (0, 0.0))
            if until <= now:
                count, until = 0, now + window
            self._data[key] = (count + 1, until)
            self._prune(now)
            return count + 1, until - now

    def peek(self, key: str) -> tuple[int, float]:
        """See :meth:`ThrottleStore.peek`."""
        now = time.monotonic()
        with self._lock:
            count, until = self._data.get(key, (0, 0.0))
        if until <= now:
            return 0, 0.0
        return count, until - now

    def reset(self, key: str) -> None:
        """See :meth:`ThrottleStore.reset`."""
        with self._lock:
            self._data.pop(key, None)

    def release(self, key: str) -> None:
        """See :meth:`ThrottleStore.release`."""
        now = time.monotonic()
        with self._lock:
            count, until = self._data.get(key, (0, 0.0))
            if count > 0 and until > now:
                self._data[key] = (count - 1, until)

    def mark(self, key: str, ttl: float) -> None:
        """See :meth:`ThrottleStore.mark`."""
        now = time.monotonic()
        with self._lock:
            self._data[key] = (1, now + ttl)
            self._prune(now)

    def is_marked(self, key: str) -> bool:
        """See :meth:`ThrottleStore.is_marked`."""
        return self.peek(key)[0] > 0


_HIT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""

_RELEASE_SCRIPT = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisThrottleStore:
    """Counters in Redis, shared by every worker process and host.

    :param client_or_url: a ``redis.Redis`` client or a ``redis://`` URL.
    :param prefix: prepended to every key.
    :param timeout: socket timeout in seconds for a client made from a URL.
    """

    def __init__(
        self,
        client_or_url: t.Any,
        *,
        prefix: str = "erlen-login:",
        timeout: float = 0.5,
    ) -> None:
        try:
            import redis
        except ImportError:  # pragma: no cover - depends on the environment
            raise RuntimeError(
                "The Redis throttle store needs redis-py: pip install 'erlen-login[redis]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        if isinstance(client_or_url, str):
            client_or_url = redis.Redis.from_url(
                client_or_url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        self.client = client_or_url
        self.prefix = prefix
        self._hit = self.client.register_script(_HIT_SCRIPT)
        self._release = self.client.register_script(_RELEASE_SCRIPT)

    def _call(self, func: t.Callable[[], t.Any]) -> t.Any:
        try:
            return func()
        except self._errors as e:
            raise ThrottleStoreError(f"Redis is unavailable: {e}") from e

    def hit(self, key: str, window: float) -> tuple[int, float]:
        """See :meth:`ThrottleStore.hit`."""
        ms = max(1, int(window * 1000))
        count, ttl = self._call(lambda: self._hit(keys=[self.prefix + key], args=[ms]))
        return int(count), int(ttl) / 1000

    def peek(self, key: str) -> tuple[int, float]:
        """See :meth:`ThrottleStore.peek`."""
        full = self.prefix + key

        def run() -> t.Any:
            pipe = self.client.pipeline()
            pipe.get(full)
            pipe.pttl(full)
            return pipe.execute()

        value, ttl = self._call(run)
        if value is None or int(ttl) <= 0:
            return 0, 0.0
        return int(value), int(ttl) / 1000

    def reset(self, key: str) -> None:
        """See :meth:`ThrottleStore.reset`."""
        self._call(lambda: self.client.delete(self.prefix + key))

    def release(self, key: str) -> None:
        """See :meth:`ThrottleStore.release`."""
        self._call(lambda: self._release(keys=[self.prefix + key]))

    def mark(self, key: str, ttl: float) -> None:
        """See :meth:`ThrottleStore.mark`."""
        ms = max(1, int(ttl * 1000))
        self._call(lambda: self.client.set(self.prefix + key, 1, px=ms))

    def is_marked(self, key: str) -> bool:
        """See :meth:`ThrottleStore.is_marked`."""
        return bool(self._call(lambda: self.client.exists(self.prefix + key)))


def store_from_url(url: str | None) -> ThrottleStore:
    """Make a store from ``LOGIN_THROTTLE_STORE``: ``None``/``memory://`` or ``redis://...``."""
    if not url or url == "memory://":
        return MemoryThrottleStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisThrottleStore(url)
    raise ValueError(
        f"LOGIN_THROTTLE_STORE must be 'memory://' or a redis:// URL, not {url!r}."
    )


def _fold(value: str) -> str:
    """An account name as a lenient database collation would compare it."""
    kept = "".join(c for c in value if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFKC", kept).casefold().strip()


#: The well-known NAT64 prefix: its addresses stand for IPv4 clients.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_key(address: str, ipv6_prefix: int = 64) -> str:
    """The counter key part for a client address: an IPv6 address by its network.

    One IPv6 client usually holds a whole /64 (SLAAC, privacy addresses), so
    counting each address alone would give it billions of fresh counters. An
    IPv6 address that stands for an IPv4 client (IPv4-mapped, NAT64's
    ``64:ff9b::/96``, 6to4) counts as that IPv4 address; a port some proxies
    add (``1.2.3.4:5555``, ``[2001:db8::1]:443``) and a zone id are dropped;
    what is not an IP address (a unix socket, a test value) counts as it is.
    """
    host = address
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    v6 = ipaddress.IPv6Address(int(ip))  # without a zone id
    if v6 in _NAT64:
        return str(ipaddress.IPv4Address(int(v6) & 0xFFFFFFFF))
    embedded = v6.ipv4_mapped or v6.sixtofour
    if embedded is not None:
        return str(embedded)
    return str(ipaddress.IPv6Network((v6, ipv6_prefix), strict=False))


def _digest(value: str) -> str:
    return hashlib.sha256(_fold(value).encode("utf-8", "replace")).hexdigest()[:32]


class LoginThrottle:
    """Count failed logins per account and per address; refuse past ``limit``.

    :param store: where the counters live.
    :param limit: failures allowed per key within ``window`` seconds.
    :param fail_closed: refuse logins (429) when the store is unreachable,
        instead of logging a warning and letting them through.
    :param ipv6_prefix: IPv6 clients are counted per network of this prefix
        length (``LOGIN_THROTTLE_IPV6_PREFIX``, 64).
    """

    def __init__(
        self,
        store: ThrottleStore,
        *,
        limit: int = 10,
        window: float = 180,
        fail_closed: bool = False,
        ipv6_prefix: int = 64,
    ) -> None:
        if type(ipv6_prefix) is not int or not 0 < ipv6_prefix <= 128:
            raise ValueError(f"ipv6_prefix must be 1 to 128, not {ipv6_prefix!r}.")
        self.ipv6_prefix = ipv6_prefix
        self.store = store
        self.limit = limit
        self.window = window
        self.fail_closed = fail_closed

    @staticmethod
    def keys(
        account: str | None,
        address: str | None,
        user_id: str | None = None,
        *,
        ipv6_prefix: int = 64,
    ) -> list[str]:
        """The counter keys for an account name, a client address and the user found.

        ``user_id`` (the id of the user the name matched) counts failures
        against that user however the name was spelled: case, full-width
        letters and invisible characters a database collation ignores. An
        IPv6 address counts for its whole network (:func:`address_key`).
        """
        keys = []
        if account:
            keys.append(f"acct:{_digest(account)}")
        if user_id is not None:
            uid = hashlib.sha256(user_id.encode("utf-8", "replace")).hexdigest()[:32]
            keys.append(f"acct:id:{uid}")
        if address:
            keys.append(f"addr:{address_key(address, ipv6_prefix)}")
        return keys

    def _unavailable(self, error: ThrottleStoreError) -> None:
        if self.fail_closed:
            logger.warning(
                "Login throttle store unavailable, refusing logins: %s", error
            )
            raise LoginThrottled(int(self.window)) from error
        logger.warning(
            "Login throttle store unavailable, logins are not throttled: %s", error
        )

    def check(self, keys: t.Sequence[str]) -> None:
        """Raise :class:`LoginThrottled` when any key reached the limit."""
        try:
            for key in keys:
                count, left = self.store.peek(key)
                if count >= self.limit:
                    raise LoginThrottled(int(left + 0.999))
        except ThrottleStoreError as e:
            self._unavailable(e)

    def attempt(self, keys: t.Sequence[str]) -> None:
        """Count one attempt for every key *before* the password is checked.

        Raise :class:`LoginThrottled` when a key is past the limit (that
        attempt is taken back). Counting first, in one atomic step per key,
        means parallel guesses cannot all pass a check made before any of
        them failed. Call :meth:`success` or leave the attempt counted as a
        failure afterwards.
        """
        counted: list[str] = []
        try:
            for key in keys:
                count, left = self.store.hit(key, self.window)
                counted.append(key)
                if count > self.limit:
                    self._release(counted)
                    raise LoginThrottled(int(left + 0.999))
        except ThrottleStoreError as e:
            self._unavailable(e)

    def _release(self, keys: t.Sequence[str]) -> None:
        try:
            for key in keys:
                self.store.release(key)
        except ThrottleStoreError as e:
            logger.warning("Login throttle store unavailable: %s", e)

    def failure(self, keys: t.Sequence[str]) -> None:
        """Record one failed login for every key."""
        try:
            for key in keys:
                self.store.hit(key, self.window)
        except ThrottleStoreError as e:
            self._unavailable(e)

    def success(self, keys: t.Sequence[str], *, attempted: bool = False) -> None:
        """Reset the account counters after a successful login (addresses keep theirs).

        With ``attempted`` (after :meth:`attempt`), the address counters get
        this attempt back: only failures count against an address.
        """
        try:
            for key in keys:
                if key.startswith("acct:"):
                    self.store.reset(key)
                elif attempted:
                    self.store.release(key)
        except ThrottleStoreError as e:
            self._unavailable(e)
