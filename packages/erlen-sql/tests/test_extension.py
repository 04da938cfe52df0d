from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen.ext import ExtensionError
from erlen_sql import SQLAlchemy
from erlen_sql.cli import add_models_to_shell


def dispose(app: Erlen) -> None:
    for engine in app.extensions["sqlalchemy"].engines.values():
        engine.dispose()


def test_config_defaults(app: Erlen) -> None:
    del app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_BINDS"] = {"a": "sqlite://"}
    SQLAlchemy(app)
    assert app.config["SQLALCHEMY_DATABASE_URI"] is None
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {}
    assert app.config["SQLALCHEMY_ECHO"] is False
    assert app.config["SQLALCHEMY_RECORD_QUERIES"] is False
    assert app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] is False


def test_no_database_configured(tmp_path: Path) -> None:
    app = Erlen(__name__, instance_path=str(tmp_path))
    with pytest.raises(RuntimeError) as info:
        SQLAlchemy(app)
    assert str(info.value) == (
        "Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be set."
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql+mysqldb://user:secret@db/app",
            "The database driver 'MySQLdb' for SQLALCHEMY_BINDS['auth']"
            " ('mysql+mysqldb://user:***@db/app') is not installed: run"
            " 'pip install mysqlclient'",
        ),
        ("not a url", "SQLALCHEMY_BINDS['auth'] is not a database URL"),
        ("nodialect://db/app", "SQLALCHEMY_BINDS['auth'] ('nodialect://db/app')"),
    ],
)
def test_unusable_url_names_the_setting(
    tmp_path: Path, url: str, expected: str
) -> None:
    """A missing driver or a wrong URL is one line naming the setting, not a traceback."""
    try:
        import MySQLdb  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover
        pytest.skip("MySQLdb is installed")
    app = Erlen(__name__, instance_path=str(tmp_path))
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config["SQLALCHEMY_BINDS"] = {"auth": url}
    with pytest.raises(ExtensionError) as info:
        SQLAlchemy().init_app(app)
    assert expected in str(info.value)
    assert "secret" not in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"SQLALCHEMY_ASYNC_DATABASE_URI": "not a url"},
            "SQLALCHEMY_ASYNC_DATABASE_URI is not a database URL",
        ),
        (
            {"SQLALCHEMY_ASYNC_BINDS": {"auth": "sqlite+nodriver://u:secret@h/x"}},
            "SQLALCHEMY_ASYNC_BINDS['auth'] ('sqlite+nodriver://u:***@h/",
        ),
    ],
)
def test_unusable_async_url_names_the_setting(
    tmp_path: Path, config: dict[str, t.Any], expected: str
) -> None:
    app = Erlen(__name__, instance_path=str(tmp_path))
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", **config)
    with pytest.raises(ExtensionError) as info:
        db = SQLAlchemy(app)
        with app.app_context():
            db.async_engines["auth" if "BINDS" in str(config) else None]
    assert expected in str(info.value)
    assert "secret" not in str(info.value)
    assert "\n" not in str(info.value)


def test_state_in_app_extensions(app: Erlen, db: SQLAlchemy) -> None:
    state = app.extensions["sqlalchemy"]
    assert state.db is db
    assert state.engines[None].url.drivername == "sqlite"
    # Flask-SQLAlchemy stored the extension itself: its attributes still work.
    assert state.metadata is db.metadata


def test_second_init_app_is_an_error(app: Erlen, db: SQLAlchemy) -> None:
    with pytest.raises(ExtensionError, match="already registered"):
        db.init_app(app)
    with pytest.raises(ExtensionError, match="already registered"):
        SQLAlchemy(app)


def test_one_extension_many_apps(tmp_path: Path) -> None:
    db = SQLAlchemy()

    class Item(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    apps = []
    for name in ("one", "two"):
        app = Erlen(name, instance_path=str(tmp_path / name))
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{name}.db"
        db.init_app(app)
        apps.append(app)
    for count, app in enumerate(apps, start=1):
        with app.app_context():
            db.create_all()
            db.session.add_all([Item() for _ in range(count)])
            db.session.commit()
    for count, app in enumerate(apps, start=1):
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(Item.id))) == count
            assert db.engine.url.database == os.path.join(
                app.instance_path, f"{app.name}.db"
            )
        dispose(app)


