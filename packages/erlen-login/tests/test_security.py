"""What erlen-login does that Flask-Login leaves to each app, from the client's side."""

from __future__ import annotations

import logging
import os
import typing as t
from datetime import timedelta

import bcrypt
import pytest
from conftest import FAST_HASHER
from conftest import User
from werkzeug.security import generate_password_hash

from erlen import Erlen
from erlen import redirect
from erlen import request
from erlen import session
from erlen.ext import ExtensionError
from erlen_login import authenticate
from erlen_login import current_user
from erlen_login import get_next_url
from erlen_login import login_user
from erlen_login import LoginManager
from erlen_login import logout_everywhere
from erlen_login import PasswordHasher
from erlen_login.testing import redis_server
from erlen_login.testing import RedisUnavailable
from erlen_login.throttle import LoginThrottle


def _find(users: dict[str, User], name: str) -> User | None:
    return next((u for u in users.values() if u.name.lower() == name.lower()), None)


@pytest.fixture
def form_app(app: Erlen, users: dict[str, User]) -> Erlen:
    """``app`` with a login form that uses ``authenticate`` and ``get_next_url``."""

    @app.post("/signin")
    def signin() -> t.Any:
        name = request.form.get("name", "")
        user = _find(users, name)
        if not authenticate(user, request.form.get("password", ""), account=name):
            return "wrong name or password", 400
        login_user(user, remember=request.form.get("remember") == "1")
        return redirect(get_next_url("/home"))

    @app.route("/stash")
    def stash() -> str:
        session["before"] = "login"
        session.permanent = True
        return "ok"

    @app.route("/session")
    def show_session() -> dict[str, t.Any]:
        return dict(session)

    @app.post("/everywhere")
    def everywhere() -> str:
        logout_everywhere(keep_current=request.args.get("keep") == "1")
        return "done"

    return app


def _signin(client: t.Any, name: str, password: str, **extra: str) -> t.Any:
    return client.post("/signin", data={"name": name, "password": password, **extra})


