"""Sessions: the session objects and the signed-cookie session interface."""

from __future__ import annotations

import typing as t
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from http.cookies import SimpleCookie

import pytest
from itsdangerous import TimestampSigner
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

import erlen
from erlen.sessions import NullSession
from erlen.sessions import SecureCookieSession
from erlen.sessions import SecureCookieSessionInterface
from erlen.sessions import SessionInterface
from erlen.sessions import SessionMixin
from erlen.testing_asgi import AsgiClient

NO_KEY_MSG = (
    "The session is unavailable because no secret key was set. Set the"
    " secret_key on the application to something unique and secret."
)


class FakeApp:
    """The parts of an app a session interface reads."""

    def __init__(self, secret_key: str | bytes | None = "dev", **config: t.Any) -> None:
        self.config: dict[str, t.Any] = {
            "SECRET_KEY": secret_key,
            "SECRET_KEY_FALLBACKS": [],
            "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
            "SESSION_COOKIE_NAME": "session",
            "SESSION_COOKIE_DOMAIN": None,
            "SESSION_COOKIE_PATH": None,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SECURE": False,
            "SESSION_COOKIE_SAMESITE": None,
            "SESSION_COOKIE_PARTITIONED": False,
            "SESSION_REFRESH_EACH_REQUEST": True,
            "APPLICATION_ROOT": "/",
        }
        self.config.update(config)

    @property
    def secret_key(self) -> t.Any:
        return self.config["SECRET_KEY"]

    @property
    def permanent_session_lifetime(self) -> timedelta:
        return self.config["PERMANENT_SESSION_LIFETIME"]  # type: ignore[no-any-return]


def make_request(cookie: str | None = None, name: str = "session") -> Request:
    headers = {}
    if cookie is not None:
        headers["Cookie"] = f"{name}={cookie}"
    return Request(EnvironBuilder(headers=headers).get_environ())


