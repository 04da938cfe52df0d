"""Roles, bearer and mail tokens, login required by default, async loaders, deploy checks."""

from __future__ import annotations

import asyncio
import typing as t
from pathlib import Path

import pytest
from conftest import User

from erlen import Blueprint
from erlen import Erlen
from erlen import request
from erlen_login import current_user
from erlen_login import login_exempt
from erlen_login import login_user
from erlen_login import LoginManager
from erlen_login import logout_everywhere
from erlen_login import make_auth_token
from erlen_login import make_confirm_token
from erlen_login import make_reset_token
from erlen_login import permission_required
from erlen_login import revoke_auth_token
from erlen_login import RoleMixin
from erlen_login import roles_accepted
from erlen_login import roles_required
from erlen_login import verify_confirm_token
from erlen_login import verify_reset_token


class Role(RoleMixin):
    def __init__(self, name: str, permissions: t.Any = None) -> None:
        self.name = name
        self.permissions = permissions


# -- roles and permissions ------------------------------------------------------------


@pytest.fixture
def roles_app(app: Erlen, users: dict[str, User]) -> Erlen:
    users["1"].roles = [Role("admin", "users.edit, users.delete"), Role("editor")]
    users["2"].roles = ["editor"]  # plain strings work too

    @app.route("/admin")
    @roles_required("admin", "editor")
    def admin() -> str:
        return "admin area"

    @app.route("/write")
    @roles_accepted("editor", "author")
    def write() -> str:
        return "write"

    @app.route("/delete")
    @permission_required("users.delete")
    def delete() -> str:
        return "deleted"

    return app


def test_roles_required_needs_all(roles_app: Erlen) -> None:
    alice, bob, anonymous = (roles_app.test_client() for _ in range(3))
    alice.get("/login/1")
    bob.get("/login/2")
    assert alice.get("/admin").text == "admin area"
    response = bob.get("/admin")
    assert response.status_code == 403
    assert "needs the role(s): admin" in response.text
    assert anonymous.get("/admin").status_code == 401


def test_roles_accepted_needs_one(roles_app: Erlen) -> None:
    bob = roles_app.test_client()
    bob.get("/login/2")
    assert bob.get("/write").text == "write"


def test_permission_required(roles_app: Erlen) -> None:
    alice, bob = roles_app.test_client(), roles_app.test_client()
    alice.get("/login/1")
    bob.get("/login/2")
    assert alice.get("/delete").text == "deleted"
    response = bob.get("/delete")
    assert response.status_code == 403
    assert "users.delete" in response.text


def test_user_role_helpers(users: dict[str, User]) -> None:
    users["1"].roles = [Role("admin", ["a", "b"])]
    assert users["1"].has_role("admin") and users["1"].has_role(Role("admin"))
    assert users["1"].has_permission("b") and not users["1"].has_permission("c")
    assert Role("x", "p, q").get_permissions() == {"p", "q"}


# -- bearer tokens ----------------------------------------------------------------------


@pytest.fixture
def api_app(app: Erlen) -> Erlen:
    @app.route("/api/me")
    def me() -> dict[str, t.Any]:
        if not current_user.is_authenticated:
            return {"user": None}
        return {"user": current_user.name}

    return app


def _token(app: Erlen, user: User, **kwargs: t.Any) -> str:
    with app.test_request_context():
        return make_auth_token(user, **kwargs)


def test_bearer_token_loads_user_without_session(api_app: Erlen, users: t.Any) -> None:
    token = _token(api_app, users["1"])
    client = api_app.test_client()
    response = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.json == {"user": "Alice"}
    assert client.get("/api/me").json == {"user": None}