def _cookie(client: t.Any, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return None if cookie is None else t.cast(str, cookie.value)


# -- passwords ---------------------------------------------------------------------


def test_default_hash_is_argon2id() -> None:
    assert PasswordHasher().hash("secret").startswith("$argon2id$")


@pytest.mark.parametrize(
    "stored",
    [
        bcrypt.hashpw(b"old-password", bcrypt.gensalt(4)).decode(),
        generate_password_hash("old-password"),
        generate_password_hash("old-password", method="pbkdf2:sha256:1000"),
    ],
    ids=["bcrypt", "werkzeug-scrypt", "werkzeug-pbkdf2"],
)
def test_legacy_hashes_verify_and_upgrade_on_login(
    form_app: Erlen, users: dict[str, User], stored: str
) -> None:
    users["1"].password_hash = stored
    client = form_app.test_client()
    assert _signin(client, "alice", "wrong").status_code == 400
    assert users["1"].password_hash == stored
    assert _signin(client, "alice", "old-password").status_code == 302
    assert users["1"].password_hash.startswith("$argon2id$")
    assert FAST_HASHER.verify("old-password", users["1"].password_hash)


def test_unknown_user_costs_a_real_verification(
    form_app: Erlen, login_manager: LoginManager
) -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def dummy_verify(self, password: str) -> None:
            calls.append(password)
            super().dummy_verify(password)

    login_manager.password_hasher = Counting(argon2__memory_cost=1024, argon2__rounds=1)
    response = _signin(form_app.test_client(), "nobody", "guess")
    assert response.status_code == 400
    assert calls == ["guess"]


def test_inactive_user_cannot_authenticate(form_app: Erlen) -> None:
    assert _signin(form_app.test_client(), "carol", "carol-password").status_code == 400


def test_garbage_stored_hash_fails_cleanly(
    form_app: Erlen, users: dict[str, User]
) -> None:
    users["1"].password_hash = "$argon2id$not-a-hash"
    assert _signin(form_app.test_client(), "alice", "alice-password").status_code == 400


# -- sessions --------------------------------------------------------------------------


def test_session_rotated_on_login(form_app: Erlen) -> None:
    client = form_app.test_client()
    client.get("/stash")
    assert _signin(client, "alice", "alice-password").status_code == 302
    data = client.get("/session").json
    assert "before" not in data
    assert data["_permanent"] is True
    assert data["_user_id"] == "1"


def test_keep_keys_survive_rotation(form_app: Erlen) -> None:
    form_app.config["LOGIN_SESSION_KEEP_KEYS"] = ("before",)
    client = form_app.test_client()
    client.get("/stash")
    _signin(client, "alice", "alice-password")
    assert client.get("/session").json["before"] == "login"


def test_logout_everywhere_ends_copied_session_and_remember_cookies(
    form_app: Erlen, users: dict[str, User]
) -> None:
    laptop = form_app.test_client()
    _signin(laptop, "alice", "alice-password", remember="1")
    phone = form_app.test_client()
    _signin(phone, "alice", "alice-password", remember="1")
    # A thief copies the phone's cookies.
    thief = form_app.test_client()
    for name in ("session", "remember_token"):
        thief.set_cookie(name, t.cast(str, _cookie(phone, name)))
    assert thief.get("/").text == "Alice"

    assert laptop.post("/everywhere?keep=1").text == "done"
    assert laptop.get("/").text == "Alice"
    assert phone.get("/").text == "anonymous"
    assert thief.get("/").text == "anonymous"
    thief.delete_cookie("session")
    assert thief.get("/").text == "anonymous"


def test_password_change_ends_other_sessions(
    form_app: Erlen, users: dict[str, User]
) -> None:
    other = form_app.test_client()
    _signin(other, "bob", "bob-password", remember="1")
    with form_app.test_request_context():
        users["2"].set_password("new-password")
    assert other.get("/").text == "anonymous"
    assert _signin(other, "bob", "bob-password").status_code == 400
    assert _signin(other, "bob", "new-password").status_code == 302


def test_logout_deletes_remember_cookie_with_same_attributes(form_app: Erlen) -> None:
    form_app.config.update(
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_DOMAIN="example.test",
    )
    client = form_app.test_client()
    response = client.post(
        "/signin",
        data={"name": "alice", "password": "alice-password", "remember": "1"},
        base_url="https://example.test",
    )
    (set_header,) = [
        h
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith("remember_token=")
    ]
    response = client.get("/logout", base_url="https://example.test")
    (delete_header,) = [
        h
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith("remember_token=")
    ]

    def attributes(header: str) -> set[str]:
        parts = {p.strip().split("=")[0] for p in header.split(";")[1:]}
        return parts - {"Expires", "Max-Age"}

    assert attributes(set_header) == attributes(delete_header)
    assert {"Secure", "HttpOnly", "SameSite", "Domain", "Path"} <= attributes(
        set_header
    )
    assert "SameSite=Lax" in set_header
    assert "Max-Age=0" in delete_header


def test_remember_cookie_is_random_and_rotates(form_app: Erlen) -> None:
    client = form_app.test_client()
    _signin(client, "alice", "alice-password", remember="1")
    first = _cookie(client, "remember_token")
    assert first and "Alice" not in first
    copy = form_app.test_client()
    copy.set_cookie("remember_token", first)

    client.delete_cookie("session")
    assert client.get("/").text == "Alice"
    second = _cookie(client, "remember_token")
    assert second != first
    # The used token is gone on the server: a copy of the old cookie is refused.
    assert copy.get("/").text == "anonymous"
    client.delete_cookie("session")
    assert client.get("/").text == "Alice"


def test_remember_token_age_is_checked_on_the_server(
    form_app: Erlen, users: dict[str, User]
) -> None:
    client = form_app.test_client()
    _signin(client, "alice", "alice-password", remember="1")
    users["1"].remember_tokens = {k: 1.0 for k in users["1"].remember_tokens}
    client.delete_cookie("session")
    assert client.get("/").text == "anonymous"


def test_expired_remember_cookie_is_refused(
    form_app: Erlen, users: dict[str, User]
) -> None:
    @form_app.route("/short")
    def short() -> str:
        login_user(users["1"], remember=True, duration=timedelta(seconds=-5))
        return "ok"

    client = form_app.test_client()
    client.get("/short")
    remember = _cookie(client, "remember_token")
    other = form_app.test_client()
    other.set_cookie("remember_token", t.cast(str, remember or "x"))
    assert other.get("/").text == "anonymous"


def test_logout_forgets_the_remember_token(form_app: Erlen) -> None:
    client = form_app.test_client()
    _signin(client, "alice", "alice-password", remember="1")
    copy = form_app.test_client()
    copy.set_cookie("remember_token", t.cast(str, _cookie(client, "remember_token")))
    client.get("/logout")
    assert _cookie(client, "remember_token") is None
    assert copy.get("/").text == "anonymous"


def test_secret_key_fallbacks_keep_remember_cookies(form_app: Erlen) -> None:
    client = form_app.test_client()
    _signin(client, "alice", "alice-password", remember="1")
    client.delete_cookie("session")
    form_app.config["SECRET_KEY"] = "a brand new key"
    form_app.config["SECRET_KEY_FALLBACKS"] = ["test secret key"]
    assert client.get("/").text == "Alice"
    client.delete_cookie("session")
    form_app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/").text == "Alice"  # re-signed with the new key


def test_rotated_away_key_refuses_cookies(form_app: Erlen) -> None:
    client = form_app.test_client()
    _signin(client, "alice", "alice-password", remember="1")
    client.delete_cookie("session")
    form_app.config["SECRET_KEY"] = "a brand new key"
    assert client.get("/").text == "anonymous"


@pytest.mark.parametrize(
    "value",
    ["garbage", "a.b.c", "1|" + "0" * 128, "x" * 5000, "W10.ZZZ.YYY", "\u00e9t\u00e9"],
)
def test_garbled_remember_cookies_are_ignored(form_app: Erlen, value: str) -> None:
    client = form_app.test_client()
    environ = {"HTTP_COOKIE": f"remember_token={value}"}
    response = client.get("/", environ_overrides=environ)
    assert response.status_code == 200
    assert response.text == "anonymous"


def test_raw_non_ascii_cookie_is_ignored(form_app: Erlen) -> None:
    raw = "remember_token=\xff\xfe".encode("latin-1").decode("latin-1")
    response = form_app.test_client().get("/", environ_overrides={"HTTP_COOKIE": raw})
    assert response.status_code == 200
    assert response.text == "anonymous"


# -- next ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "////evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "https:evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "http://127.0.0.1@evil.example",
    ],
)
def test_hostile_next_lands_on_default(form_app: Erlen, target: str) -> None:
    client = form_app.test_client()
    response = client.post(
        "/signin",
        query_string={"next": target},
        data={"name": "alice", "password": "alice-password"},
    )
    assert response.status_code == 302
    assert response.location == "/home"