def set_cookies(response: Response) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name."""
    rv = {}
    for header in response.headers.getlist("Set-Cookie"):
        rv[header.split("=", 1)[0]] = header
    return rv


def cookie_value(response: Response, name: str = "session") -> str:
    jar: SimpleCookie = SimpleCookie()
    jar.load(set_cookies(response)[name])
    return jar[name].value


def round_trip(
    interface: SecureCookieSessionInterface,
    app: FakeApp,
    cookie: str | None = None,
    update: t.Callable[[SessionMixin], None] | None = None,
) -> tuple[SessionMixin, Response]:
    session = interface.open_session(app, make_request(cookie))  # type: ignore[arg-type]
    assert session is not None
    if update is not None:
        update(session)
    response = Response()
    interface.save_session(app, session, response)  # type: ignore[arg-type]
    return session, response


@pytest.fixture
def interface() -> SecureCookieSessionInterface:
    return SecureCookieSessionInterface()


# --- session objects -----------------------------------------------------


def test_secure_cookie_session_tracks_reads() -> None:
    for read in (
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: len(s),
        lambda s: bool(s),
        lambda s: list(s),
        lambda s: s.keys(),
        lambda s: s.values(),
        lambda s: s.items(),
        lambda s: s.permanent,
    ):
        session = SecureCookieSession({"a": 1})
        assert not session.accessed
        read(session)
        assert session.accessed
        assert not session.modified


def test_secure_cookie_session_tracks_writes() -> None:
    for write in (
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.update(b=2),
        lambda s: s.setdefault("b", 2),
        lambda s: s.clear(),
        lambda s: setattr(s, "permanent", True),
    ):
        session = SecureCookieSession({"a": 1})
        write(session)
        assert session.modified
        assert session.accessed


def test_setdefault_on_existing_key_reads_only() -> None:
    session = SecureCookieSession({"a": 1})
    assert session.setdefault("a", 5) == 1
    assert session.accessed
    assert not session.modified


def test_permanent_property() -> None:
    session = SecureCookieSession()
    assert session.permanent is False
    session.permanent = 1  # type: ignore[assignment]
    assert session["_permanent"] is True
    assert session.permanent is True
    session.permanent = False
    assert session.permanent is False


def test_mixin_defaults_are_conservative() -> None:
    class DictSession(dict[str, t.Any], SessionMixin):  # type: ignore[misc]
        pass

    session = DictSession()
    assert session.new is False
    assert session.modified is True
    assert session.accessed is True
    session.permanent = True
    assert session == {"_permanent": True}


def test_null_session_reads_but_refuses_writes() -> None:
    session = NullSession()
    assert session.get("x") is None
    assert "x" not in session
    assert not session
    assert session.permanent is False
    for write in (
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.update(b=2),
        lambda s: s.setdefault("b", 2),
        lambda s: s.clear(),
        lambda s: s.__ior__({"b": 2}),
        lambda s: setattr(s, "permanent", True),
    ):
        with pytest.raises(RuntimeError) as exc_info:
            write(session)
        assert str(exc_info.value) == NO_KEY_MSG


# --- SessionInterface helpers --------------------------------------------


def test_cookie_settings_from_config() -> None:
    app = FakeApp(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PARTITIONED=True,
    )
    si = SessionInterface()
    fake = t.cast(t.Any, app)
    assert si.get_cookie_name(fake) == "sid"
    assert si.get_cookie_domain(fake) == "example.test"
    assert si.get_cookie_path(fake) == "/app"
    assert si.get_cookie_httponly(fake) is False
    assert si.get_cookie_secure(fake) is True
    assert si.get_cookie_samesite(fake) == "Lax"
    assert si.get_cookie_partitioned(fake) is True


def test_cookie_defaults_fall_back() -> None:
    fake = t.cast(t.Any, FakeApp(SESSION_COOKIE_DOMAIN="", APPLICATION_ROOT="/root"))
    si = SessionInterface()
    assert si.get_cookie_domain(fake) is None
    assert si.get_cookie_path(fake) == "/root"


def test_expiration_and_should_set_cookie() -> None:
    fake = t.cast(t.Any, FakeApp(PERMANENT_SESSION_LIFETIME=timedelta(hours=1)))
    si = SessionInterface()
    session = SecureCookieSession({"a": 1})
    assert si.get_expiration_time(fake, session) is None
    assert not si.should_set_cookie(fake, session)
    session = SecureCookieSession({"_permanent": True})
    expires = si.get_expiration_time(fake, session)
    assert expires is not None
    delta = expires - datetime.now(timezone.utc)
    assert timedelta(minutes=59) < delta <= timedelta(hours=1)
    assert si.should_set_cookie(fake, session)
    fake.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert not si.should_set_cookie(fake, session)
    session["x"] = 1
    assert si.should_set_cookie(fake, session)


def test_null_session_helpers() -> None:
    si = SessionInterface()
    null = si.make_null_session(t.cast(t.Any, FakeApp()))
    assert isinstance(null, NullSession)
    assert si.is_null_session(null)
    assert not si.is_null_session(SecureCookieSession())


def test_base_interface_is_abstract() -> None:
    si = SessionInterface()
    fake = t.cast(t.Any, FakeApp())
    with pytest.raises(NotImplementedError):
        si.open_session(fake, t.cast(t.Any, make_request()))
    with pytest.raises(NotImplementedError):
        si.save_session(fake, SecureCookieSession(), t.cast(t.Any, Response()))


# --- SecureCookieSessionInterface ----------------------------------------


def test_no_secret_key_means_no_session(
    interface: SecureCookieSessionInterface,
) -> None:
    for key in (None, ""):
        app = t.cast(t.Any, FakeApp(secret_key=key))
        assert interface.get_signing_serializer(app) is None
        assert interface.open_session(app, t.cast(t.Any, make_request("x"))) is None


def test_signing_serializer_is_cached_per_key_set(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp(secret_key="one")
    fake = t.cast(t.Any, app)
    first = interface.get_signing_serializer(fake)
    assert isinstance(first, URLSafeTimedSerializer)
    assert interface.get_signing_serializer(fake) is first
    app.config["SECRET_KEY"] = "two"
    second = interface.get_signing_serializer(fake)
    assert second is not first
    app.config["SECRET_KEY_FALLBACKS"] = ["one"]
    third = interface.get_signing_serializer(fake)
    assert third is not second
    assert third is not None
    assert third.secret_keys == [b"one", b"two"]
    app.config["SECRET_KEY_FALLBACKS"].append("zero")
    assert interface.get_signing_serializer(fake) is not third


def test_reading_and_signing_share_one_signer_with_every_key(
    interface: SecureCookieSessionInterface,
) -> None:
    """Reading a cookie reuses the signer signing made (keys derived once),
    and that signer still verifies every key of its serializer."""
    app = FakeApp(secret_key="new")
    app.config["SECRET_KEY_FALLBACKS"] = ["old"]
    fake = t.cast(t.Any, app)
    serializer = interface.get_signing_serializer(fake)
    assert serializer is not None
    signer = serializer.make_signer()
    assert next(iter(serializer.iter_unsigners())) is signer
    assert serializer.make_signer("another salt") is not signer
    old = FakeApp(secret_key="old")
    old_serializer = interface.get_signing_serializer(t.cast(t.Any, old))
    assert old_serializer is not None
    assert serializer.loads(old_serializer.dumps({"a": 1})) == {"a": 1}
    assert serializer.loads(serializer.dumps({"b": 2})) == {"b": 2}


def test_signing_serializer_cache_is_bounded(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp()
    for i in range(40):
        app.config["SECRET_KEY"] = f"key-{i}"
        interface.get_signing_serializer(t.cast(t.Any, app))
    assert len(app._session_serializers) <= 16  # type: ignore[attr-defined]


def test_unhashable_keys_still_work(interface: SecureCookieSessionInterface) -> None:
    app = FakeApp(secret_key=bytearray(b"mutable"), SECRET_KEY_FALLBACKS=None)
    _, response = round_trip(interface, app, update=lambda s: s.update(a=1))
    session, _ = round_trip(interface, app, cookie_value(response))
    assert session == {"a": 1}


def test_new_session_without_cookie(interface: SecureCookieSessionInterface) -> None:
    session, response = round_trip(interface, FakeApp())
    assert isinstance(session, SecureCookieSession)
    assert session.new is True
    assert dict(session) == {}
    assert "Set-Cookie" not in response.headers
    assert "Vary" not in response.headers


def test_set_and_read_back(interface: SecureCookieSessionInterface) -> None:
    app = FakeApp()
    value = {"user": 42, "cart": (1, 2), "raw": b"\x00"}
    _, response = round_trip(interface, app, update=lambda s: s.update(value))
    header = set_cookies(response)["session"]
    assert "HttpOnly" in header
    assert "Path=/" in header
    assert "Expires" not in header
    assert response.headers["Vary"] == "Cookie"
    session, response = round_trip(interface, app, cookie_value(response))
    assert session.new is False
    assert session == value
    assert not session.modified
    assert "Set-Cookie" not in response.headers


def test_cookie_attributes(interface: SecureCookieSessionInterface) -> None:
    app = FakeApp(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.test",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_HTTPONLY=False,
    )
    session = interface.open_session(t.cast(t.Any, app), make_request())
    assert session is not None
    session["a"] = 1
    response = Response()
    interface.save_session(t.cast(t.Any, app), session, t.cast(t.Any, response))
    header = set_cookies(response)["sid"]
    for part in (
        "Domain=example.test",
        "Path=/app",
        "Secure",
        "SameSite=Strict",
        "Partitioned",
    ):
        assert part in header
    assert "HttpOnly" not in header


def test_permanent_session_expires_and_refreshes(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp()

    def make_permanent(s: SessionMixin) -> None:
        s["a"] = 1
        s.permanent = True

    _, response = round_trip(interface, app, update=make_permanent)
    assert "Expires=" in set_cookies(response)["session"]
    cookie = cookie_value(response)
    session, response = round_trip(interface, app, cookie)
    assert session.permanent
    assert not session.modified
    assert "Expires=" in set_cookies(response)["session"]
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    _, response = round_trip(interface, app, cookie)
    assert "Set-Cookie" not in response.headers


def test_emptied_session_deletes_cookie(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp(SESSION_COOKIE_DOMAIN="example.test", SESSION_COOKIE_PATH="/p")
    _, response = round_trip(interface, app, update=lambda s: s.update(a=1))
    cookie = cookie_value(response)
    _, response = round_trip(interface, app, cookie, lambda s: s.clear())
    header = set_cookies(response)["session"]
    assert header.startswith("session=;")
    assert "Max-Age=0" in header
    assert "Domain=example.test" in header
    assert "Path=/p" in header
    assert response.headers["Vary"] == "Cookie"


def test_empty_unmodified_session_sets_nothing(
    interface: SecureCookieSessionInterface,
) -> None:
    _, response = round_trip(interface, FakeApp(), update=lambda s: s.get("a"))
    assert "Set-Cookie" not in response.headers
    assert response.headers["Vary"] == "Cookie"


def test_save_without_key_does_nothing(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp(secret_key=None)
    session = SecureCookieSession({"a": 1})
    session.modified = True
    response = Response()
    interface.save_session(t.cast(t.Any, app), session, t.cast(t.Any, response))
    assert "Set-Cookie" not in response.headers


def test_key_rotation(interface: SecureCookieSessionInterface) -> None:
    old_app = FakeApp(secret_key="old")
    _, response = round_trip(interface, old_app, update=lambda s: s.update(a=1))
    old_cookie = cookie_value(response)

    new_app = FakeApp(secret_key="new", SECRET_KEY_FALLBACKS=["older", "old"])
    session, _ = round_trip(interface, new_app, old_cookie)
    assert session == {"a": 1}
    _, response = round_trip(interface, new_app, old_cookie, lambda s: s.update(b=2))
    new_cookie = cookie_value(response)

    only_new = FakeApp(secret_key="new")
    session, _ = round_trip(interface, only_new, new_cookie)
    assert session == {"a": 1, "b": 2}
    session, _ = round_trip(interface, only_new, old_cookie)
    assert session == {}
    assert session.new


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "a.b.c",
        "e30.Zz4aaa.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "%E2%98%83",
        "\u2603",
        ".",
        "x" * 5000,
    ],
)
def test_bad_cookie_is_an_empty_session(
    interface: SecureCookieSessionInterface, cookie: str
) -> None:
    session, response = round_trip(interface, FakeApp(), cookie)
    assert session == {}
    assert session.new
    assert "Set-Cookie" not in response.headers


def test_tampered_cookie_is_an_empty_session(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp()
    _, response = round_trip(interface, app, update=lambda s: s.update(admin=False))
    payload, timestamp, signature = cookie_value(response).split(".")
    forged = f"{payload[:-2]}xx.{timestamp}.{signature}"
    session, _ = round_trip(interface, app, forged)
    assert session == {}


def test_expired_cookie_is_an_empty_session(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp(PERMANENT_SESSION_LIFETIME=timedelta(seconds=60))
    signer = interface.get_signing_serializer(t.cast(t.Any, app))
    assert signer is not None

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 3600

    old = URLSafeTimedSerializer(
        signer.secret_keys,
        salt=interface.salt,
        serializer=interface.serializer,
        signer=PastSigner,
        signer_kwargs=signer.signer_kwargs,
    )
    cookie = old.dumps({"a": 1})
    assert round_trip(interface, FakeApp(), cookie)[0] == {"a": 1}
    assert round_trip(interface, app, cookie)[0] == {}


def test_signed_garbage_is_an_empty_session(
    interface: SecureCookieSessionInterface,
) -> None:
    app = FakeApp()
    signer = interface.get_signing_serializer(t.cast(t.Any, app))
    assert signer is not None
    raw = URLSafeTimedSerializer(
        signer.secret_keys,
        salt=interface.salt,
        signer_kwargs=signer.signer_kwargs,
    )
    for payload in ([1, 2], "text", {" di": 5}):
        cookie = raw.dumps(payload)
        assert round_trip(interface, app, cookie)[0] == {}


def test_signatures_depend_on_salt() -> None:
    class OtherSalt(SecureCookieSessionInterface):
        salt = "other"

    app = FakeApp()
    _, response = round_trip(OtherSalt(), app, update=lambda s: s.update(a=1))
    session, _ = round_trip(SecureCookieSessionInterface(), app, cookie_value(response))
    assert session == {}


# --- through an app and its test client ----------------------------------


@pytest.fixture
def app(entry: str) -> t.Any:
    app = erlen.Erlen(__name__)
    app.config.update(SECRET_KEY="test key", TESTING=True)
    if entry == "asgi":
        app.test_client_class = AsgiClient

    @app.post("/set")
    def set_value() -> str:
        erlen.session.update(erlen.request.form)
        return "ok"

    @app.get("/get")
    def get_value() -> t.Any:
        return dict(erlen.session)

    @app.get("/get/<key>")
    def get_key(key: str) -> str:
        return str(erlen.session.get(key))

    @app.get("/untouched")
    def untouched() -> str:
        return "nothing"

    @app.get("/permanent")
    def permanent() -> str:
        erlen.session.permanent = True
        erlen.session["p"] = 1
        return "ok"

    @app.get("/clear")
    def clear() -> str:
        erlen.session.clear()
        return "cleared"

    return app


def client_cookie(client: t.Any, name: str = "session") -> str | None:
    cookie = client.get_cookie(name)
    return None if cookie is None else t.cast(str, cookie.value)


def test_app_set_and_read_across_requests(app: t.Any) -> None:
    client = app.test_client()
    rv = client.post("/set", data={"user": "ada", "role": "admin"})
    assert "Vary" in rv.headers and "Cookie" in rv.headers["Vary"]
    assert "HttpOnly" in rv.headers["Set-Cookie"]
    assert client.get("/get").json == {"user": "ada", "role": "admin"}
    assert client.get("/get/user").text == "ada"
    client.post("/set", data={"role": "reader"})
    assert client.get("/get").json == {"user": "ada", "role": "reader"}


def test_app_untouched_session_sends_nothing(app: t.Any) -> None:
    client = app.test_client()
    rv = client.get("/untouched")
    assert "Set-Cookie" not in rv.headers
    assert "Vary" not in rv.headers
    client.post("/set", data={"a": "1"})
    rv = client.get("/untouched")
    assert "Set-Cookie" not in rv.headers
    assert "Vary" not in rv.headers


def test_app_read_adds_vary_without_cookie(app: t.Any) -> None:
    client = app.test_client()
    rv = client.get("/get/missing")
    assert rv.text == "None"
    assert rv.headers["Vary"] == "Cookie"
    assert "Set-Cookie" not in rv.headers


def test_app_membership_test_counts_as_access(app: t.Any) -> None:
    @app.get("/has")
    def has() -> str:
        return str("x" in erlen.session)

    rv = app.test_client().get("/has")
    assert rv.text == "False"
    assert rv.headers["Vary"] == "Cookie"


def test_app_permanent_session(app: t.Any) -> None:
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=2)
    client = app.test_client()
    rv = client.get("/permanent")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.expires is not None
    remaining = cookie.expires - datetime.now(timezone.utc)
    assert timedelta(hours=1, minutes=59) < remaining <= timedelta(hours=2)
    assert "Expires=" in rv.headers["Set-Cookie"]
    # A later request that does not use the session still refreshes the expiry.
    rv = client.get("/untouched")
    assert "Expires=" in rv.headers["Set-Cookie"]
    assert client.get("/get").json == {"_permanent": True, "p": 1}


def test_app_permanent_session_without_refresh(app: t.Any) -> None:
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    client = app.test_client()
    client.get("/permanent")
    rv = client.get("/untouched")
    assert "Set-Cookie" not in rv.headers


def test_app_clearing_session_deletes_cookie(app: t.Any) -> None:
    client = app.test_client()
    client.post("/set", data={"a": "1"})
    rv = client.get("/clear")
    assert rv.headers["Set-Cookie"].startswith("session=;")
    assert client_cookie(client) is None
    assert client.get("/get").json == {}


def test_app_key_rotation(app: t.Any) -> None:
    client = app.test_client()
    client.post("/set", data={"a": "1"})
    old_cookie = client_cookie(client)

    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["test key"])
    assert client.get("/get").json == {"a": "1"}
    client.post("/set", data={"b": "2"})
    assert client_cookie(client) != old_cookie

    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/get").json == {"a": "1", "b": "2"}
    client.set_cookie("session", old_cookie)
    assert client.get("/get").json == {}


@pytest.mark.parametrize(
    "cookie", ["garbage", "eyJhIjoxfQ.Zm9v.YmFy", "\u00e9t\u00e9", "a" * 3000]
)
def test_app_bad_cookie_is_empty_session(app: t.Any, cookie: str) -> None:
    client = app.test_client()
    client.set_cookie("session", cookie)
    rv = client.get("/get")
    assert rv.status_code == 200
    assert rv.json == {}
    rv = client.get("/untouched")
    assert rv.status_code == 200


def test_app_tampered_cookie_is_empty_session(app: t.Any) -> None:
    client = app.test_client()
    client.post("/set", data={"admin": "no"})
    cookie = client_cookie(client)
    assert cookie is not None
    payload, rest = cookie.split(".", 1)
    forged = URLSafeTimedSerializer("attacker").dumps({"admin": "yes"})
    client.set_cookie("session", f"{forged.split('.', 1)[0]}.{rest}")
    assert client.get("/get").json == {}
    client.set_cookie("session", forged)
    assert client.get("/get").json == {}


def test_app_without_secret_key(app: t.Any) -> None:
    app.config["SECRET_KEY"] = None
    client = app.test_client()
    rv = client.get("/get/x")
    assert rv.text == "None"
    assert "Set-Cookie" not in rv.headers
    with pytest.raises(RuntimeError) as exc_info:
        client.post("/set", data={"a": "1"})
    assert str(exc_info.value) == NO_KEY_MSG


def test_app_cookie_config(app: t.Any) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=False,
    )
    rv = app.test_client().post("/set", data={"a": "1"}, base_url="https://localhost")
    header = rv.headers["Set-Cookie"]
    assert header.startswith("sid=")
    assert "Secure" in header
    assert "SameSite=Lax" in header
    assert "HttpOnly" not in header


def test_app_session_transaction(app: t.Any) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["from_test"] = (1, 2)
    assert client.get("/get/from_test").text == "(1, 2)"


def test_app_custom_session_interface(app: t.Any) -> None:
    store: dict[str, dict[str, t.Any]] = {}
    opened: list[str] = []

    class ServerSideSession(erlen.sessions.SecureCookieSession):
        sid = ""

    class ServerSideInterface(SessionInterface):
        def open_session(self, app: t.Any, request: t.Any) -> ServerSideSession:
            opened.append(request.path)
            sid = request.cookies.get("sid", "")
            session = ServerSideSession(store.get(sid, {}))
            session.sid = sid or f"id{len(store)}"
            return session

        def save_session(self, app: t.Any, session: t.Any, response: t.Any) -> None:
            if session.modified:
                store[session.sid] = dict(session)
                response.set_cookie("sid", session.sid)

    app.session_interface = ServerSideInterface()
    client = app.test_client()
    client.get("/untouched")
    assert opened == []
    client.post("/set", data={"a": "1"})
    assert store == {"id0": {"a": "1"}}
    assert client.get("/get").json == {"a": "1"}
    assert opened == ["/set", "/get"]


def _plain_itsdangerous(key: str) -> URLSafeTimedSerializer:
    """A serializer configured as the session's, built from itsdangerous alone."""
    import hashlib

    from erlen.json.tag import TaggedJSONSerializer

    return URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def test_cookie_format_is_itsdangerous_both_ways() -> None:
    """Small sessions skip compression, large ones use it; both stay readable
    by itsdangerous, and cookies itsdangerous wrote are read."""
    app = erlen.Erlen(__name__)
    app.secret_key = "format key"

    @app.get("/set/<int:n>")
    def set_value(n: int) -> str:
        erlen.session["value"] = "x" * n
        return ""

    @app.get("/get")
    def get_value() -> str:
        return str(len(erlen.session.get("value", "")))

    plain = _plain_itsdangerous("format key")
    client = app.test_client()
    for size, compressed in ((10, False), (2000, True)):
        client.get(f"/set/{size}")
        cookie = client.get_cookie("session")
        assert cookie is not None
        assert cookie.value.startswith(".") is compressed
        assert plain.loads(cookie.value) == {"value": "x" * size}
    client.set_cookie("session", plain.dumps({"value": "y" * 500}))
    assert client.get("/get").text == "500"
