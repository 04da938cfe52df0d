"""Flask-Login's API, used from the client side through the test client."""

from __future__ import annotations

import asyncio
import typing as t
from datetime import timedelta

import pytest
from conftest import User

from erlen import Blueprint
from erlen import Erlen
from erlen import render_template_string
from erlen import session
from erlen.ext import ExtensionError
from erlen.views import MethodView
from erlen_login import AnonymousUserMixin
from erlen_login import confirm_login
from erlen_login import current_user
from erlen_login import decode_cookie
from erlen_login import encode_cookie
from erlen_login import ErlenLoginClient
from erlen_login import fresh_login_required
from erlen_login import login_fresh
from erlen_login import login_remembered
from erlen_login import login_required
from erlen_login import login_url
from erlen_login import LoginManager
from erlen_login import make_next_param
from erlen_login import session_protected
from erlen_login import set_login_view
from erlen_login import signals
from erlen_login import user_accessed
from erlen_login import user_loaded_from_cookie
from erlen_login import user_loaded_from_request
from erlen_login import user_logged_in
from erlen_login import user_logged_out
from erlen_login import user_login_confirmed
from erlen_login import user_needs_refresh
from erlen_login import user_unauthorized
from erlen_login import UserMixin


class Recorder:
    """Collects the senders and keyword arguments of one signal."""

    def __init__(self, signal: t.Any) -> None:
        self.heard: list[tuple[t.Any, dict[str, t.Any]]] = []
        signal.connect(self.receive, weak=False)
        self.signal = signal

    def receive(self, sender: t.Any, **kwargs: t.Any) -> None:
        self.heard.append((sender, kwargs))

    def close(self) -> None:
        self.signal.disconnect(self.receive)


@pytest.fixture
def record() -> t.Iterator[t.Callable[[t.Any], Recorder]]:
    recorders: list[Recorder] = []

    def make(signal: t.Any) -> Recorder:
        recorders.append(Recorder(signal))
        return recorders[-1]

    yield make
    for r in recorders:
        r.close()


def test_state_in_extensions_and_on_app(
    app: Erlen, login_manager: LoginManager
) -> None:
    assert app.extensions["login"].manager is login_manager
    assert app.login_manager is login_manager  # type: ignore[attr-defined]
    with pytest.raises(ExtensionError, match="already registered"):
        login_manager.init_app(app)


def test_unregistered_manager_gets_a_clear_error(app: Erlen) -> None:
    with pytest.raises(ExtensionError, match="not registered with this app"):
        LoginManager().get_state(app)


def test_anonymous_by_default(app: Erlen) -> None:
    client = app.test_client()
    assert client.get("/").text == "anonymous"
    with app.test_request_context():
        assert isinstance(current_user._get_current_object(), AnonymousUserMixin)


def test_login_persists_and_sets_session_keys(app: Erlen) -> None:
    client = app.test_client()
    assert client.get("/login/1").text == "True"
    assert client.get("/").text == "Alice"
    with client.session_transaction() as sess:
        assert sess["_user_id"] == "1"
        assert sess["_fresh"] is True
        assert len(sess["_id"]) == 128
        assert sess["_session_token"]


def test_inactive_user_is_refused(app: Erlen, users: dict[str, User]) -> None:
    client = app.test_client()
    assert client.get("/login/3").text == "False"
    assert client.get("/").text == "anonymous"


def test_force_logs_in_inactive_user(app: Erlen, users: dict[str, User]) -> None:
    from erlen_login import login_user

    with app.test_request_context():
        assert login_user(users["3"], force=True)
        assert current_user.name == "Carol"


def test_logout_clears_session(app: Erlen) -> None:
    client = app.test_client()
    client.get("/login/1")
    with client.session_transaction() as sess:
        sess["cart"] = [1, 2]
    assert client.get("/logout").text == "True"
    assert client.get("/").text == "anonymous"
    with client.session_transaction() as sess:
        assert dict(sess) == {}