def test_local_next_with_query_is_kept(form_app: Erlen) -> None:
    response = form_app.test_client().post(
        "/signin",
        query_string={"next": "/orders?page=2&sort=date"},
        data={"name": "alice", "password": "alice-password"},
    )
    assert response.location == "/orders?page=2&sort=date"


# -- throttling ---------------------------------------------------------------------------


def test_throttle_per_account(form_app: Erlen) -> None:
    form_app.config["LOGIN_THROTTLE_LIMIT"] = 3
    login_manager = form_app.login_manager  # type: ignore[attr-defined]
    login_manager.get_state(form_app).throttle.limit = 3
    for i in range(3):
        client = form_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i}"
        assert _signin(client, "alice", "wrong").status_code == 400
    client = form_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    response = _signin(client, "alice", "alice-password")
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 180
    # Another account from the same address is not affected.
    assert _signin(client, "bob", "bob-password").status_code == 302


def test_throttle_per_address_default_ten(form_app: Erlen) -> None:
    client = form_app.test_client()
    for i in range(10):
        assert _signin(client, f"user{i}", "guess").status_code == 400
    response = _signin(client, "alice", "alice-password")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    other = form_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    assert _signin(other, "alice", "alice-password").status_code == 302


def test_throttle_counts_an_ipv6_client_by_its_64_prefix(form_app: Erlen) -> None:
    """One IPv6 client holds a whole /64: changing the low bits is no fresh count."""
    for i in range(10):
        client = form_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{i + 1:x}"
        assert _signin(client, f"user{i}", "guess").status_code == 400
    same_net = form_app.test_client()
    same_net.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff:ffff:ffff:ffff"
    assert _signin(same_net, "alice", "alice-password").status_code == 429
    other_net = form_app.test_client()
    other_net.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    assert _signin(other_net, "alice", "alice-password").status_code == 302