def test_bearer_token_never_from_query_string(api_app: Erlen, users: t.Any) -> None:
    token = _token(api_app, users["1"])
    client = api_app.test_client()
    for name in ("access_token", "token", "auth_token"):
        assert client.get(f"/api/me?{name}={token}").json == {"user": None}


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Bearer x.y.z", "Bearer \u00e9", "Basic abc"]
)
def test_bad_bearer_tokens_are_anonymous(api_app: Erlen, header: str) -> None:
    response = api_app.test_client().get("/api/me", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.json == {"user": None}


def test_bearer_token_expires(api_app: Erlen, users: t.Any) -> None:
    token = _token(api_app, users["1"], expires_in=-1)
    headers = {"Authorization": f"Bearer {token}"}
    assert api_app.test_client().get("/api/me", headers=headers).json == {"user": None}


def test_bearer_token_revoked(api_app: Erlen, users: t.Any) -> None:
    token = _token(api_app, users["1"])
    headers = {"Authorization": f"Bearer {token}"}
    client = api_app.test_client()
    assert client.get("/api/me", headers=headers).json == {"user": "Alice"}
    with api_app.test_request_context():
        assert revoke_auth_token(token) is True
        assert revoke_auth_token("forged") is False
    assert client.get("/api/me", headers=headers).json == {"user": None}


def test_logout_everywhere_ends_bearer_tokens(api_app: Erlen, users: t.Any) -> None:
    token = _token(api_app, users["2"])
    with api_app.test_request_context():
        logout_everywhere(users["2"])
    headers = {"Authorization": f"Bearer {token}"}
    assert api_app.test_client().get("/api/me", headers=headers).json == {"user": None}


def test_bearer_token_of_inactive_user(api_app: Erlen, users: t.Any) -> None:
    token = _token(api_app, users["3"])
    headers = {"Authorization": f"Bearer {token}"}
    assert api_app.test_client().get("/api/me", headers=headers).json == {"user": None}


# -- reset and confirmation tokens -------------------------------------------------------


@pytest.fixture
def mail_app(app: Erlen, users: dict[str, User]) -> Erlen:
    @app.route("/reset/<token>", methods=["POST"])
    def reset(token: str) -> t.Any:
        user = verify_reset_token(token)
        if user is None:
            return "invalid or used link", 400
        user.set_password(request.form["password"])
        return "password changed"

    @app.route("/confirm/<token>")
    def confirm(token: str) -> t.Any:
        user = verify_confirm_token(token)
        if user is None:
            return "invalid or used link", 400
        user.confirmed_at = "now"
        return "confirmed"

    return app


def test_reset_token_works_once(mail_app: Erlen, users: dict[str, User]) -> None:
    with mail_app.test_request_context():
        token = make_reset_token(users["1"])
    client = mail_app.test_client()
    first = client.post(f"/reset/{token}", data={"password": "brand-new"})
    assert first.text == "password changed"
    assert users["1"].check_password("brand-new")
    second = client.post(f"/reset/{token}", data={"password": "again"})
    assert second.status_code == 400
    assert client.post("/reset/garbage", data={"password": "x"}).status_code == 400


def test_reset_token_expires(mail_app: Erlen, users: dict[str, User]) -> None:
    mail_app.config["LOGIN_RESET_MAX_AGE"] = -1
    with mail_app.test_request_context():
        token = make_reset_token(users["1"])
    response = mail_app.test_client().post(f"/reset/{token}", data={"password": "x"})
    assert response.status_code == 400


def test_reset_token_is_not_a_confirm_token(mail_app: Erlen, users: t.Any) -> None:
    with mail_app.test_request_context():
        token = make_reset_token(users["1"])
    assert mail_app.test_client().get(f"/confirm/{token}").status_code == 400


def test_confirm_token_works_once(mail_app: Erlen, users: dict[str, User]) -> None:
    users["1"].confirmed_at = None  # type: ignore[attr-defined]
    with mail_app.test_request_context():
        token = make_confirm_token(users["1"])
    client = mail_app.test_client()
    assert client.get(f"/confirm/{token}").text == "confirmed"
    assert client.get(f"/confirm/{token}").status_code == 400


def test_confirm_token_bound_to_email(mail_app: Erlen, users: dict[str, User]) -> None:
    with mail_app.test_request_context():
        token = make_confirm_token(users["2"])
    users["2"].email = "other@example.com"
    assert mail_app.test_client().get(f"/confirm/{token}").status_code == 400


# -- login required by default ------------------------------------------------------------


def test_require_login_for_the_app(
    app: Erlen, login_manager: LoginManager, users: dict[str, User], tmp_path: Path
) -> None:
    calls: list[str] = []
    original = login_manager.user_callback
    assert original is not None

    def counting_loader(user_id: str) -> t.Any:
        calls.append(user_id)
        return original(user_id)

    login_manager.user_loader(counting_loader)
    static = tmp_path / "static"
    static.mkdir()
    (static / "site.css").write_text("body {}")
    app.static_folder = str(static)
    login_manager.login_view = "signin"
    login_manager.require_login(app)
    login_exempt(app.view_functions["login"])

    @app.route("/signin")
    def signin() -> str:
        return "the login form"

    @app.route("/about")
    @login_exempt
    def about() -> str:
        return "about us"

    @app.after_request
    def touch_user(response: t.Any) -> t.Any:
        response.headers["X-User"] = str(current_user.is_authenticated)
        return response

    client = app.test_client()
    assert client.get("/").location == "/signin?next=%2F"
    assert client.get("/signin").text == "the login form"
    assert client.get("/about").text == "about us"
    assert client.options("/").status_code == 200
    client.get("/login/1")
    assert client.get("/").text == "Alice"
    calls.clear()
    response = client.get("/static/site.css")
    assert response.status_code == 200
    assert response.headers["X-User"] == "False"
    response.close()
    assert calls == []


def test_require_login_for_a_blueprint(app: Erlen, login_manager: LoginManager) -> None:
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.route("/")
    def dashboard() -> str:
        return "dashboard"

    @admin.route("/health")
    @login_exempt
    def health() -> str:
        return "ok"

    login_manager.require_login(admin)
    app.register_blueprint(admin)
    client = app.test_client()
    assert client.get("/admin/").status_code == 401
    assert client.get("/admin/health").text == "ok"
    assert client.get("/").text == "anonymous"
    client.get("/login/2")
    assert client.get("/admin/").text == "dashboard"


# -- async loaders -----------------------------------------------------------------------------


def test_async_user_and_request_loaders(users: dict[str, User]) -> None:
    app = Erlen(__name__)
    app.secret_key = "k"
    manager = LoginManager(app)

    @manager.user_loader
    async def load_user(user_id: str) -> User | None:
        await asyncio.sleep(0)
        return users.get(user_id)

    @manager.request_loader
    async def load_from_request(req: t.Any) -> User | None:
        await asyncio.sleep(0)
        return users.get(req.headers.get("X-User", ""))

    @app.route("/")
    def index() -> str:
        return current_user.name if current_user.is_authenticated else "anonymous"

    @app.route("/login")
    def login() -> str:
        return str(login_user(users["1"]))

    @app.route("/async")
    async def async_view() -> str:
        await asyncio.sleep(0)
        return current_user.name if current_user.is_authenticated else "anonymous"

    client = app.test_client()
    assert client.get("/", headers={"X-User": "2"}).text == "Bob"
    assert client.get("/async").text == "anonymous"
    client.get("/login")
    assert client.get("/").text == "Alice"
    assert client.get("/async").text == "Alice"


# -- erlen check --deploy (through the checks it runs) -------------------------------------------------------------------


def _deploy_output(app: Erlen) -> str:
    from erlen.checks import run_deploy_checks

    return " ".join(p.check for p in run_deploy_checks(app, deploy=True))


def test_deploy_problems_reported(app: Erlen) -> None:
    app.config["SESSION_PROTECTION"] = None
    output = _deploy_output(app)
    assert "login.remember_cookie_secure" in output
    assert "login.session_protection" in output
    assert "login.throttle_store" in output


def test_deploy_problems_quiet_when_configured(app: Erlen) -> None:
    app.config.update(
        SESSION_COOKIE_SECURE=True,
        SESSION_PROTECTION="strong",
        LOGIN_THROTTLE_STORE="memory://",
    )
    output = _deploy_output(app)
    assert "login." not in output


def test_require_login_with_exempt_method_view(
    app: Erlen, login_manager: LoginManager
) -> None:
    from erlen.views import MethodView

    class Health(MethodView):
        login_exempt = True

        def get(self) -> str:
            return "healthy"

    app.add_url_rule("/health", view_func=Health.as_view("health"))
    login_manager.require_login(app)
    client = app.test_client()
    assert client.get("/health").text == "healthy"
    assert client.get("/").status_code == 401
