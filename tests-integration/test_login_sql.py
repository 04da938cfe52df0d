"""erlen-login over erlen-sql models: mixins on declarative classes, roles as relationships."""

from __future__ import annotations

import importlib.util
import typing as t

import pytest

if (
    importlib.util.find_spec("erlen_login") is None
    or importlib.util.find_spec("erlen_sql") is None
):  # pragma: no cover
    pytest.skip("erlen-login and erlen-sql are needed", allow_module_level=True)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Mapped  # noqa: E402
from sqlalchemy.orm import mapped_column  # noqa: E402
from sqlalchemy.orm import relationship  # noqa: E402

from erlen import Erlen  # noqa: E402
from erlen import request  # noqa: E402
from erlen_login import authenticate  # noqa: E402
from erlen_login import current_user  # noqa: E402
from erlen_login import login_user  # noqa: E402
from erlen_login import LoginManager  # noqa: E402
from erlen_login import logout_everywhere  # noqa: E402
from erlen_login import permission_required  # noqa: E402
from erlen_login import RoleMixin  # noqa: E402
from erlen_login import roles_required  # noqa: E402
from erlen_login import UserMixin  # noqa: E402
from erlen_sql import SQLAlchemy  # noqa: E402


def _make_app() -> tuple[Erlen, SQLAlchemy, t.Any, t.Any]:
    db = SQLAlchemy()

    user_roles = sa.Table(
        "user_roles",
        db.metadata,
        sa.Column("user_id", sa.ForeignKey("user.id"), primary_key=True),
        sa.Column("role_id", sa.ForeignKey("role.id"), primary_key=True),
    )

    class Role(db.Model, RoleMixin):  # type: ignore[name-defined,misc]
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(unique=True)
        permissions: Mapped[str] = mapped_column(default="")

    class User(db.Model, UserMixin):  # type: ignore[name-defined,misc]
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(unique=True)
        password_hash: Mapped[str | None]
        session_token: Mapped[str] = mapped_column(default="first")
        remember_tokens: Mapped[dict[str, float]] = mapped_column(sa.JSON, default=dict)
        roles: Mapped[list[Role]] = relationship(secondary=user_roles)

    app = Erlen(__name__)
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI="sqlite://")
    db.init_app(app)
    manager = LoginManager(app)

    @manager.user_loader
    def load_user(user_id: str) -> t.Any:
        return db.session.get(User, int(user_id))

    @app.post("/signin")
    def signin() -> t.Any:
        name = request.form["name"]
        user = db.session.scalar(sa.select(User).filter_by(name=name))
        if not authenticate(user, request.form["password"], account=name):
            return "no", 400
        login_user(user, remember=True)
        db.session.commit()
        return "yes"

    @app.after_request
    def save(response: t.Any) -> t.Any:
        db.session.commit()  # remember tokens are stored on the user row
        return response

    @app.get("/me")
    def me() -> str:
        return current_user.name if current_user.is_authenticated else "anonymous"

    @app.get("/admin")
    @roles_required("admin")
    def admin() -> str:
        return "admin"

    @app.get("/reports")
    @permission_required("reports.read")
    def reports() -> str:
        return "reports"

    @app.post("/everywhere")
    def everywhere() -> str:
        logout_everywhere(keep_current=True)
        db.session.commit()
        return "done"

    with app.app_context():
        db.create_all()
        admin_role = Role(name="admin", permissions="reports.read, users.edit")
        alice = User(name="alice", roles=[admin_role])
        alice.set_password("alice-password")
        bob = User(name="bob")
        bob.set_password("bob-password")
        db.session.add_all([alice, bob])
        db.session.commit()
    return app, db, User, Role


def test_roles_and_permissions_from_relationships() -> None:
    app, _, _, _ = _make_app()
    alice, bob = app.test_client(), app.test_client()
    assert (
        alice.post("/signin", data={"name": "alice", "password": "alice-password"}).text
        == "yes"
    )
    assert (
        bob.post("/signin", data={"name": "bob", "password": "bob-password"}).text
        == "yes"
    )
    assert alice.get("/admin").text == "admin"
    assert alice.get("/reports").text == "reports"
    assert bob.get("/admin").status_code == 403
    assert bob.get("/reports").status_code == 403


def test_remember_tokens_and_logout_everywhere_on_rows() -> None:
    app, _, _, _ = _make_app()
    laptop, phone = app.test_client(), app.test_client()
    laptop.post("/signin", data={"name": "alice", "password": "alice-password"})
    phone.post("/signin", data={"name": "alice", "password": "alice-password"})
    phone.delete_cookie("session")
    assert (
        phone.get("/me").text == "alice"
    )  # from the remember cookie stored on the row
    assert laptop.post("/everywhere").text == "done"
    assert laptop.get("/me").text == "alice"
    assert phone.get("/me").text == "anonymous"
    phone.delete_cookie("session")
    assert phone.get("/me").text == "anonymous"