def test_throttle_prefix_is_configurable_and_ipv4_mapped_is_ipv4() -> None:
    app = Erlen(__name__)
    app.config["LOGIN_THROTTLE_IPV6_PREFIX"] = 48
    throttle = LoginManager(app).get_state(app).throttle
    assert throttle.ipv6_prefix == 48
    assert throttle.keys(None, "2001:db8:1:ffff::9", ipv6_prefix=48) == [
        "addr:2001:db8:1::/48"
    ]
    assert LoginThrottle.keys(None, "::ffff:10.0.0.1") == ["addr:10.0.0.1"]
    # Addresses that stand for an IPv4 client count as it; ports and zones go.
    for address in ("10.0.0.1:5555", "64:ff9b::a00:1", "2002:a00:1::1"):
        assert LoginThrottle.keys(None, address) == ["addr:10.0.0.1"]
    assert LoginThrottle.keys(None, "[2001:db8:1:2::5]:443") == [
        "addr:2001:db8:1:2::/64"
    ]
    assert LoginThrottle.keys(None, "fe80::1%eth0", ipv6_prefix=128) == [
        "addr:fe80::1/128"
    ]
    # Not an address (a unix socket, a test value): counted as it is.
    assert LoginThrottle.keys(None, "unix:/run/app.sock") == ["addr:unix:/run/app.sock"]
    bad = Erlen(__name__)
    bad.config["LOGIN_THROTTLE_IPV6_PREFIX"] = 129
    with pytest.raises(ExtensionError, match="LOGIN_THROTTLE_IPV6_PREFIX"):
        LoginManager(bad)


def test_success_resets_the_account_counter(form_app: Erlen) -> None:
    state = form_app.login_manager.get_state(form_app)  # type: ignore[attr-defined]
    state.throttle.limit = 3
    for i in range(2):
        client = form_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.2.0.{i}"
        _signin(client, "alice", "wrong")
    client = form_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.2.1.1"
    assert _signin(client, "alice", "alice-password").status_code == 302
    for i in range(2):
        client = form_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.2.2.{i}"
        assert _signin(client, "alice", "wrong").status_code == 400


# -- Redis --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url() -> t.Iterator[str]:
    try:
        with redis_server() as server:
            yield server.url
    except RedisUnavailable as e:  # pragma: no cover - depends on the machine
        if os.environ.get("CI", "").lower() in {"true", "1", "yes"}:
            pytest.fail(f"{e} (CI=true: a missing server fails the test)")
        pytest.skip(str(e))


def _redis_app(url: str, users: dict[str, User], limit: int = 3) -> Erlen:
    app = Erlen(__name__)
    app.config.update(
        SECRET_KEY="k", LOGIN_THROTTLE_STORE=url, LOGIN_THROTTLE_LIMIT=limit
    )
    manager = LoginManager(app)
    manager.password_hasher = FAST_HASHER
    manager.user_loader(users.get)

    @app.post("/signin")
    def signin() -> t.Any:
        name = request.form["name"]
        user = _find(users, name)
        if not authenticate(user, request.form["password"], account=name):
            return "no", 400
        login_user(user)
        return "yes"

    return app