def test_signals_login_logout(
    app: Erlen, users: dict[str, User], record: t.Any
) -> None:
    logged_in = record(user_logged_in)
    logged_out = record(user_logged_out)
    accessed = record(user_accessed)
    client = app.test_client()
    client.get("/login/2")
    client.get("/")
    client.get("/logout")
    assert logged_in.heard == [(app, {"user": users["2"]})]
    assert logged_out.heard == [(app, {"user": users["2"]})]
    assert len(accessed.heard) >= 1


def test_nine_signals_exist() -> None:
    names = [
        "user_logged_in",
        "user_logged_out",
        "user_loaded_from_cookie",
        "user_loaded_from_request",
        "user_login_confirmed",
        "user_unauthorized",
        "user_needs_refresh",
        "user_accessed",
        "session_protected",
    ]
    assert all(hasattr(signals, n) for n in names)


def test_login_required_answers_401_without_login_view(
    app: Erlen, record: t.Any
) -> None:
    unauthorized = record(user_unauthorized)

    @app.route("/private")
    @login_required
    def private() -> str:
        return "secret"

    client = app.test_client()
    assert client.get("/private").status_code == 401
    assert unauthorized.heard == [(app, {})]
    client.get("/login/1")
    assert client.get("/private").text == "secret"


def test_login_required_redirects_with_next_and_flash(
    app: Erlen, login_manager: LoginManager
) -> None:
    login_manager.login_view = "login_page"
    login_manager.login_message = "Log in first"

    @app.route("/login-page")
    def login_page() -> str:
        from erlen import get_flashed_messages

        return "|".join(get_flashed_messages())

    @app.route("/private")
    @login_required
    def private() -> str:
        return "secret"

    client = app.test_client()
    response = client.get("/private?a=1")
    assert response.status_code == 302
    assert response.location == "/login-page?next=%2Fprivate%3Fa%3D1"
    assert client.get("/login-page").text == "Log in first"


def test_localize_callback(app: Erlen, login_manager: LoginManager) -> None:
    login_manager.login_view = "/somewhere"
    login_manager.localize_callback = lambda message: f"[{message}]"

    @app.route("/private")
    @login_required
    def private() -> str:
        return "secret"

    @app.route("/messages")
    def messages() -> str:
        from erlen import get_flashed_messages

        return "|".join(get_flashed_messages())

    client = app.test_client()
    client.get("/private")
    assert client.get("/messages").text == "[Please log in to access this page.]"


def test_options_and_login_disabled_pass(app: Erlen) -> None:
    @app.route("/private", methods=["GET", "OPTIONS"])
    @login_required
    def private() -> str:
        return "secret"

    client = app.test_client()
    assert client.options("/private").status_code == 200
    app.config["LOGIN_DISABLED"] = True
    assert client.get("/private").text == "secret"


def test_method_view_options_exempt(app: Erlen) -> None:
    class Secret(MethodView):
        decorators = [login_required, fresh_login_required]

        def get(self) -> str:
            return "secret"

        def options(self) -> str:
            return "options"

    app.add_url_rule("/secret", view_func=Secret.as_view("secret"))
    client = app.test_client()
    assert client.get("/secret").status_code == 401
    assert client.open("/secret", method="OPTIONS").status_code == 200


def test_async_view(app: Erlen) -> None:
    @app.route("/async")
    @login_required
    async def private() -> str:
        await asyncio.sleep(0)
        return f"hello {current_user.name}"

    client = app.test_client()
    assert client.get("/async").status_code == 401
    client.get("/login/2")
    assert client.get("/async").text == "hello Bob"


def test_fresh_login_required_and_confirm(
    app: Erlen, login_manager: LoginManager, record: t.Any
) -> None:
    refresh = record(user_needs_refresh)
    confirmed = record(user_login_confirmed)
    login_manager.refresh_view = "reauth"

    @app.route("/reauth")
    def reauth() -> str:
        confirm_login()
        return "confirmed"

    @app.route("/settings")
    @fresh_login_required
    def settings() -> str:
        return "settings"

    client = app.test_client()
    assert client.get("/settings").status_code == 401
    client.get("/login/1?remember=1")
    assert client.get("/settings").text == "settings"
    with client.session_transaction() as sess:
        sess.clear()
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.location == "/reauth?next=%2Fsettings"
    assert len(refresh.heard) == 1
    assert client.get("/reauth").text == "confirmed"
    assert client.get("/settings").text == "settings"
    assert len(confirmed.heard) == 1


