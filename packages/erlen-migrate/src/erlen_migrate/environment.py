"""The migration environment, run inside the package instead of a generated ``env.py``.

Alembic's command functions load ``env.py`` from the migrations folder; every
erlen-migrate command instead opens an :class:`~alembic.runtime.environment.EnvironmentContext`
and calls :func:`run_environment`, which configures Alembic once per managed
database. A folder made by ``erlen db init`` therefore holds only files its
owner edits (``script.py.mako``, ``versions/``, optionally ``alembic.ini``) and
never goes stale when erlen-migrate, erlen-sql, Alembic or SQLAlchemy change.

Every database gets ``engine_name`` when migrations run: ``""`` for the default
database, the bind key otherwise. A revision whose ``upgrade()`` takes no
``engine_name`` (single-database style, also Flask-Migrate's) runs on the
default database only, so adding binds later needs no edits to old revisions.
"""

from __future__ import annotations

import asyncio
import collections.abc as cabc
import contextvars
import dataclasses
import functools
import inspect
import re
import sys
import threading
import typing as t

import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from .errors import MigrateError

if t.TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

    from erlen import Erlen

    from .extension import MigrateState

__all__ = ["Database", "resolve_databases", "run_environment"]

_ADAPTED = "__erlen_migrate_adapted__"


@dataclasses.dataclass(eq=False)
class Database:
    """One database erlen-migrate manages."""

    #: The bind key; ``None`` for the default database.
    key: str | None
    #: The metadata autogenerate compares the database with.
    metadata: sa.MetaData
    #: An engine, an async engine, or a URL to create a short-lived engine from.
    bind: t.Any

    @property
    def name(self) -> str:
        """The ``engine_name`` revisions receive: ``""`` for the default database."""
        if self.key is None:
            return ""
        return self.key if self.key.isidentifier() else re.sub(r"\W", "_", self.key)

    @property
    def label(self) -> str:
        """The name used in messages: ``default`` or the bind key."""
        return "default" if self.key is None else self.key

    @property
    def url(self) -> sa.engine.URL:
        """The database URL (with the password), for offline ``--sql`` output."""
        if isinstance(self.bind, (str, sa.engine.URL)):
            return sa.engine.make_url(self.bind)
        return t.cast(sa.engine.URL, self.bind.url)

    def run(self, fn: cabc.Callable[[sa.engine.Connection], None]) -> None:
        """Call ``fn`` with a connection, through ``run_sync`` for async drivers."""
        bind = self.bind
        if _is_async(bind):
            _run_coroutine(functools.partial(_run_async, bind, fn))
            return
        owned = isinstance(bind, (str, sa.engine.URL))
        engine: sa.engine.Engine = (
            sa.create_engine(bind, poolclass=sa.pool.NullPool) if owned else bind
        )
        try:
            with engine.connect() as connection:
                fn(connection)
        finally:
            if owned:
                engine.dispose()


def _is_async(bind: t.Any) -> bool:
    if isinstance(bind, (str, sa.engine.URL)):
        url = sa.engine.make_url(bind)
        return bool(url.get_dialect().is_async)
    if isinstance(bind, sa.engine.Engine):
        return bool(bind.dialect.is_async)
    return True


async def _run_async(
    bind: t.Any, fn: cabc.Callable[[sa.engine.Connection], None]
) -> None:
    from sqlalchemy.ext.asyncio import AsyncEngine
    from sqlalchemy.ext.asyncio import create_async_engine

    engine: AsyncEngine
    if isinstance(bind, AsyncEngine):
        engine, owned = bind, False
    else:
        url = bind.url if isinstance(bind, sa.engine.Engine) else bind
        engine, owned = create_async_engine(url, poolclass=sa.pool.NullPool), True
    try:
        async with engine.connect() as connection:
            await connection.run_sync(fn)
    finally:
        if owned:
            await engine.dispose()


def _run_coroutine(
    factory: cabc.Callable[[], cabc.Coroutine[t.Any, t.Any, None]],
) -> None:
    """Run a coroutine to completion, in a worker thread if a loop already runs here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(factory())
        return
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(factory())
        except BaseException as e:  # re-raised in the calling thread
            errors.append(e)

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(target,))
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


# -- which databases ---------------------------------------------------------------


def _parse_bind(value: str | None, known: cabc.Collection[str | None]) -> str | None:
    """Turn a ``--bind`` value into a bind key: ``""`` and ``default`` name the default."""
    if value is None or value == "":
        return None
    if value == "default" and value not in known:
        return None
    return value


def _source(
    state: MigrateState, app: Erlen
) -> tuple[cabc.Mapping[str | None, sa.MetaData], dict[str | None, t.Any]]:
    """Return the metadata and engines (or URLs) per bind key of the app's ``db``."""
    db = state.db
    if db is None:
        sql_state = app.extensions.get("sqlalchemy")
        if sql_state is None:
            raise MigrateError(
                "No database to migrate. Pass the erlen-sql extension (or a"
                " SQLAlchemy MetaData) to 'Migrate(app, db)', or register"
                " erlen-sql on the app before running migration commands."
            )
        db = sql_state.db
    if isinstance(db, sa.MetaData):
        return {None: db}, _configured_engines(state, app)
    if isinstance(db, cabc.Mapping):
        return db, _configured_engines(state, app)
    metadatas = getattr(db, "metadatas", None)
    engines = getattr(db, "engines", None)
    if metadatas is None or engines is None:
        raise MigrateError(
            f"Cannot migrate {db!r}: 'db' must be the erlen-sql extension (an"
            " object with 'metadatas' and 'engines'), a SQLAlchemy MetaData, or a"
            " dict of bind key to MetaData."
        )
    found: dict[str | None, t.Any] = dict(engines)
    missing = [key for key in metadatas if key not in found]
    if missing and hasattr(db, "async_engines"):
        for key, engine in db.async_engines.items():
            found.setdefault(key, engine)
    return metadatas, found