def test_outside_app_context_is_a_clear_error(db: SQLAlchemy) -> None:
    with pytest.raises(RuntimeError, match="application context"):
        db.engine  # noqa: B018
    with pytest.raises(RuntimeError, match="application context"):
        db.session.execute(sa.text("select 1"))


def test_not_registered_is_a_clear_error(app: Erlen) -> None:
    db = SQLAlchemy()
    with app.app_context(), pytest.raises(ExtensionError, match="init_app"):
        db.engine  # noqa: B018


def test_attribute_proxy(db: SQLAlchemy) -> None:
    assert db.Column is sa.Column
    assert db.select is sa.select
    assert db.String is sa.String
    assert db.backref is sa_orm.backref
    assert db.event is sa.event
    assert db.Mapped is sa_orm.Mapped
    with pytest.raises(AttributeError):
        db.not_a_thing  # noqa: B018
    with pytest.raises(AttributeError):
        db._private  # noqa: B018


def test_repr(app: Erlen, db: SQLAlchemy) -> None:
    assert repr(db) == "<SQLAlchemy>"
    with app.app_context():
        assert repr(db) == "<SQLAlchemy sqlite://>"


def test_get_engine_is_deprecated(app: Erlen, db: SQLAlchemy) -> None:
    with app.app_context():
        with pytest.deprecated_call():
            assert db.get_engine() is db.engine
        with pytest.deprecated_call():
            assert db.get_engine(app) is db.engine


def test_shell_context(app: Erlen, db: SQLAlchemy) -> None:
    class Animal(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        assert add_models_to_shell() == {"db": db, "Animal": Animal}
        context = app.make_shell_context()
    assert context["db"] is db
    assert context["Animal"] is Animal


def test_shell_context_disabled(app: Erlen) -> None:
    SQLAlchemy(app, add_models_to_shell=False)
    with app.app_context():
        assert "db" not in app.make_shell_context()


def test_table_in_bind_metadata(app: Erlen) -> None:
    app.config["SQLALCHEMY_BINDS"] = {"logs": "sqlite://"}
    db = SQLAlchemy(app)
    plain = db.Table("plain", sa.Column("id", sa.Integer, primary_key=True))
    logged = db.Table(
        "logged", sa.Column("id", sa.Integer, primary_key=True), bind_key="logs"
    )
    explicit_md = sa.MetaData()
    explicit = db.Table("explicit", explicit_md, sa.Column("id", sa.Integer))
    assert isinstance(plain, db.Table)
    assert isinstance(plain, sa.Table)
    assert plain.metadata is db.metadata
    assert logged.metadata is db.metadatas["logs"]
    assert explicit.metadata is explicit_md
    with app.app_context():
        db.create_all()
        assert sa.inspect(db.engines["logs"]).get_table_names() == ["logged"]
        db.session.execute(logged.insert().values(id=5))
        assert db.session.execute(sa.select(logged.c.id)).scalar() == 5
        assert db.session.get_bind(clause=logged.select()) is db.engines["logs"]


def test_create_drop_reflect_by_bind(app: Erlen) -> None:
    app.config["SQLALCHEMY_BINDS"] = {"a": "sqlite://", "b": "sqlite://"}
    db = SQLAlchemy(app)
    db.Table("ta", sa.Column("id", sa.Integer), bind_key="a")
    db.Table("tb", sa.Column("id", sa.Integer), bind_key="b")
    db.Table("tn", sa.Column("id", sa.Integer))
    with app.app_context():
        db.create_all("a")
        assert sa.inspect(db.engines["a"]).get_table_names() == ["ta"]
        assert sa.inspect(db.engines["b"]).get_table_names() == []
        db.create_all(["b", None])
        assert sa.inspect(db.engine).get_table_names() == ["tn"]
        db.drop_all()
        assert sa.inspect(db.engines["b"]).get_table_names() == []
        db.create_all()
        db.metadatas["b"].clear()
        db.reflect("b")
        assert list(db.metadatas["b"].tables) == ["tb"]
        with pytest.raises(sa.exc.UnboundExecutionError, match="'missing'"):
            db.create_all("missing")


def test_model_with_unconfigured_bind(app: Erlen, db: SQLAlchemy) -> None:
    class Remote(db.Model):
        __bind_key__ = "remote"
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        with pytest.raises(sa.exc.UnboundExecutionError, match="'remote'"):
            db.create_all()
        with pytest.raises(sa.exc.UnboundExecutionError, match="'remote'"):
            db.session.execute(sa.select(Remote))


def test_binds_only_no_default(tmp_path: Path) -> None:
    app = Erlen(__name__, instance_path=str(tmp_path))
    app.config["SQLALCHEMY_BINDS"] = {"a": {"url": "sqlite://", "echo": False}}
    db = SQLAlchemy(app)

    class A(db.Model):
        __bind_key__ = "a"
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()
        with pytest.raises(RuntimeError, match="SQLALCHEMY_DATABASE_URI"):
            db.engine  # noqa: B018
        db.session.add(A())
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(A.id))) == 1
    dispose(app)


