"""The :class:`Migrate` extension: per-app options, the Alembic config, the CLI group."""

from __future__ import annotations

import argparse
import collections.abc as cabc
import configparser
import dataclasses
import os
import shutil
import sys
import typing as t
from pathlib import Path

import alembic.config
import sqlalchemy as sa

from erlen.ext import Extension

from .environment import DatabaseOptions
from .environment import Invocation
from .environment import KEY
from .errors import MigrateError

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
#: Alembic's ``script_location``: the package's ``env.py`` and revision template.
ENVIRONMENT = Path(__file__).parent / "alembic_env"

#: Engines for a ``db`` that is plain metadata: a mapping of bind key (``None``
#: for the default) to an engine, async engine or URL, or a callable returning
#: one, called in the app context.
EnginesOption = (
    cabc.Mapping[str | None, t.Any] | cabc.Callable[[], cabc.Mapping[str | None, t.Any]]
)
ConfigureCallback = cabc.Callable[[alembic.config.Config], alembic.config.Config]
_C = t.TypeVar("_C", bound=ConfigureCallback)
_D = t.TypeVar("_D", bound=DatabaseOptions)


class Config(alembic.config.Config):
    """Alembic's :class:`~alembic.config.Config` with erlen-migrate's templates."""

    def get_template_directory(self) -> str:
        """Return the folder holding the templates ``erlen db init`` can use."""
        return str(TEMPLATES)

    def print_stdout(self, text: str, *arg: t.Any) -> None:
        """Print like Alembic, naming the database when a command runs on several."""
        inv = self.attributes.get(KEY)
        if isinstance(inv, Invocation) and inv.current is not None and inv.multidb:
            label = inv.current.label.replace("%", "%%") if arg else inv.current.label
            text = f"{label}: {text}"
        super().print_stdout(text, *arg)


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
        self.database_options_callbacks: list[DatabaseOptions] = []
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

    def database_options(self, f: _D) -> _D:
        """Register a callback that returns Alembic ``configure`` options per database.

        It is called as ``f(database, connection)`` before each database is
        migrated, compared or read: ``database`` is an
        :class:`~erlen_migrate.Database` (``.key``, ``.label``, ``.metadata``)
        and ``connection`` the connection the command uses (``None`` with
        ``--sql``): settings made with ``SET`` reach the migration. What it returns is added to the options given to
        :class:`Migrate` (``include_object``, ``compare_server_default``,
        ``version_table_schema``, ...).
        """
        self.database_options_callbacks.append(f)
        return f

    def get_config(
        self,
        directory: str | os.PathLike[str] | None = None,
        x_arg: str | cabc.Sequence[str] | None = None,
        opts: cabc.Iterable[str] | None = None,
    ) -> alembic.config.Config:
        """Build the Alembic config for the current app's migrations folder.

        ``script_location`` is erlen-migrate's environment and
        ``version_locations`` the folder's ``versions/``, so every
        ``alembic.command`` function works with it. A folder holding its own
        ``env.py`` (e.g. from Flask-Migrate) is used as the script location
        instead. ``<directory>/alembic.ini`` is read when it exists.

        :param directory: the migrations folder; the app's by default.
        :param x_arg: values of ``-x``, read with ``context.get_x_argument()``.
        :param opts: names set to ``True`` on ``config.cmd_opts``.
        """
        from erlen.ext import get_app

        state = self.state
        folder = os.fspath(directory) if directory is not None else state.directory
        ini = os.path.join(folder, "alembic.ini")
        config = Config(ini, stdout=sys.stdout)
        try:
            _set_locations(config, folder)
        except configparser.Error as e:
            reason = " ".join(str(e).split())
            raise MigrateError(
                f"Cannot read {ini}: {reason}. Fix the file (each section and"
                " option once), or delete it to use the defaults."
            ) from None
        if isinstance(x_arg, str):
            x_arg = [x_arg]
        namespace = argparse.Namespace(x=list(x_arg or []))
        for opt in opts or ():
            setattr(namespace, opt, True)
        config.cmd_opts = namespace
        config.attributes[KEY] = Invocation(
            state=state, app=get_app(), config=config, folder=folder
        )
        return self.call_configure_callbacks(config)


def _set_locations(config: Config, folder: str) -> None:
    """Point Alembic at erlen-migrate's environment and the folder's revisions."""
    if os.path.isfile(os.path.join(folder, "env.py")):
        config.set_main_option("script_location", _escape(folder))
        return
    config.set_main_option("script_location", _escape(str(ENVIRONMENT)))
    separator = config.get_main_option("path_separator") or config.get_main_option(
        "version_path_separator"
    )
    if separator is None:
        # "path_separator" since Alembic 1.16, "version_path_separator" before.
        new = hasattr(alembic.config.Config, "get_alembic_option")
        name = "path_separator" if new else "version_path_separator"
        config.set_main_option(name, "os")
    if config.get_main_option("version_locations") is None:
        versions = os.path.join(os.path.abspath(folder), "versions")
        config.set_main_option("version_locations", _escape(versions))
    ruff = shutil.which("ruff")
    if ruff is not None and not config.file_config.has_section("post_write_hooks"):
        section = "post_write_hooks"
        config.set_section_option(section, "hooks", "erlen_ruff")
        config.set_section_option(section, "erlen_ruff.type", "exec")
        config.set_section_option(section, "erlen_ruff.executable", _escape(ruff))
        config.set_section_option(
            section, "erlen_ruff.options", "format --quiet REVISION_SCRIPT_FILENAME"
        )


def _escape(value: str) -> str:
    """Protect ``%`` from the interpolation of Alembic's config parser."""
    return value.replace("%", "%%")