@pytest.mark.redis
def test_redis_throttle_is_shared_between_apps(
    redis_url: str, users: dict[str, User]
) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    first = _redis_app(redis_url, users).test_client()
    second = _redis_app(redis_url, users).test_client()
    second.environ_base["REMOTE_ADDR"] = "10.3.0.1"
    for client in (first, second, first):
        assert _signin(client, "alice", "wrong").status_code == 400
    response = _signin(second, "alice", "alice-password")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.redis
def test_redis_revoked_bearer_token(redis_url: str, users: dict[str, User]) -> None:
    from erlen_login import make_auth_token
    from erlen_login import revoke_auth_token

    app = _redis_app(redis_url, users)

    @app.route("/me")
    def me() -> str:
        return current_user.name if current_user.is_authenticated else "anonymous"

    with app.test_request_context():
        token = make_auth_token(users["1"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/me", headers=headers).text == "Alice"
    with app.test_request_context():
        assert revoke_auth_token(token)
    other = _redis_app(redis_url, users)
    other.route("/me")(me)
    assert other.test_client().get("/me", headers=headers).text == "anonymous"


def test_redis_down_fails_open_with_warning(
    users: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = _redis_app(f"redis://127.0.0.1:{port}/0", users).test_client()
    with caplog.at_level(logging.WARNING, logger="erlen_login"):
        assert _signin(client, "alice", "alice-password").status_code == 200
    assert "not throttled" in caplog.text


def test_revoking_a_token_while_redis_is_down_is_a_503(users: dict[str, User]) -> None:
    import socket

    from erlen_login import make_auth_token
    from erlen_login import revoke_auth_token

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = _redis_app(f"redis://127.0.0.1:{port}/0", users)

    @app.post("/revoke")
    def revoke() -> str:
        return str(revoke_auth_token(request.form["token"]))

    with app.test_request_context():
        token = make_auth_token(users["1"])
    response = app.test_client().post("/revoke", data={"token": token})
    # Not a 500, not a silent success: the token is still valid, say so.
    assert response.status_code == 503
    assert "try again" in response.text
    assert "Redis" not in response.text and str(port) not in response.text


def test_redis_down_fails_closed_when_configured(users: dict[str, User]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = Erlen(__name__)
    app.config.update(
        SECRET_KEY="k",
        LOGIN_THROTTLE_STORE=f"redis://127.0.0.1:{port}/0",
        LOGIN_THROTTLE_FAIL_CLOSED=True,
    )
    manager = LoginManager(app)
    manager.user_loader(users.get)

    @app.post("/signin")
    def signin() -> t.Any:
        authenticate(users["1"], "alice-password", account="alice")
        return "yes"

    response = app.test_client().post("/signin")
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_unknown_store_url_is_a_clear_error(users: dict[str, User]) -> None:
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="k", LOGIN_THROTTLE_STORE="memcached://x")
    with pytest.raises(ValueError, match="LOGIN_THROTTLE_STORE must be"):
        LoginManager(app)


def test_refresh_each_request_reissues_the_cookie(form_app: Erlen) -> None:
    form_app.config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"] = True
    client = form_app.test_client()
    _signin(client, "alice", "alice-password", remember="1")
    first = _cookie(client, "remember_token")
    assert client.get("/").text == "Alice"
    second = _cookie(client, "remember_token")
    assert second and second != first
    stale = form_app.test_client()
    stale.set_cookie("remember_token", t.cast(str, first))
    assert stale.get("/").text == "anonymous"


def test_refresh_each_request_never_sets_an_unasked_cookie(form_app: Erlen) -> None:
    form_app.config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"] = True
    client = form_app.test_client()
    _signin(client, "alice", "alice-password")
    client.get("/")
    assert _cookie(client, "remember_token") is None


def test_flask_login_style_session_marker(
    form_app: Erlen, users: dict[str, User]
) -> None:
    @form_app.route("/old-style")
    def old_style() -> str:
        login_user(users["2"])
        session["_remember"] = "set"
        session["_remember_seconds"] = 3600
        return "ok"

    client = form_app.test_client()
    client.get("/old-style")
    assert _cookie(client, "remember_token")
    client.delete_cookie("session")
    assert client.get("/").text == "Bob"


def test_unreachable_store_refuses_bearer_tokens(
    users: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    from erlen_login import make_auth_token

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = _redis_app(f"redis://127.0.0.1:{port}/0", users)

    @app.route("/me")
    def me() -> str:
        return current_user.name if current_user.is_authenticated else "anonymous"

    with app.test_request_context():
        token = make_auth_token(users["1"])
    with caplog.at_level(logging.WARNING, logger="erlen_login"):
        reply = app.test_client().get(
            "/me", headers={"Authorization": f"Bearer {token}"}
        )
    assert reply.text == "anonymous"
    assert "revocation" in caplog.text


def test_missing_redis_server_is_a_clear_error(tmp_path: t.Any) -> None:
    with pytest.raises(RedisUnavailable, match="redis-server was not found"):
        with redis_server(str(tmp_path / "no-such-redis-server")):
            pass


def test_module_level_password_helpers() -> None:
    from erlen_login import hash_password
    from erlen_login import verify_password

    stored = hash_password("pw")
    assert stored.startswith("$argon2id$")
    assert verify_password("pw", stored)
    assert not verify_password("other", stored)
    assert not verify_password("pw", None)
    assert not verify_password("", stored)


def test_server_side_session_is_regenerated_at_login_and_logout(
    form_app: Erlen,
) -> None:
    from erlen.sessions import SecureCookieSession
    from erlen.sessions import SecureCookieSessionInterface

    regenerated: list[str] = []

    class RegeneratingSession(SecureCookieSession):
        def regenerate(self) -> None:
            regenerated.append(request.path)

    class Interface(SecureCookieSessionInterface):
        session_class = RegeneratingSession

    form_app.session_interface = Interface()
    client = form_app.test_client()
    _signin(client, "alice", "alice-password")
    client.get("/logout")
    assert regenerated == ["/signin", "/logout"]


def _committed_app(refresh: bool) -> tuple[Erlen, dict[str, dict[str, float]]]:
    """An app whose users live in a "database": every request loads a fresh copy,
    and changes are saved only by an ``after_request`` commit registered after
    ``init_app``, as docs/login.md tells ORM users to do."""
    rows: dict[str, dict[str, float]] = {"1": {}}
    app = Erlen(__name__)
    app.config.update(
        SECRET_KEY="k", REMEMBER_COOKIE_REFRESH_EACH_REQUEST=refresh, TESTING=True
    )
    manager = LoginManager(app)

    def load(user_id: str) -> User | None:
        if user_id not in rows:
            return None
        user = User(int(user_id), "Alice")
        user.remember_tokens = dict(rows[user_id])
        return user

    manager.user_loader(load)

    @app.after_request
    def commit(response: t.Any) -> t.Any:
        user = current_user._get_current_object()
        if user.is_authenticated:
            rows[user.get_id()] = dict(user.remember_tokens)
        return response

    @app.route("/")
    def index() -> str:
        return current_user.name if current_user.is_authenticated else "anonymous"

    @app.route("/login")
    def login() -> str:
        user = load("1")
        assert user is not None
        login_user(user, remember=True)
        return "in"

    return app, rows


@pytest.mark.parametrize("refresh", [False, True])
def test_rotated_remember_cookie_is_written_before_the_apps_commit(
    refresh: bool,
) -> None:
    """Every remember-token write happens while the view runs, so an app's
    commit in an ``after_request`` hook (registered after ``init_app``) saves
    it: the rotated cookie then works, and the used one does not."""
    app, _ = _committed_app(refresh)
    client = app.test_client()
    client.get("/login")
    first = t.cast(str, _cookie(client, "remember_token"))
    if not refresh:  # a new browser session: the cookie logs the user in
        client.delete_cookie("session")
    assert client.get("/").text == "Alice"
    second = t.cast(str, _cookie(client, "remember_token"))
    assert second != first

    later = app.test_client()
    later.set_cookie("remember_token", second)
    assert later.get("/").text == "Alice"
    thief = app.test_client()
    thief.set_cookie("remember_token", first)
    assert thief.get("/").text == "anonymous"


def test_concurrent_guesses_cannot_exceed_the_limit(users: dict[str, User]) -> None:
    """Attempts are counted before the password is checked: parallel guesses
    that all started before any failure was recorded still get only ``limit``
    checks; the others get 429."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    parties = 4
    barrier = threading.Barrier(parties, timeout=2)
    checked: list[int] = []

    class SlowUser(User):
        def check_password(self, password: str) -> bool:
            checked.append(1)
            try:  # every guess in flight at once, as with a threaded server
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
            return False

    app = Erlen(__name__)
    app.config.update(SECRET_KEY="k", LOGIN_THROTTLE_LIMIT=2)
    LoginManager(app).user_loader(users.get)
    victim = SlowUser(1, "Alice")

    @app.post("/signin")
    def signin() -> t.Any:
        return "ok" if authenticate(victim, "guess", account="alice") else "no"

    def guess(_: int) -> int:
        return app.test_client().post("/signin").status_code

    with ThreadPoolExecutor(parties) as pool:
        codes = list(pool.map(guess, range(parties)))
    assert len(checked) == 2
    assert sorted(codes) == [200, 200, 429, 429]


def test_successful_logins_do_not_use_up_the_address_limit(form_app: Erlen) -> None:
    form_app.config["LOGIN_THROTTLE_LIMIT"] = 2
    form_app.extensions["login"].throttle.limit = 2
    client = form_app.test_client()
    for _ in range(4):
        assert _signin(client, "alice", "alice-password").status_code == 302
    assert _signin(client, "alice", "wrong").status_code == 400
    assert _signin(client, "bob", "bob-password").status_code == 302


def test_account_counter_follows_the_user_not_the_spelling(
    form_app: Erlen, users: dict[str, User]
) -> None:
    """A database collation may find one user under many spellings (case,
    full-width letters, ignorable characters): failures count against that
    user whatever was typed."""
    import unicodedata

    def fold(value: str) -> str:
        kept = "".join(c for c in value if unicodedata.category(c) != "Cf")
        return unicodedata.normalize("NFKC", kept).casefold().strip()

    @form_app.post("/collated")
    def collated() -> t.Any:
        name = request.form["name"]
        user = next((u for u in users.values() if fold(u.name) == fold(name)), None)
        ok = authenticate(user, request.form["password"], account=name)
        return ("in", 200) if ok else ("no", 400)

    form_app.login_manager.get_state(form_app).throttle.limit = 3  # type: ignore[attr-defined]
    spellings = ["alice", "ＡＬＩＣＥ", "al\u200bice", "Alice"]
    for i, name in enumerate(spellings[:3]):
        client = form_app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.3.0.{i}"
        response = client.post("/collated", data={"name": name, "password": "x"})
        assert response.status_code == 400
    client = form_app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.3.1.1"
    response = client.post(
        "/collated", data={"name": spellings[3], "password": "alice-password"}
    )
    assert response.status_code == 429


def test_logout_everywhere_keep_current_keeps_this_browsers_remember_cookie(
    form_app: Erlen,
) -> None:
    """The browser that ends the other sessions stays logged in, also after
    its session ends: its remember-me cookie is replaced, not left dead."""
    laptop = form_app.test_client()
    _signin(laptop, "alice", "alice-password", remember="1")
    old = t.cast(str, _cookie(laptop, "remember_token"))
    assert laptop.post("/everywhere?keep=1").text == "done"
    new = _cookie(laptop, "remember_token")
    assert new and new != old
    laptop.delete_cookie("session")
    assert laptop.get("/").text == "Alice"
    thief = form_app.test_client()
    thief.set_cookie("remember_token", old)
    assert thief.get("/").text == "anonymous"
