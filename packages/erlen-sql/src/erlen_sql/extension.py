"""The :class:`SQLAlchemy` extension: engines per app, ``db.Model``, ``db.session``."""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import dataclasses
import functools
import os
import threading
import typing as t
import warnings

import sqlalchemy as sa
import sqlalchemy.event as sa_event
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm

from erlen import abort
from erlen import has_app_context
from erlen.ext import Extension
from erlen.ext import ExtensionError
from erlen.ext import get_app
from erlen.ext import nonblocking
from erlen.globals import app_ctx

from . import _core
from . import cli
from . import loops
from . import query as _query
from . import record_queries
from . import track_modifications
from .idents import NO_MATCH
from .idents import prepare_ident
from .model import DefaultMeta
from .model import install_model_behaviour
from .model import Model
from .pagination import Pagination
from .pagination import SelectPagination
from .query import Query
from .session import IsolationGate
from .session import Session

if t.TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.ext.asyncio import async_scoped_session
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.ext.asyncio import AsyncSession

    from erlen import Erlen

    from .keyset import KeysetPagination

__all__ = ["SQLAlchemy", "SQLAlchemyState"]

_O = t.TypeVar("_O")
_Bind: t.TypeAlias = "sa.engine.Engine | sa.engine.Connection"
_BindKeys: t.TypeAlias = "str | None | cabc.Iterable[str | None]"

#: Sync driver name -> async driver name used when deriving an async engine.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mysql+pymysql": "mysql+aiomysql",
    "mysql+mysqldb": "mysql+aiomysql",
    "mysql+aiomysql": "mysql+aiomysql",
}


#: Async engine options that choose or size a pool; without them the engine
#: gets a ``NullPool`` (see ``_make_async_engine``).
_POOL_OPTIONS = frozenset(
    ["poolclass", "pool", "pool_size", "max_overflow", "pool_timeout", "pool_use_lifo"]
)


async def _dispose_async_engines(state: SQLAlchemyState) -> None:
    """Close the app's async engines when an ASGI server stops serving it."""
    while state.async_engines:
        await state.async_engines.popitem()[1].dispose()


def _app_ctx_id() -> int:
    """Scope of ``db.session``: the identity of the current app context."""
    ctx = _app_ctx_get(None)
    if ctx is None:
        # No context (or the core moved its variable): the proxy raises the
        # core's "Working outside of application context" error.
        ctx = t.cast(t.Any, app_ctx)._get_current_object()
    return id(ctx)


_app_ctx_var = _core.app_context_var()
#: Bound once: the scope function runs several times per request.
_app_ctx_get: t.Callable[[None], object] = (
    _app_ctx_var.get if _app_ctx_var is not None else lambda default: None
)


@dataclasses.dataclass(eq=False)
class SQLAlchemyState:
    """What one app's ``app.extensions["sqlalchemy"]`` holds.

    Unknown attributes are looked up on :attr:`db`, so code written for
    Flask-SQLAlchemy that does ``app.extensions["sqlalchemy"].session`` works.
    """

    #: The extension object.
    db: SQLAlchemy
    #: Sync engines by bind key (``None`` is ``SQLALCHEMY_DATABASE_URI``).
    engines: dict[str | None, sa.engine.Engine]
    #: Options for explicitly configured async engines, by bind key.
    async_options: dict[str | None, dict[str, t.Any]]
    #: Async engines created so far, by bind key.
    async_engines: dict[str | None, AsyncEngine] = dataclasses.field(
        default_factory=dict
    )
    #: Connections every session uses instead of the engines, while
    #: :func:`erlen_sql.testing.isolate` is active.
    isolation: dict[str | None, sa.engine.Connection] | None = None
    #: Makes the sessions of different threads take turns on :attr:`isolation`.
    isolation_gate: IsolationGate | None = None
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __getattr__(self, name: str) -> t.Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.db, name)


# The defaults of SQLAlchemy(), named apart from its class attributes.
_DefaultQuery = Query
_DefaultModel = Model


