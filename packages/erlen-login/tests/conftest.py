"""Fixtures: an app with a LoginManager, users in a dict, and a cheap password hasher."""

from __future__ import annotations

import typing as t

import pytest

from erlen import Erlen
from erlen_login import LoginManager
from erlen_login import PasswordHasher
from erlen_login import UserMixin

#: Argon2id with small parameters: the tests check behaviour, not cost.
FAST_HASHER = PasswordHasher(
    argon2__memory_cost=1024, argon2__rounds=1, argon2__parallelism=1
)


class User(UserMixin):
    """A user kept in memory, with every optional attribute erlen-login reads."""

    def __init__(
        self,
        id: int,
        name: str,
        password: str | None = None,
        *,
        active: bool = True,
        roles: t.Sequence[t.Any] = (),
        email: str | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.active = active
        self.roles = list(roles)
        self.email = email or f"{name.lower()}@example.com"
        self.session_token: str | None = "initial-token"
        self.remember_tokens: dict[str, float] = {}
        self.password_hash = FAST_HASHER.hash(password) if password else None

    @property
    def is_active(self) -> bool:
        return self.active


@pytest.fixture
def users() -> dict[str, User]:
    return {
        "1": User(1, "Alice", "alice-password"),
        "2": User(2, "Bob", "bob-password"),
        "3": User(3, "Carol", "carol-password", active=False),
    }


@pytest.fixture
def login_manager() -> LoginManager:
    manager = LoginManager()
    manager.password_hasher = FAST_HASHER
    return manager


@pytest.fixture
def app(users: dict[str, User], login_manager: LoginManager) -> Erlen:
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test secret key", TESTING=True)
    login_manager.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return users.get(user_id)

    @app.route("/")
    def index() -> str:
        from erlen_login import current_user

        return current_user.name if current_user.is_authenticated else "anonymous"

    @app.route("/login/<user_id>")
    def login(user_id: str) -> str:
        from erlen import request
        from erlen_login import login_user

        remember = request.args.get("remember") == "1"
        return str(login_user(users[user_id], remember=remember))

    @app.route("/logout")
    def logout() -> str:
        from erlen_login import logout_user

        return str(logout_user())

    return app
