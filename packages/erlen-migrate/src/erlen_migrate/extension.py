"""The :class:`Migrate` extension: per-app options, the Alembic config, the CLI group."""

from __future__ import annotations

import argparse
import collections.abc as cabc
import dataclasses
import os
import sys
import typing as t
from pathlib import Path

import alembic.config
import sqlalchemy as sa

from erlen.ext import Extension

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

__all__ = ["NAMING_CONVENTION", "Config", "Migrate", "MigrateState"]

#: A constraint naming convention that makes every constraint droppable by name,
#: which SQLite's batch mode needs. Give it to the metadata before models exist:
#: ``SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))``.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TEMPLATES = Path(__file__).parent / "templates"

#: Engines for a ``db`` that is plain metadata: a mapping of bind key (``None``
#: for the default) to an engine, async engine or URL, or a callable returning
#: one, called in the app context.
EnginesOption = (
    cabc.Mapping[str | None, t.Any] | cabc.Callable[[], cabc.Mapping[str | None, t.Any]]
)
ConfigureCallback = cabc.Callable[[alembic.config.Config], alembic.config.Config]
_C = t.TypeVar("_C", bound=ConfigureCallback)


class Config(alembic.config.Config):
    """Alembic's :class:`~alembic.config.Config` with erlen-migrate's templates."""

    def get_template_directory(self) -> str:
        """Return the folder holding the templates ``erlen db init`` can use."""
        return str(TEMPLATES)


@dataclasses.dataclass(eq=False)
class MigrateState:
    """What one app's ``app.extensions["migrate"]`` holds."""

    #: The extension object.
    migrate: Migrate
    #: The erlen-sql extension, a :class:`~sqlalchemy.MetaData`, a mapping of
    #: bind key to metadata, or ``None`` for the app's erlen-sql extension.
    db: t.Any
    #: The migrations folder, relative to the working directory unless absolute.
    directory: str
    #: Name of the CLI group (``erlen db``).
    command: str
    #: Keyword arguments for Alembic's ``EnvironmentContext.configure``.
    configure_args: dict[str, t.Any]
    #: Bind keys to manage (``None`` is the default database); ``None`` for the
    #: folder's ``databases`` setting or the defaults described in the docs.
    binds: tuple[str | None, ...] | None = None
    #: Engines when :attr:`db` is plain metadata; see :data:`EnginesOption`.
    engines: EnginesOption | None = None

    @property
    def metadata(self) -> sa.MetaData | None:
        """The default database's metadata, as Flask-Migrate's config holder offers."""
        db = self.db
        if isinstance(db, sa.MetaData):
            return db
        if isinstance(db, cabc.Mapping):
            return t.cast("sa.MetaData | None", db.get(None))
        metadatas = getattr(db, "metadatas", None)
        if metadatas is not None:
            return t.cast("sa.MetaData | None", metadatas.get(None))
        return t.cast("sa.MetaData | None", getattr(db, "metadata", None))