def test_bad_bind_config(app: Erlen) -> None:
    app.config["SQLALCHEMY_BINDS"] = {"a": {"echo": True}}
    with pytest.raises(RuntimeError, match=r"SQLALCHEMY_BINDS\['a'\]"):
        SQLAlchemy(app)


def _options_seen(app: Erlen, **kwargs: t.Any) -> dict[str | None, dict[str, t.Any]]:
    seen: dict[str | None, dict[str, t.Any]] = {}

    class Recording(SQLAlchemy):
        def _make_engine(
            self, bind_key: str | None, options: dict[str, t.Any], app: Erlen
        ) -> sa.engine.Engine:
            seen[bind_key] = dict(options)
            return sa.create_engine("sqlite://")

    Recording(app, **kwargs)
    return seen


def test_engine_option_precedence(app: Erlen) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    app.config["SQLALCHEMY_BINDS"] = {"x": {"url": "sqlite://", "pool_pre_ping": False}}
    app.config["SQLALCHEMY_ECHO"] = True
    seen = _options_seen(
        app, engine_options={"pool_pre_ping": "ctor", "isolation_level": "X"}
    )
    assert seen[None]["pool_pre_ping"] is True
    assert seen[None]["isolation_level"] == "X"
    assert seen["x"]["pool_pre_ping"] is False
    assert seen["x"]["isolation_level"] == "X"
    assert seen[None]["echo"] is True and seen[None]["echo_pool"] is True


def test_sqlite_memory_defaults(app: Erlen) -> None:
    seen = _options_seen(app)
    assert seen[None]["poolclass"] is sa.pool.StaticPool
    assert seen[None]["connect_args"] == {"check_same_thread": False}


def test_sqlite_relative_path_in_instance_folder(app: Erlen) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///data/app.db"
    os.makedirs(os.path.join(app.instance_path, "data"))
    db = SQLAlchemy(app)
    with app.app_context():
        assert db.engine.url.database == os.path.join(app.instance_path, "data/app.db")
        db.create_all()
        with db.engine.connect():
            pass
    assert os.path.exists(os.path.join(app.instance_path, "data", "app.db"))


def test_sqlite_instance_folder_created(app: Erlen) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"
    assert not os.path.exists(app.instance_path)
    SQLAlchemy(app)
    assert os.path.isdir(app.instance_path)


def test_sqlite_absolute_path_kept(app: Erlen, tmp_path: Path) -> None:
    path = tmp_path / "abs.db"
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    db = SQLAlchemy(app)
    with app.app_context():
        assert db.engine.url.database == str(path)


def test_mysql_defaults(app: Erlen) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = "mysql://u@localhost/db"
    app.config["SQLALCHEMY_BINDS"] = {
        "null": {
            "url": "mysql://u@localhost/db?charset=latin1",
            "poolclass": sa.pool.NullPool,
        }
    }
    seen = _options_seen(app)
    assert seen[None]["pool_recycle"] == 7200
    assert seen[None]["url"].query["charset"] == "utf8mb4"
    assert "pool_recycle" not in seen["null"]
    assert seen["null"]["url"].query["charset"] == "latin1"