def test_needs_refresh_without_view_is_401(
    app: Erlen, login_manager: LoginManager
) -> None:
    @app.route("/refresh")
    def refresh() -> t.Any:
        return login_manager.needs_refresh()

    assert app.test_client().get("/refresh").status_code == 401


def test_handlers(app: Erlen, login_manager: LoginManager) -> None:
    login_manager.unauthorized_handler(lambda: ("custom 401", 401))
    login_manager.needs_refresh_handler(lambda: ("custom refresh", 401))

    @app.route("/a")
    def a() -> t.Any:
        return login_manager.unauthorized()

    @app.route("/b")
    def b() -> t.Any:
        return login_manager.needs_refresh()

    client = app.test_client()
    assert client.get("/a").text == "custom 401"
    assert client.get("/b").text == "custom refresh"


def test_remember_cookie_and_login_remembered(
    app: Erlen, users: dict[str, User], record: t.Any
) -> None:
    from_cookie = record(user_loaded_from_cookie)

    @app.route("/state")
    def state() -> str:
        return f"{login_fresh()} {login_remembered()}"

    client = app.test_client()
    client.get("/login/1?remember=1")
    assert client.get("/state").text == "True True"
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get("/").text == "Alice"
    assert from_cookie.heard == [(app, {"user": users["1"]})]
    assert client.get("/state").text == "False True"


def test_request_loader(
    app: Erlen, login_manager: LoginManager, users: t.Any, record: t.Any
) -> None:
    from_request = record(user_loaded_from_request)

    @login_manager.request_loader
    def load(request: t.Any) -> t.Any:
        return users.get(request.headers.get("X-Api-User", ""))

    client = app.test_client()
    assert client.get("/", headers={"X-Api-User": "2"}).text == "Bob"
    assert client.get("/").text == "anonymous"
    assert len(from_request.heard) == 1


def test_no_loader_is_a_clear_error() -> None:
    app = Erlen(__name__)
    app.secret_key = "x"
    LoginManager(app)
    with app.test_request_context():
        with pytest.raises(Exception, match="Missing user_loader or request_loader"):
            current_user.is_authenticated  # noqa: B018


def test_current_user_in_templates(app: Erlen) -> None:
    @app.route("/t")
    def page() -> str:
        return render_template_string("{{ current_user.is_authenticated }}")

    client = app.test_client()
    assert client.get("/t").text == "False"
    client.get("/login/1")
    assert client.get("/t").text == "True"


def test_context_processor_can_be_left_out(users: dict[str, User]) -> None:
    app = Erlen(__name__)
    app.secret_key = "x"
    LoginManager(app, add_context_processor=False)
    with app.test_request_context():
        assert render_template_string("{{ current_user is defined }}") == "False"


def test_session_protection_basic_marks_unfresh(app: Erlen, record: t.Any) -> None:
    protected = record(session_protected)

    @app.route("/fresh")
    def fresh() -> str:
        return str(login_fresh())

    client = app.test_client()
    client.get("/login/1")
    assert client.get("/", headers={"User-Agent": "other"}).text == "Alice"
    assert client.get("/fresh").text == "False"
    assert len(protected.heard) == 1


def test_session_protection_strong_logs_out(app: Erlen) -> None:
    app.config["SESSION_PROTECTION"] = "strong"
    client = app.test_client()
    client.get("/login/1?remember=1")
    response = client.get("/", headers={"User-Agent": "other"})
    assert response.text == "anonymous"
    assert "remember_token=;" in response.headers["Set-Cookie"] or any(
        h.startswith("remember_token=;") for h in response.headers.getlist("Set-Cookie")
    )
    assert client.get("/").text == "anonymous"


def test_session_protection_ignores_x_forwarded_for(app: Erlen) -> None:
    app.config["SESSION_PROTECTION"] = "strong"
    client = app.test_client()
    client.get("/login/1", headers={"X-Forwarded-For": "10.0.0.1"})
    assert client.get("/", headers={"X-Forwarded-For": "10.9.9.9"}).text == "Alice"


