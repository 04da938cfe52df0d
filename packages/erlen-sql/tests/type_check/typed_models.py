# pyright: strict
"""Checked with ``mypy --strict``: the typed-model pattern from the docs."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import MappedAsDataclass

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.pagination import Pagination


class Base(MappedAsDataclass, DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class User(Base):
    id: Mapped[int] = mapped_column(primary_key=True, init=False)
    name: Mapped[str] = mapped_column(sa.String(80))
    email: Mapped[str | None] = mapped_column(default=None)


def create_app() -> Erlen:
    app = Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(app)
    return app


def add_user(name: str) -> User:
    user = User(name=name)
    db.session.add(user)
    db.session.commit()
    return user


def find(user_id: int) -> str:
    user: User = db.get_or_404(User, user_id)
    return user.name


def names() -> list[str]:
    return list(db.session.scalars(sa.select(User.name)))


def page() -> list[User]:
    result: Pagination = db.paginate(sa.select(User).order_by(User.id))
    return [u for u in result.items if isinstance(u, User)]


def engine_url() -> str:
    return str(db.engine.url)
