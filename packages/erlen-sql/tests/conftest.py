from __future__ import annotations

import collections.abc as cabc
import typing as t
from pathlib import Path

import pytest
import sqlalchemy.orm as sa_orm

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.model import Model
from erlen_sql.pytest_plugin import postgresql_database_url as postgresql_database_url
from erlen_sql.pytest_plugin import postgresql_url as postgresql_url

# -- base styles -----------------------------------------------------------------


def _legacy() -> type[t.Any]:
    class Base(Model):
        pass

    return Base


def _declarative() -> type[t.Any]:
    class Base(sa_orm.DeclarativeBase):
        pass

    return Base


def _declarative_dataclass() -> type[t.Any]:
    class Base(sa_orm.MappedAsDataclass, sa_orm.DeclarativeBase):
        pass

    return Base


def _no_meta() -> type[t.Any]:
    class Base(sa_orm.DeclarativeBaseNoMeta):
        pass

    return Base


def _no_meta_dataclass() -> type[t.Any]:
    class Base(sa_orm.MappedAsDataclass, sa_orm.DeclarativeBaseNoMeta):
        pass

    return Base


BASE_STYLES: dict[str, cabc.Callable[[], type[t.Any]]] = {
    "legacy": _legacy,
    "declarative": _declarative,
    "declarative-dataclass": _declarative_dataclass,
    "no-meta": _no_meta,
    "no-meta-dataclass": _no_meta_dataclass,
}


@pytest.fixture(params=list(BASE_STYLES))
def model_class(request: pytest.FixtureRequest) -> type[t.Any]:
    """A fresh base class in each of the five styles SQLAlchemy supports."""
    return BASE_STYLES[request.param]()


@pytest.fixture
def is_dataclass(model_class: type[t.Any]) -> bool:
    return issubclass(model_class, sa_orm.MappedAsDataclass)


# -- app and db ------------------------------------------------------------------


def dispose(app: Erlen) -> None:
    """Close every connection pool of the app's engines."""
    state = app.extensions.get("sqlalchemy")
    if state is not None:
        for engine in state.engines.values():
            engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> cabc.Iterator[Erlen]:
    app = Erlen(__name__, instance_path=str(tmp_path / "instance"))
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config["SECRET_KEY"] = "test secret"
    yield app
    dispose(app)


@pytest.fixture
def app_ctx(app: Erlen) -> cabc.Iterator[t.Any]:
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def db(app: Erlen) -> SQLAlchemy:
    return SQLAlchemy(app)


# -- PostgreSQL ------------------------------------------------------------------
# ``postgresql_url`` and ``postgresql_database_url`` come from erlen_sql.pytest_plugin
# (imported above): skipped without PostgreSQL, failing when CI=true.


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once for a SQLite file and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return t.cast(str, request.getfixturevalue("postgresql_database_url"))