def test_blueprint_login_views(app: Erlen, login_manager: LoginManager) -> None:
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.route("/")
    @login_required
    def dashboard() -> str:
        return "admin"

    @admin.route("/login")
    def admin_login() -> str:
        return "admin login"

    @app.route("/site-login")
    def site_login() -> str:
        return "site login"

    @app.route("/private")
    @login_required
    def private() -> str:
        return "secret"

    app.register_blueprint(admin)
    with app.app_context():
        set_login_view("site_login")
        set_login_view("admin.admin_login", blueprint=admin)
    client = app.test_client()
    assert client.get("/admin/").location == "/admin/login?next=%2Fadmin%2F"
    assert client.get("/private").location == "/site-login?next=%2Fprivate"


def test_use_session_for_next(app: Erlen, login_manager: LoginManager) -> None:
    app.config["USE_SESSION_FOR_NEXT"] = True
    login_manager.login_view = "where"

    @app.route("/where")
    def where() -> str:
        return session.get("next", "")

    @app.route("/private")
    @login_required
    def private() -> str:
        return "secret"

    client = app.test_client()
    assert client.get("/private").location == "/where"
    assert client.get("/where").text == "/private"


def test_force_host_for_redirects(app: Erlen, login_manager: LoginManager) -> None:
    app.config["FORCE_HOST_FOR_REDIRECTS"] = "good.example"
    login_manager.login_view = "/login"

    @app.route("/private")
    @login_required
    def private() -> str:
        return "secret"

    response = app.test_client().get("/private", base_url="http://bad.example")
    assert response.location == "//good.example/login?next=%2Fprivate"


def test_login_url_and_make_next_param(app: Erlen) -> None:
    with app.test_request_context():
        assert make_next_param("/login", "http://localhost/profile") == "/profile"
        assert (
            make_next_param("http://auth.example/login", "http://localhost/p")
            == "http://localhost/p"
        )
        assert login_url("/login?b=1", "http://localhost/x", "n") == "/login?b=1&n=%2Fx"
    assert login_url("/plain") == "/plain"


def test_encode_decode_cookie_with_fallback_keys(app: Erlen) -> None:
    with app.test_request_context():
        value = encode_cookie("42", key="old key")
        assert decode_cookie(value) is None
        app.config["SECRET_KEY_FALLBACKS"] = ["old key"]
        assert decode_cookie(value) == "42"
        assert decode_cookie(encode_cookie("7")) == "7"
        assert decode_cookie("7|garbage") is None
        assert decode_cookie("no separator") is None


def test_test_client_with_user(app: Erlen, users: dict[str, User]) -> None:
    app.test_client_class = ErlenLoginClient
    # As in Flask-Login, the client sets no session identifier: with session
    # protection on, its sessions count as not fresh.
    app.config["SESSION_PROTECTION"] = None

    @app.route("/fresh")
    def fresh() -> str:
        return str(login_fresh())

    client = app.test_client(user=users["2"])
    assert client.get("/").text == "Bob"
    assert client.get("/fresh").text == "True"
    stale = app.test_client(user=users["2"], fresh_login=False)
    assert stale.get("/fresh").text == "False"


def test_user_mixin_and_anonymous() -> None:
    class U(UserMixin):
        def __init__(self, id: int) -> None:
            self.id = id

    assert U(1) == U(1)
    assert U(1) != U(2)
    assert U(1) != "1"
    assert U(1).get_id() == "1"
    assert U(1).is_authenticated and U(1).is_active and not U(1).is_anonymous
    with pytest.raises(NotImplementedError):
        UserMixin().get_id()
    anon = AnonymousUserMixin()
    assert anon.is_anonymous and not anon.is_authenticated and anon.get_id() is None


def test_remember_cookie_duration_must_be_timedelta(app: Erlen, users: t.Any) -> None:
    from erlen_login import login_user

    with app.test_request_context():
        with pytest.raises(TypeError, match="duration must be a datetime.timedelta"):
            login_user(users["1"], remember=True, duration=123)  # type: ignore[arg-type]
        assert login_user(users["1"], remember=True, duration=timedelta(hours=1))