def _configured_engines(state: MigrateState, app: Erlen) -> dict[str | None, t.Any]:
    """Engines for a plain-metadata ``db``: the ``engines`` option, else the config URLs."""
    option = state.engines
    if option is not None:
        return dict(option() if callable(option) else option)
    found: dict[str | None, t.Any] = {}
    for key, value in (app.config.get("SQLALCHEMY_BINDS") or {}).items():
        found[key] = value["url"] if isinstance(value, cabc.Mapping) else value
    uri = app.config.get("SQLALCHEMY_DATABASE_URI")
    if uri is not None:
        found[None] = uri
    if not found:
        raise MigrateError(
            "No database URL: set 'SQLALCHEMY_DATABASE_URI' (or"
            " 'SQLALCHEMY_BINDS'), or pass 'engines' to Migrate."
        )
    return found


def resolve_databases(
    state: MigrateState,
    app: Erlen,
    config: Config,
    binds: cabc.Iterable[str | None] | None = None,
) -> list[Database]:
    """Return the databases a command manages, default database first.

    In order of precedence: ``binds`` (``--bind``), the ``binds`` option of
    :class:`~erlen_migrate.Migrate`, ``databases`` in the folder's
    ``alembic.ini`` (``*`` for all), else the default database, or every bind
    when there is no default database.
    """
    metadatas, engines = _source(state, app)
    ordered = sorted(engines, key=lambda k: k is not None)
    selected: list[str | None]
    requested = list(binds) if binds else None
    if requested is None and state.binds is not None:
        requested = list(state.binds)
    setting = config.get_main_option("databases")
    if requested is not None:
        selected = [_parse_bind(b, engines) for b in requested]
    elif setting is not None and setting.strip() in ("*", "all"):
        selected = ordered
    elif setting:
        selected = [
            _parse_bind(b, engines) for b in re.split(r"[\s,]+", setting.strip())
        ]
    elif None in engines:
        selected = [None]
    else:
        selected = ordered
    unknown = [k for k in selected if k not in engines]
    if unknown:
        names = ", ".join("default" if k is None else repr(k) for k in unknown)
        known = ", ".join("default" if k is None else repr(k) for k in ordered)
        raise MigrateError(
            f"Unknown database {names}: the app has {known or 'none'}. Set"
            " 'SQLALCHEMY_DATABASE_URI' or add the bind to 'SQLALCHEMY_BINDS'."
        )
    result = []
    for key in dict.fromkeys(selected):
        metadata = metadatas.get(key)
        if metadata is None:
            metadata = sa.MetaData()
        result.append(Database(key=key, metadata=metadata, bind=engines[key]))
    return result


# -- running ------------------------------------------------------------------------


def _accepts_engine_name(fn: cabc.Callable[..., t.Any]) -> bool:
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.name == "engine_name" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


def _default_only(fn: cabc.Callable[[], None]) -> cabc.Callable[..., None]:
    @functools.wraps(fn)
    def run(engine_name: str = "", **kwargs: t.Any) -> None:
        if engine_name == "":
            fn()

    setattr(run, _ADAPTED, True)
    return run


def adapt_revision_modules(script: ScriptDirectory) -> None:
    """Let single-database revisions run with ``engine_name`` (on the default only)."""
    for sc in script.walk_revisions():
        module = sc.module
        for fn_name in ("upgrade", "downgrade"):
            fn = getattr(module, fn_name, None)
            if fn is None or getattr(fn, _ADAPTED, False) or _accepts_engine_name(fn):
                continue
            setattr(module, fn_name, _default_only(fn))


def run_environment(
    env: EnvironmentContext,
    state: MigrateState,
    databases: cabc.Sequence[Database],
    *,
    multidb: bool,
    on_database: cabc.Callable[[Database], None] | None = None,
) -> None:
    """Configure Alembic for each database in turn and run the command's migrations.

    :param env: the entered environment of the command.
    :param state: the app's migrate state (its ``configure_args`` go to Alembic).
    :param databases: the databases to run on.
    :param multidb: render ``<name>_upgrades`` tokens for the revision template.
    :param on_database: called with each database before it is configured.
    """
    adapt_revision_modules(env.script)
    offline = env.is_offline_mode()
    for database in databases:
        if on_database is not None:
            on_database(database)
        options = dict(state.configure_args)
        options["target_metadata"] = database.metadata
        if multidb:
            options.setdefault("upgrade_token", f"{database.name}_upgrades")
            options.setdefault("downgrade_token", f"{database.name}_downgrades")
        if offline:
            if len(databases) > 1:
                buffer = env.config.output_buffer
                line = f"-- Database: {database.label}\n\n"
                (buffer if buffer is not None else sys.stdout).write(line)
            options.setdefault("literal_binds", True)
            options.setdefault("dialect_opts", {"paramstyle": "named"})
            env.configure(url=database.url, **options)
            with env.begin_transaction():
                env.run_migrations(engine_name=database.name)
            continue

        def online(
            connection: sa.engine.Connection,
            options: dict[str, t.Any] = options,
            name: str = database.name,
        ) -> None:
            env.configure(connection=connection, **options)
            with env.begin_transaction():
                env.run_migrations(engine_name=name)

        database.run(online)