class SQLAlchemy(Extension[SQLAlchemyState]):
    """SQLAlchemy 2.x for erlen apps: engines from config, models, a session per app context.

    .. code-block:: python

        db = SQLAlchemy()

        class User(db.Model):
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        def create_app():
            app = Erlen(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"
            db.init_app(app)
            return app

    One instance serves any number of apps; each app's engines live in
    ``app.extensions["sqlalchemy"]``. Calling :meth:`init_app` twice for the same
    app is an error (Flask-SQLAlchemy disposed and rebuilt the engines instead).

    :param app: call :meth:`init_app` on it right away.
    :param metadata: the default :class:`~sqlalchemy.MetaData`, e.g. with a naming
        convention; bind keys get their own metadata with the same convention.
        It replaces the metadata of a legacy ``declarative_base()``
        ``model_class``; with a ``DeclarativeBase`` ``model_class`` it is an
        error: set it in the class body.
    :param session_options: arguments for the :class:`~sqlalchemy.orm.sessionmaker`;
        ``"class_"`` picks the session class (a :class:`~erlen_sql.session.Session`
        subclass), ``"scopefunc"`` the scope of :attr:`session`.
    :param query_class: the legacy query class for ``Model.query``,
        ``session.query()`` and dynamic relationships.
    :param model_class: the base for :attr:`Model`: a :class:`~erlen_sql.model.Model`
        subclass (legacy style), or a ``DeclarativeBase`` / ``DeclarativeBaseNoMeta``
        subclass (optionally with ``MappedAsDataclass``). A declarative class is
        used as it is, not copied: its subclasses get the extension's behaviour.
    :param engine_options: defaults for every engine, below the config values.
    :param add_models_to_shell: put ``db`` and every model in ``erlen shell``.
    :param disable_autonaming: do not generate ``__tablename__`` from class names.
    :param async_session_options: arguments for the ``async_sessionmaker`` behind
        :attr:`async_session`; ``expire_on_commit`` defaults to ``False``.
    """

    name = "sqlalchemy"
    config_defaults: t.ClassVar[cabc.Mapping[str, t.Any]] = {
        "SQLALCHEMY_DATABASE_URI": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SQLALCHEMY_ECHO": False,
        "SQLALCHEMY_BINDS": {},
        "SQLALCHEMY_RECORD_QUERIES": False,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "SQLALCHEMY_ASYNC_DATABASE_URI": None,
        "SQLALCHEMY_ASYNC_BINDS": {},
        "SQLALCHEMY_ASYNC_ENGINE_OPTIONS": {},
    }

    #: The legacy query class (``query_class`` argument).
    Query: type[_query.Query]
    #: The declarative base to subclass for models; see the ``model_class`` argument.
    #: Type checkers cannot see through an attribute, so typed code subclasses its
    #: own ``DeclarativeBase`` passed as ``model_class`` (see the docs).
    Model: type[t.Any]
    #: ``db.Table(name, *columns, bind_key=None, **kwargs)``: a table in the
    #: metadata for ``bind_key``.
    Table: type[sa.Table]
    #: MetaData for each bind key; ``None`` is the default.
    metadatas: dict[str | None, sa.MetaData]
    #: The session for the current app context; removed when the context ends.
    session: sa_orm.scoped_session[Session]

    def __init__(
        self,
        app: Erlen | None = None,
        *,
        metadata: sa.MetaData | None = None,
        session_options: dict[str, t.Any] | None = None,
        query_class: type[_query.Query] = _DefaultQuery,
        model_class: type[t.Any] = _DefaultModel,
        engine_options: dict[str, t.Any] | None = None,
        add_models_to_shell: bool = True,
        disable_autonaming: bool = False,
        async_session_options: dict[str, t.Any] | None = None,
    ) -> None:
        self.Query = query_class
        self.metadatas = {}
        self._engine_options = dict(engine_options or {})
        self._add_models_to_shell = add_models_to_shell
        self._disable_autonaming = disable_autonaming
        self._tracking_installed = False
        if metadata is not None:
            metadata.info["bind_key"] = None
            self.metadatas[None] = metadata
        self.Table = self._make_table_class()
        self.Model = self._make_declarative_base(model_class, metadata)
        self.session = self._make_scoped_session(session_options)
        self._async_session_options = dict(async_session_options or {})
        self._async_session_options.setdefault("expire_on_commit", False)
        self._async_session: async_scoped_session[AsyncSession] | None = None
        self._async_lock = threading.Lock()
        self._background_tasks: set[asyncio.Future[t.Any]] = set()
        super().__init__(app)

    def __repr__(self) -> str:
        state = _current_extensions().get(self.name) if has_app_context() else None
        if isinstance(state, SQLAlchemyState) and state.db is self:
            engine = state.engines.get(None)
            if engine is not None:
                return f"<{type(self).__name__} {engine.url}>"
        return f"<{type(self).__name__}>"

    def get_state(self, app: Erlen | None = None) -> SQLAlchemyState:
        """Return the state for ``app`` or the active app, if this instance owns it.

        A second ``SQLAlchemy()`` that was never registered on the app must not
        use the engines (and miss the teardown) of the one that was: every
        lookup of engines and sessions goes through here and raises
        :class:`~erlen.ext.ExtensionError` for it.
        """
        state = super().get_state(app)
        if getattr(state, "db", None) is not self:
            name = get_app(app).name
            raise ExtensionError(
                f"The app {name!r} is not registered with this"
                f" {type(self).__name__!r} instance; its"
                f" app.extensions[{self.name!r}] belongs to another one. Did you"
                " forget to call 'init_app', or create several"
                f" {type(self).__name__!r} instances? Use one instance per app."
            )
        return state

    @property
    def state(self) -> SQLAlchemyState:
        """The active app's state: :meth:`get_state` on the hot path.

        Every ``db.session`` query and ``db.engine`` looks it up, so the common
        case (an active app registered with this instance) is one dictionary
        lookup; anything else goes through :meth:`get_state` and its errors.
        """
        try:
            state = get_app().extensions.get(self.name)
        except RuntimeError:
            state = None
        if isinstance(state, SQLAlchemyState) and state.db is self:
            return state
        return self.get_state()

    # -- setup -----------------------------------------------------------------

    def create_state(self, app: Erlen) -> SQLAlchemyState:
        """Build the app's engines from its config; see the config table in the docs."""
        config = app.config
        echo = bool(config["SQLALCHEMY_ECHO"])
        options = self._bind_options(
            config["SQLALCHEMY_DATABASE_URI"],
            config["SQLALCHEMY_ENGINE_OPTIONS"],
            config["SQLALCHEMY_BINDS"],
            "SQLALCHEMY_BINDS",
        )
        if not options:
            raise RuntimeError(
                "Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be set."
            )
        engines: dict[str | None, sa.engine.Engine] = {}
        for key, engine_options in options.items():
            self._make_metadata(key)
            engine_options.setdefault("echo", echo)
            engine_options.setdefault("echo_pool", echo)
            name = _config_name(key)
            url = engine_options["url"]
            try:
                _apply_driver_defaults(engine_options, app)
                engines[key] = self._make_engine(key, engine_options, app)
            except (ModuleNotFoundError, sa_exc.ArgumentError) as e:
                raise _engine_error(name, url, e) from e
        async_options = self._bind_options(
            config["SQLALCHEMY_ASYNC_DATABASE_URI"],
            config["SQLALCHEMY_ASYNC_ENGINE_OPTIONS"],
            config["SQLALCHEMY_ASYNC_BINDS"],
            "SQLALCHEMY_ASYNC_BINDS",
        )
        for key, engine_options in async_options.items():
            self._make_metadata(key)
            engine_options.setdefault("echo", echo)
            try:
                _apply_driver_defaults(engine_options, app)
            except sa_exc.ArgumentError as e:
                name = _config_name(key, "SQLALCHEMY_ASYNC_")
                raise _engine_error(name, engine_options["url"], e) from e
        return SQLAlchemyState(db=self, engines=engines, async_options=async_options)

    def setup_app(self, app: Erlen, state: SQLAlchemyState) -> None:
        """Register teardown, query recording, change tracking and the shell context."""
        if app.config["SQLALCHEMY_RECORD_QUERIES"]:
            for engine in state.engines.values():
                record_queries._listen(engine)
        if (
            app.config["SQLALCHEMY_TRACK_MODIFICATIONS"]
            and not self._tracking_installed
        ):
            track_modifications._listen(self.session)
            self._tracking_installed = True
        app.teardown_appcontext(self._teardown_session)
        app.after_serving(functools.partial(_dispose_async_engines, state))
        if self._add_models_to_shell:
            app.shell_context_processor(cli.add_models_to_shell)

    def _bind_options(
        self,
        uri: t.Any,
        default_options: cabc.Mapping[str, t.Any],
        binds: cabc.Mapping[str, t.Any],
        binds_key: str,
    ) -> dict[str | None, dict[str, t.Any]]:
        result: dict[str | None, dict[str, t.Any]] = {}
        for key, value in binds.items():
            if isinstance(value, (str, sa.engine.URL)):
                value = {"url": value}
            elif not isinstance(value, cabc.Mapping) or "url" not in value:
                raise RuntimeError(
                    f"{binds_key}[{key!r}] must be a database URL or a dict of"
                    " engine options with a 'url' key."
                )
            result[key] = {**self._engine_options, **value}
        basic = {**self._engine_options, **default_options}
        if uri is not None:
            basic["url"] = uri
        if "url" in basic:
            result[None] = basic
        return result

    def _make_engine(
        self, bind_key: str | None, options: dict[str, t.Any], app: Erlen
    ) -> sa.engine.Engine:
        """Create the engine for ``bind_key``; override to customise engine creation."""
        return sa.engine_from_config(options, prefix="")

    def _make_metadata(self, bind_key: str | None) -> sa.MetaData:
        """Return the metadata for ``bind_key``, creating it on first use.

        A new bind's metadata copies the default metadata's naming convention.
        """
        if bind_key in self.metadatas:
            return self.metadatas[bind_key]
        if bind_key is not None and None in self.metadatas:
            convention = self.metadatas[None].naming_convention
            metadata = sa.MetaData(naming_convention=convention)
        else:
            metadata = sa.MetaData()
        metadata.info["bind_key"] = bind_key
        self.metadatas[bind_key] = metadata
        return metadata

    def _make_table_class(self) -> type[sa.Table]:
        db = self

        def _args(args: tuple[t.Any, ...], bind_key: str | None) -> tuple[t.Any, ...]:
            if len(args) < 2 or not isinstance(args[1], sa.MetaData):
                return (args[0], db._make_metadata(bind_key), *args[1:])  # pyright: ignore[reportGeneralTypeIssues]
            return args

        class Table(sa.Table):
            """A :class:`~sqlalchemy.Table` in the metadata of ``bind_key``.

            Pass a :class:`~sqlalchemy.MetaData` as the second argument to choose
            it yourself.
            """

            def __new__(
                cls, *args: t.Any, bind_key: str | None = None, **kwargs: t.Any
            ) -> Table:
                return super().__new__(cls, *_args(args, bind_key), **kwargs)

            def __init__(
                self, *args: t.Any, bind_key: str | None = None, **kwargs: t.Any
            ) -> None:
                super().__init__(*_args(args, bind_key), **kwargs)

        return Table

    def _make_declarative_base(
        self, model_class: type[t.Any], metadata: sa.MetaData | None
    ) -> type[t.Any]:
        modern = (sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta)
        declarative_parents = [
            b for b in model_class.__bases__ if issubclass(b, modern)
        ]
        if len(declarative_parents) > 1:
            names = ", ".join(b.__name__ for b in declarative_parents)
            raise ValueError(
                f"The 'model_class' {model_class.__name__!r} derives from several"
                f" declarative bases ({names}). Subclass exactly one of"
                " 'DeclarativeBase' or 'DeclarativeBaseNoMeta', optionally with"
                " 'MappedAsDataclass' and plain mixins."
            )
        if issubclass(model_class, modern):
            if metadata is not None and model_class.metadata is not metadata:
                raise ValueError(
                    "The 'metadata' argument cannot be used with a"
                    f" 'DeclarativeBase' 'model_class' ({model_class.__name__!r}):"
                    " it would be ignored (Flask-SQLAlchemy only warned). Set"
                    " 'metadata = MetaData(...)' in the class body instead, or drop"
                    " the argument to keep the class's metadata."
                )
            base = model_class
        elif isinstance(model_class, sa_orm.DeclarativeMeta):
            if metadata is not None and model_class.metadata is not metadata:
                if model_class.metadata.tables:
                    raise ValueError(
                        "The 'metadata' argument would replace the metadata of"
                        f" 'model_class' {model_class.__name__!r}, which already"
                        " holds tables that would then be missing from"
                        " 'db.metadata'. Pass the metadata to 'declarative_base()'"
                        " instead, or drop the argument."
                    )
                t.cast(t.Any, model_class).metadata = metadata
            base = model_class
        else:
            base = sa_orm.declarative_base(
                metadata=self._make_metadata(None),
                cls=model_class,
                name="Model",
                metaclass=DefaultMeta,
            )
        if base is model_class:
            self.metadatas[None] = model_class.metadata
            model_class.metadata.info["bind_key"] = None
        install_model_behaviour(self, base)
        return base

    def _make_scoped_session(
        self, options: dict[str, t.Any] | None
    ) -> sa_orm.scoped_session[Session]:
        """Create :attr:`session`; override to customise the session factory."""
        options = dict(options or {})
        scopefunc = options.pop("scopefunc", _app_ctx_id)
        options.setdefault("class_", Session)
        options.setdefault("query_cls", self.Query)
        factory = sa_orm.sessionmaker(db=self, **options)
        return sa_orm.scoped_session(factory, scopefunc)

    @nonblocking
    def _teardown_session(self, exc: BaseException | None) -> None:
        """Close the request's sessions; on a running loop, without blocking it."""
        registry = self.session.registry
        if registry.has():
            sync_session = registry()
            registry.clear()
            loops.close_off_loop(sync_session, self._background_tasks)
        scoped = self._async_session
        if scoped is None or not scoped.registry.has():
            return
        session = scoped.registry()
        scoped.registry.clear()
        loops.close_on_owner_loop(session, self._background_tasks)

    # -- engines and metadata ---------------------------------------------------

    @property
    def metadata(self) -> sa.MetaData:
        """The default metadata (bind key ``None``)."""
        return self.metadatas[None]

    @property
    def engines(self) -> cabc.Mapping[str | None, sa.engine.Engine]:
        """The current app's engines by bind key."""
        return self.state.engines

    @property
    def engine(self) -> sa.engine.Engine:
        """The current app's default engine (``SQLALCHEMY_DATABASE_URI``)."""
        try:
            return self.engines[None]
        except KeyError:
            raise RuntimeError(
                "'SQLALCHEMY_DATABASE_URI' is not set for this app, so there is no"
                " default engine. Use 'db.engines[bind_key]' for a bind."
            ) from None

    def get_engine(
        self,
        app: Erlen | None = None,
        bind_key: str | None = None,
        *,
        bind: str | None = None,
    ) -> sa.engine.Engine:
        """Return the engine for ``bind_key``.

        .. deprecated:: 0.1
            Use :attr:`engine` or ``engines[bind_key]``. Kept for older
            Alembic ``env.py`` files.
        """
        warnings.warn(
            "'db.get_engine()' is deprecated. Use 'db.engine' or"
            " 'db.engines[bind_key]' instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        key = bind if bind is not None else bind_key
        return self.get_state(app).engines[key]

    def _bind_targets(self) -> cabc.Mapping[str | None, _Bind]:
        state = self.state
        if state.isolation is not None:
            return state.isolation
        return state.engines

    def _call_for_binds(self, bind_key: _BindKeys, operation: str) -> None:
        if bind_key == "__all__":
            keys: list[str | None] = list(self.metadatas)
        elif bind_key is None or isinstance(bind_key, str):
            keys = [bind_key]
        else:
            keys = list(bind_key)
        targets = self._bind_targets()
        for key in keys:
            try:
                target = targets[key]
            except KeyError:
                if bind_key == "__all__" and not self.metadatas[key].tables:
                    continue
                if key is None:
                    message = "'SQLALCHEMY_DATABASE_URI' config is not set."
                else:
                    message = f"Bind key {key!r} is not in 'SQLALCHEMY_BINDS' config."
                raise sa_exc.UnboundExecutionError(
                    f"{message} Configure it, or pass the bind keys to use."
                ) from None
            getattr(self.metadatas[key], operation)(bind=target)

    def create_all(self, bind_key: _BindKeys = "__all__") -> None:
        """Create the tables that do not exist yet, for all binds or the given ones."""
        self._call_for_binds(bind_key, "create_all")

    def drop_all(self, bind_key: _BindKeys = "__all__") -> None:
        """Drop all tables, for all binds or the given ones."""
        self._call_for_binds(bind_key, "drop_all")

    def reflect(self, bind_key: _BindKeys = "__all__") -> None:
        """Load table definitions from the database into the metadata."""
        self._call_for_binds(bind_key, "reflect")

    # -- 404 helpers and pagination ------------------------------------------------

    def get_or_404(
        self,
        entity: type[_O],
        ident: t.Any,
        *,
        description: str | None = None,
        **kwargs: t.Any,
    ) -> _O:
        """Return the object with primary key ``ident``, or abort with 404 Not Found.

        Extra arguments go to :meth:`Session.get <sqlalchemy.orm.Session.get>`.
        ``ident`` may come straight from the URL: a string is converted to the
        key's type (``"42"`` for an integer key, a UUID string for a ``Uuid``
        key), and one that cannot be (``"abc"``, ``"1.5"``, a number too large
        for the column) answers 404 without a query.
        """
        session = self.session()
        ident = prepare_ident(session, entity, ident)
        value = None if ident is NO_MATCH else session.get(entity, ident, **kwargs)
        if value is None:
            abort(404, description=description)
        return value

    def first_or_404(
        self, statement: sa.Select[t.Any], *, description: str | None = None
    ) -> t.Any:
        """Return the first scalar of ``statement``, or abort with 404 Not Found."""
        value = self.session.execute(statement).scalar()
        if value is None:
            abort(404, description=description)
        return value

    def one_or_404(
        self, statement: sa.Select[t.Any], *, description: str | None = None
    ) -> t.Any:
        """Return the only scalar of ``statement``; abort with 404 for none or several."""
        try:
            return self.session.execute(statement).scalar_one()
        except (sa_exc.NoResultFound, sa_exc.MultipleResultsFound):
            abort(404, description=description)

    def paginate(
        self,
        select: sa.Select[t.Any],
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """Return one page of ``select``'s results as a :class:`Pagination`.

        ``page`` and ``per_page`` default to the ``page`` and ``per_page`` query
        arguments, else 1 and 20. ``per_page`` is capped at ``max_per_page``
        (default 100). Bad values and pages past the end abort with 404 Not Found
        when ``error_out`` is true, else fall back to page 1 / 20 per page / no
        items. ``count=False`` skips the ``COUNT`` query (``total`` is ``None``).
        """
        return SelectPagination(
            select=select,
            session=self.session(),
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )

    def keyset_paginate(
        self,
        select: sa.Select[t.Any],
        *,
        order_by: cabc.Sequence[t.Any],
        cursor: str | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
    ) -> KeysetPagination:
        """Return one page of ``select`` after (or before) a signed, opaque cursor.

        See :class:`erlen_sql.keyset.KeysetPagination`: no ``OFFSET``, no
        ``COUNT``, stable under inserts. ``order_by`` lists the sort columns, the
        last one unique (usually the primary key); wrap one in ``.desc()`` to sort
        it descending. ``cursor`` and ``per_page`` default to the ``cursor`` and
        ``per_page`` query arguments; a tampered cursor aborts with 400.
        """
        from .keyset import KeysetPagination

        return KeysetPagination(
            select,
            session=self.session(),
            order_by=order_by,
            cursor=cursor,
            per_page=per_page,
            max_per_page=max_per_page,
        )

    # -- async -------------------------------------------------------------------

    @property
    def async_engines(self) -> cabc.Mapping[str | None, AsyncEngine]:
        """The current app's async engines by bind key, created on first use.

        Bind keys set in ``SQLALCHEMY_ASYNC_DATABASE_URI`` /
        ``SQLALCHEMY_ASYNC_BINDS`` use that URL; every other sync bind gets an
        async engine on the same database through the driver's async twin
        (``sqlite`` -> ``aiosqlite``, ``postgresql`` -> ``psycopg``,
        ``mysql`` -> ``aiomysql``).
        """
        return _AsyncEngines(self, self.state)

    @property
    def async_engine(self) -> AsyncEngine:
        """The current app's default async engine."""
        return self._get_async_engine(self.state, None)

    def _get_async_engine(
        self, state: SQLAlchemyState, bind_key: str | None
    ) -> AsyncEngine:
        engine = state.async_engines.get(bind_key)
        if engine is not None:
            return engine
        with state.lock:
            engine = state.async_engines.get(bind_key)
            if engine is None:
                engine = self._make_async_engine(state, bind_key)
                state.async_engines[bind_key] = engine
        return engine

    def _make_async_engine(
        self, state: SQLAlchemyState, bind_key: str | None
    ) -> AsyncEngine:
        """Create the async engine for ``bind_key``.

        Without a ``poolclass`` (or pool sizing options) in its options the
        engine uses a :class:`~sqlalchemy.pool.NullPool`: in a WSGI app each
        async view runs in its own event loop, and async driver connections
        belong to the loop that opened them, so a pooled connection would be
        reused from another loop or left unclosed when its loop ends.
        """
        from sqlalchemy.ext.asyncio import create_async_engine

        options = state.async_options.get(bind_key)
        name = _config_name(bind_key, "SQLALCHEMY_ASYNC_")
        if options is None:
            name = f"the async URL made from {_config_name(bind_key)}"
            sync = state.engines.get(bind_key)
            if sync is None:
                raise RuntimeError(
                    f"No database for bind key {bind_key!r}: set it in"
                    " 'SQLALCHEMY_ASYNC_BINDS' (or 'SQLALCHEMY_ASYNC_DATABASE_URI'"
                    " for the default)."
                )
            options = {"url": _derive_async_url(sync.url), "echo": sync.echo}
        else:
            options = dict(options)
        if not _POOL_OPTIONS.intersection(options):
            options["poolclass"] = sa.pool.NullPool
        url = options.pop("url")
        try:
            return create_async_engine(url, **options)
        except ImportError as e:
            raise RuntimeError(
                f"Cannot create the async engine for {str(url)!r}: {e}. Install"
                " the async driver (e.g. 'pip install erlen-sql[async]') or set"
                " 'SQLALCHEMY_ASYNC_DATABASE_URI' to a URL with an installed one."
            ) from e
        except sa_exc.ArgumentError as e:  # an unknown driver, a bad option
            raise _engine_error(name, url, e) from e

    @property
    def async_session(self) -> async_scoped_session[AsyncSession]:
        """The ``AsyncSession`` for the current app context, closed when it ends.

        Use it from ``async def`` views: ``await db.async_session.execute(...)``.
        Tables are routed to async engines by bind key like :attr:`session`.
        """
        scoped = self._async_session
        if scoped is None:
            with self._async_lock:
                if self._async_session is None:
                    self._async_session = self._make_async_scoped_session()
                scoped = self._async_session
        return scoped

    def _make_async_scoped_session(self) -> async_scoped_session[AsyncSession]:
        from sqlalchemy.ext.asyncio import async_scoped_session
        from sqlalchemy.ext.asyncio import async_sessionmaker

        options = dict(self._async_session_options)
        scopefunc = options.pop("scopefunc", _app_ctx_id)
        options.setdefault("sync_session_class", _AsyncBindSession)
        factory = async_sessionmaker(db=self, **options)
        return async_scoped_session(factory, scopefunc)

    async def create_all_async(self, bind_key: _BindKeys = "__all__") -> None:
        """Create the tables through the async engines."""
        await self._call_for_binds_async(bind_key, "create_all")

    async def drop_all_async(self, bind_key: _BindKeys = "__all__") -> None:
        """Drop the tables through the async engines."""
        await self._call_for_binds_async(bind_key, "drop_all")

    async def _call_for_binds_async(self, bind_key: _BindKeys, operation: str) -> None:
        if bind_key == "__all__":
            engines = self.async_engines
            keys = [k for k in self.metadatas if k in engines]
        elif bind_key is None or isinstance(bind_key, str):
            keys = [bind_key]
        else:
            keys = list(bind_key)
        state = self.state
        for key in keys:
            engine = self._get_async_engine(state, key)
            async with engine.begin() as conn:
                await conn.run_sync(getattr(self.metadatas[key], operation))

    # -- relationships and the attribute proxy -------------------------------------

    def _set_rel_query(self, kwargs: dict[str, t.Any]) -> None:
        kwargs.setdefault("query_class", self.Query)
        if "backref" in kwargs:
            backref = kwargs["backref"]
            if isinstance(backref, str):
                backref = (backref, {})
            backref[1].setdefault("query_class", self.Query)
            kwargs["backref"] = backref

    def relationship(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """:func:`sqlalchemy.orm.relationship` using this extension's query class."""
        self._set_rel_query(kwargs)
        return sa_orm.relationship(*args, **kwargs)

    def dynamic_loader(self, argument: t.Any, **kwargs: t.Any) -> t.Any:
        """:func:`sqlalchemy.orm.dynamic_loader` using this extension's query class."""
        self._set_rel_query(kwargs)
        return sa_orm.dynamic_loader(argument, **kwargs)

    def relation(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Old name of :meth:`relationship`."""
        return self.relationship(*args, **kwargs)

    def __getattr__(self, name: str) -> t.Any:
        """Give ``db.Column``, ``db.select``, ``db.String``, ``db.event`` and the like."""
        if name == "event":
            return sa_event
        if not name.startswith("_"):
            for module in (sa, sa_orm):
                if name in getattr(module, "__all__", ()) or hasattr(module, name):
                    return getattr(module, name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}"
        )


class _AsyncEngines(cabc.Mapping["str | None", "AsyncEngine"]):
    """The async engines of one app, each created when first looked up."""

    def __init__(self, db: SQLAlchemy, state: SQLAlchemyState) -> None:
        self._db = db
        self._state = state
        self._keys = list(dict.fromkeys([*state.engines, *state.async_options]))

    def __getitem__(self, key: str | None) -> AsyncEngine:
        if key not in self._keys:
            raise KeyError(key)
        return self._db._get_async_engine(self._state, key)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> cabc.Iterator[str | None]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _LazySyncEngines(cabc.Mapping["str | None", _Bind]):
    """``sync_engine`` of each async engine, for routing ``db.async_session``."""

    def __init__(self, engines: _AsyncEngines) -> None:
        self._engines = engines

    def __getitem__(self, key: str | None) -> _Bind:
        return self._engines[key].sync_engine

    def __contains__(self, key: object) -> bool:
        return key in self._engines

    def __iter__(self) -> cabc.Iterator[str | None]:
        return iter(self._engines)

    def __len__(self) -> int:
        return len(self._engines)


class _AsyncBindSession(Session):
    """Sync half of ``db.async_session``: routes tables to the async engines."""

    def _bind_targets(self) -> cabc.Mapping[str | None, _Bind]:
        return _LazySyncEngines(_AsyncEngines(self._db, self._db.state))


# Close each async session on the loop its connection belongs to (see loops).
sa_event.listen(_AsyncBindSession, "after_begin", loops.guard_on_running_loop)


def _current_extensions() -> cabc.Mapping[str, t.Any]:
    return t.cast(t.Any, app_ctx).app.extensions  # type: ignore[no-any-return]


def _derive_async_url(url: sa.engine.URL) -> sa.engine.URL:
    driver = _ASYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise RuntimeError(
            f"No known async driver for {url.drivername!r}. Set"
            " 'SQLALCHEMY_ASYNC_DATABASE_URI' (or the bind in"
            " 'SQLALCHEMY_ASYNC_BINDS') to an async URL."
        )
    if driver.startswith("sqlite") and _is_sqlite_memory(url):
        raise RuntimeError(
            "An in-memory SQLite database cannot be shared between a sync and an"
            " async engine. Use a file database, or set"
            " 'SQLALCHEMY_ASYNC_DATABASE_URI' to 'sqlite+aiosqlite://' for a"
            " separate in-memory database."
        )
    return url.set(drivername=driver)


#: Modules whose package on PyPI has another name.
_DRIVER_PACKAGES = {"MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary"}


def _config_name(bind_key: str | None, prefix: str = "SQLALCHEMY_") -> str:
    """The config value that gives the URL of ``bind_key``, for error messages."""
    if bind_key is None:
        return f"{prefix}DATABASE_URI"
    return f"{prefix}BINDS[{bind_key!r}]"


def _engine_error(name: str, url: t.Any, error: Exception) -> ExtensionError:
    """One line saying which config value is wrong and what to install or change."""
    try:
        shown = repr(sa.engine.make_url(url).render_as_string(hide_password=True))
    except sa_exc.ArgumentError:
        return ExtensionError(f"{name} is not a database URL: {error}.")
    if isinstance(error, ModuleNotFoundError) and error.name:
        package = _DRIVER_PACKAGES.get(error.name, error.name)
        return ExtensionError(
            f"The database driver {error.name!r} for {name} ({shown}) is not"
            f" installed: run 'pip install {package}', or name an installed"
            " driver in the URL ('postgresql+psycopg://...')."
        )
    return ExtensionError(f"{name} ({shown}) cannot be used: {error}")


def _is_sqlite_memory(url: sa.engine.URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _apply_driver_defaults(options: dict[str, t.Any], app: Erlen) -> None:
    """Adjust engine options for the driver, in place.

    SQLite in memory gets a ``StaticPool`` shared across threads; relative
    SQLite paths are placed in ``app.instance_path`` (created if needed); MySQL
    gets ``pool_recycle=7200`` and ``charset=utf8mb4``.
    """
    url = sa.engine.make_url(options["url"])
    if url.drivername.startswith("sqlite"):
        if _is_sqlite_memory(url):
            options.setdefault("poolclass", sa.pool.StaticPool)
            connect_args = dict(options.get("connect_args") or {})
            connect_args["check_same_thread"] = False
            options["connect_args"] = connect_args
        else:
            database = url.database or ""
            is_uri = url.query.get("uri") in ("true", "1")
            prefix = ""
            if is_uri and database.startswith("file:"):
                prefix, database = "file:", database[5:]
            if not os.path.isabs(database):
                os.makedirs(app.instance_path, exist_ok=True)
                database = os.path.join(app.instance_path, database)
                url = url.set(database=prefix + database)
    elif url.drivername.startswith("mysql"):
        if "poolclass" not in options or options["poolclass"] is sa.pool.QueuePool:
            options.setdefault("pool_recycle", 7200)
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
    options["url"] = url