class Migrate(Extension[MigrateState]):
    """Alembic migrations for an erlen app, driven by ``erlen db ...`` or Python.

    .. code-block:: python

        db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
        migrate = Migrate()

        def create_app():
            app = Erlen(__name__)
            db.init_app(app)
            migrate.init_app(app, db)
            return app

    There is no ``env.py``: the migration environment is part of this package,
    so a migrations folder created today keeps working after upgrades.

    :param app: call :meth:`init_app` on it right away.
    :param db: the erlen-sql extension (or any object with ``metadatas`` and
        ``engines``), a :class:`~sqlalchemy.MetaData`, or a mapping of bind key
        to metadata. ``None`` uses the app's erlen-sql extension.
    :param directory: the migrations folder.
    :param command: the name of the CLI group.
    :param compare_type: let autogenerate detect column type changes.
    :param render_as_batch: write ``batch_alter_table`` blocks, which SQLite
        needs to alter tables and other databases run as plain ``ALTER``.
    :param binds: bind keys to manage (``None`` for the default database).
    :param engines: engines for a ``db`` given as metadata; see
        :data:`EnginesOption`. Without it, ``SQLALCHEMY_DATABASE_URI`` and
        ``SQLALCHEMY_BINDS`` are used.
    :param alembic_context_kwargs: passed to Alembic's
        ``EnvironmentContext.configure``, e.g. ``include_object``,
        ``compare_server_default`` or ``process_revision_directives``.
    """

    name = "migrate"

    def __init__(
        self,
        app: Erlen | None = None,
        db: t.Any = None,
        directory: str | os.PathLike[str] = "migrations",
        command: str = "db",
        compare_type: bool = True,
        render_as_batch: bool = True,
        *,
        binds: cabc.Iterable[str | None] | None = None,
        engines: EnginesOption | None = None,
        **alembic_context_kwargs: t.Any,
    ) -> None:
        self.configure_callbacks: list[ConfigureCallback] = []
        self.db = db
        self.directory = os.fspath(directory)
        self.command = command
        self.binds = None if binds is None else tuple(binds)
        self.engines = engines
        self.alembic_ctx_kwargs: dict[str, t.Any] = {
            "compare_type": compare_type,
            "render_as_batch": render_as_batch,
            **alembic_context_kwargs,
        }
        self._pending: MigrateState | None = None
        super().__init__()
        if app is not None:
            self.init_app(app, db)

    def init_app(
        self,
        app: Erlen,
        db: t.Any = None,
        directory: str | os.PathLike[str] | None = None,
        command: str | None = None,
        compare_type: bool | None = None,
        render_as_batch: bool | None = None,
        *,
        binds: cabc.Iterable[str | None] | None = None,
        engines: EnginesOption | None = None,
        **kwargs: t.Any,
    ) -> None:
        """Register on ``app`` and add the CLI group; arguments override the constructor's.

        ``db`` may be given here or later (before the first command runs) by
        setting ``app.extensions["migrate"].db``.
        """
        configure_args = dict(self.alembic_ctx_kwargs)
        if compare_type is not None:
            configure_args["compare_type"] = compare_type
        if render_as_batch is not None:
            configure_args["render_as_batch"] = render_as_batch
        configure_args.update(kwargs)
        self._pending = MigrateState(
            migrate=self,
            db=db if db is not None else self.db,
            directory=os.fspath(directory) if directory is not None else self.directory,
            command=command or self.command,
            configure_args=configure_args,
            binds=tuple(binds) if binds is not None else self.binds,
            engines=engines if engines is not None else self.engines,
        )
        try:
            super().init_app(app)
        finally:
            self._pending = None

    def create_state(self, app: Erlen) -> MigrateState:
        """Return the state :meth:`init_app` prepared for ``app``."""
        assert self._pending is not None, "use Migrate.init_app"
        return self._pending

    def setup_app(self, app: Erlen, state: MigrateState) -> None:
        """Add the ``erlen db`` group (named by ``command``) to ``app.cli``."""
        from .cli import make_group

        app.cli.add_command(make_group(state.command))

    def configure(self, f: _C) -> _C:
        """Register a callback that receives the Alembic config and returns it.

        Callbacks run, in registration order, every time :meth:`get_config`
        builds a config.
        """
        self.configure_callbacks.append(f)
        return f

    def call_configure_callbacks(
        self, config: alembic.config.Config
    ) -> alembic.config.Config:
        """Run the :meth:`configure` callbacks on ``config`` and return the result."""
        for callback in self.configure_callbacks:
            config = callback(config)
        return config

    def get_config(
        self,
        directory: str | os.PathLike[str] | None = None,
        x_arg: str | cabc.Sequence[str] | None = None,
        opts: cabc.Iterable[str] | None = None,
    ) -> alembic.config.Config:
        """Build the Alembic config for the current app's migrations folder.

        ``<directory>/alembic.ini`` is read when it exists (it is optional).

        :param directory: the migrations folder; the app's by default.
        :param x_arg: values of ``-x``, read with ``context.get_x_argument()``.
        :param opts: names set to ``True`` on ``config.cmd_opts``.
        """
        state = self.state
        folder = os.fspath(directory) if directory is not None else state.directory
        ini = os.path.join(folder, "alembic.ini")
        config = Config(ini if os.path.isfile(ini) else None, stdout=sys.stdout)
        config.set_main_option("script_location", folder)
        if isinstance(x_arg, str):
            x_arg = [x_arg]
        namespace = argparse.Namespace(x=list(x_arg or []))
        for opt in opts or ():
            setattr(namespace, opt, True)
        config.cmd_opts = namespace
        return self.call_configure_callbacks(config)
