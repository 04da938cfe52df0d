"""The ``erlen db`` command group: Flask-Migrate's commands and options, plus ``--bind``."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import dataclasses
import logging
import os
import re
import socket
import traceback
import typing as t

import alembic
import click
import sqlalchemy.exc as sa_exc

from erlen.cli import AppGroup

from . import commands
from .errors import CommandError

__all__ = ["make_group"]

_META = "erlen_migrate.group_options"


@dataclasses.dataclass
class _GroupOptions:
    directory: str | None
    x_arg: tuple[str, ...]
    binds: tuple[str, ...]


class _EchoHandler(logging.Handler):
    """Write Alembic's progress messages to the current stderr, like ``alembic`` does."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("alembic.runtime.plugins")

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@contextlib.contextmanager
def _alembic_logging() -> cabc.Iterator[None]:
    """Show Alembic's INFO messages unless the app configured logging itself."""
    logger = logging.getLogger("alembic")
    handlers = [*logger.handlers, *logging.getLogger().handlers]
    if any(not isinstance(h, logging.NullHandler) for h in handlers):
        yield
        return
    handler = _EchoHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _options(
    directory: str | None = None,
    x_arg: cabc.Sequence[str] = (),
    binds: cabc.Sequence[str] = (),
) -> tuple[str | None, list[str], list[str] | None]:
    """Merge a command's options with the group's: the command's win, ``-x`` adds up."""
    group = click.get_current_context().meta.get(_META) or _GroupOptions(None, (), ())
    return (
        directory or group.directory,
        [*group.x_arg, *x_arg],
        list(binds or group.binds) or None,
    )


def _run(fn: cabc.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any) -> t.Any:
    """Call an API function; its errors become a clean ``Error: ...`` and exit code 1.

    A database error says whether the connection failed (no statement was
    running) or the database rejected a statement; the original exception is
    kept as ``__cause__``.
    """
    with _alembic_logging():
        try:
            return fn(*args, **kwargs)
        except CommandError as e:
            raise click.ClickException(str(e)) from None
        except sa_exc.NoSuchTableError as e:  # batch mode reflects the table
            frame = _revision_frame(e)
            if frame is None:
                raise
            raise _missing_table_error(e, frame, str(e)) from e
        except sa_exc.DBAPIError as e:
            where = _database_of(e)
            if e.statement is None or e.connection_invalidated:
                raise _cannot_connect(e.orig, where) from e
            frame = _revision_frame(e)
            table = _missing_table(e)
            if frame is not None and table is not None:
                raise _missing_table_error(e, frame, table) from e
            statement = " ".join(str(e.statement).split())
            if len(statement) > 300:
                statement = statement[:297] + "..."
            raise click.ClickException(
                f"The database{where} rejected a statement: {e.orig}\n"
                f"  Statement: {statement}"
            ) from e
        except (ConnectionError, TimeoutError, socket.gaierror) as e:
            # asyncpg raises the socket's error itself, not a DBAPIError.
            raise _cannot_connect(e, _database_of(e)) from e
        except OSError as e:
            if not str(e).startswith("Multiple exceptions"):
                raise
            raise _cannot_connect(e, _database_of(e)) from e  # asyncpg, several hosts
        except SyntaxError as e:  # a revision file that does not compile
            raise click.ClickException(
                f"Cannot load the revision file {e.filename}: {e.msg} (line"
                f" {e.lineno}). Fix the file."
            ) from e
        except ModuleNotFoundError as e:
            raise click.ClickException(
                f"Cannot import {e.name!r}: {e}. If it is a database driver,"
                " install it (the URL's '+driver' part names it), e.g."
                " 'pip install asyncpg'."
            ) from e
        except ImportError as e:
            # e.g. "cannot import name" in a revision: the message says it all.
            raise click.ClickException(" ".join(str(e).split())) from e
        except Exception as e:
            frame = _revision_frame(e)
            if frame is None:
                raise  # not from a revision: a bug to see in full
            reason = " ".join(f"{type(e).__name__}: {e}".split())
            raise click.ClickException(
                f"The migration{_database_of(e)} failed in {frame.filename}, line"
                f" {frame.lineno} ({frame.name}): {reason}"
            ) from e


#: How databases say a table is missing: SQLite, PostgreSQL, MySQL/MariaDB.
_MISSING_TABLE = re.compile(
    r"no such table: (?P<a>[^\s]+)|relation \"(?P<b>[^\"]+)\" does not exist"
    r"|Table '(?:[^'.]+\.)?(?P<c>[^']+)' doesn't exist"
)


def _missing_table(error: sa_exc.DBAPIError) -> str | None:
    """The table named by a "table does not exist" error of a DDL statement."""
    statement = str(error.statement or "").lstrip().upper()
    if not statement.startswith(("ALTER", "DROP", "CREATE INDEX", "CREATE UNIQUE")):
        return None
    found = _MISSING_TABLE.search(str(error.orig))
    return None if found is None else next(g for g in found.groups() if g)


def _missing_table_error(
    error: BaseException, frame: traceback.FrameSummary, table: str
) -> click.ClickException:
    """One line for a revision that alters a table no earlier revision created."""
    where = (
        f"The migration{_database_of(error)} failed in {frame.filename}, line"
        f" {frame.lineno} ({frame.name}): the table {table!r} does not exist yet."
    )
    prefix = commands._command_prefix()
    if _down_revision(error, frame.filename) is None:
        return click.ClickException(
            f"{where} This first revision changes a table that no revision"
            " creates: it was probably generated against a database made by"
            " 'db.create_all()'. Remove 'db.create_all()', delete this revision,"
            f" and run '{prefix} migrate' on an empty database so that the first"
            " revision creates the tables."
        )
    return click.ClickException(
        f"{where} No revision applied before this one creates it; check the"
        f" revision's 'down_revision' and '{prefix} history'."
    )


def _down_revision(error: BaseException, filename: str) -> object:
    """The ``down_revision`` of the revision file ``filename`` in the traceback."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            return tb.tb_frame.f_globals.get("down_revision", "")
        tb = tb.tb_next
    return ""


def _revision_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of a revision's ``upgrade``/``downgrade`` in the traceback."""
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.name.startswith(("upgrade", "downgrade")) and not any(
            frame.filename.startswith(p) for p in _LIBRARIES
        ):
            found = frame
    return found


#: Folders of the code that calls revisions, whose frames are not the revision's.
_LIBRARIES = tuple(
    os.path.dirname(path) + os.sep for path in (alembic.__file__ or "", __file__)
)


def _database_of(error: BaseException) -> str:
    """`` 'audit'`` when the error happened on one of several databases."""
    label = getattr(error, "erlen_migrate_database", None)
    return f" {label!r}" if label else ""


def _cannot_connect(reason: object, where: str) -> click.ClickException:
    text = " ".join(str(reason).split()) or type(reason).__name__
    end = "" if text.endswith((".", "?", "!")) else "."
    return click.ClickException(
        f"Cannot connect to the database{where}: {text}{end} Check the database"
        " URL and that the server is running."
    )


_directory = click.option(
    "-d",
    "--directory",
    default=None,
    help="Migrations folder (default: the one given to Migrate, 'migrations').",
)
_x_arg = click.option(
    "-x",
    "--x-arg",
    multiple=True,
    help="Extra argument for the migration environment; repeatable.",
)
_bind = click.option(
    "--bind",
    "binds",
    multiple=True,
    help="Run on this database only: a bind key, or 'default'; repeatable.",
)
_sql = click.option(
    "--sql", is_flag=True, help="Print the SQL instead of running it (offline mode)."
)
_tag = click.option(
    "--tag", default=None, help="Arbitrary 'tag' name for custom environments."
)
_verbose = click.option("-v", "--verbose", is_flag=True, help="Show more details.")


def _revision_options(f: cabc.Callable[..., t.Any]) -> cabc.Callable[..., t.Any]:
    options = [
        _directory,
        click.option("-m", "--message", default=None, help="Revision message."),
        _sql,
        click.option(
            "--head",
            default="head",
            help="Revision the new one is based on (default: head).",
        ),
        click.option(
            "--splice",
            is_flag=True,
            help="Allow a non-head revision as the '--head' (starts a branch).",
        ),
        click.option(
            "--branch-label", default=None, help="Branch label for the new revision."
        ),
        click.option(
            "--version-path",
            default=None,
            help="Folder for the new revision file, one of the version locations.",
        ),
        click.option(
            "--rev-id", default=None, help="Revision id instead of a generated one."
        ),
        _x_arg,
        _bind,
        click.option(
            "--allow-drop-all",
            is_flag=True,
            help="Write the revision even if it drops every table of a database.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def make_group(name: str = "db") -> click.Group:
    """Build the command group registered as ``erlen <name>``.

    The group's ``-d/--directory`` also reads ``ERLEN_<NAME>_DIRECTORY``.
    """
    envvar = f"ERLEN_{name.upper().replace('-', '_')}_DIRECTORY"

    @click.group(name=name, cls=AppGroup)
    @click.option(
        "-d",
        "--directory",
        default=None,
        envvar=envvar,
        show_envvar=True,
        help="Migrations folder (default: the one given to Migrate, 'migrations').",
    )
    @_x_arg
    @_bind
    @click.pass_context
    def group(
        ctx: click.Context,
        directory: str | None,
        x_arg: tuple[str, ...],
        binds: tuple[str, ...],
    ) -> None:
        """Database migrations with Alembic (erlen-migrate).

        In CI, 'upgrade' then 'check' fails when a model change has no
        revision; 'current --check-heads' fails when the database is behind.
        """
        ctx.meta[_META] = _GroupOptions(directory, x_arg, binds)

    assert isinstance(group, AppGroup)

    @group.command("list-templates")
    def list_templates() -> None:
        """List the templates 'init' can use."""
        _run(commands.list_templates)

    @group.command()
    @_directory
    @click.option(
        "--multidb", is_flag=True, help="Manage every database (each bind) of the app."
    )
    @click.option(
        "-t", "--template", default=None, help="Template name or template folder."
    )
    @click.option(
        "--package", is_flag=True, help="Write __init__.py files in the new folders."
    )
    def init(
        directory: str | None, multidb: bool, template: str | None, package: bool
    ) -> None:
        """Create a migrations folder."""
        folder, _, _ = _options(directory)
        _run(commands.init, folder, multidb, template, package)

    @group.command()
    @_revision_options
    @click.option(
        "--autogenerate",
        is_flag=True,
        help="Fill the revision with the differences between models and database.",
    )
    def revision(
        directory: str | None,
        message: str | None,
        sql: bool,
        head: str,
        splice: bool,
        branch_label: str | None,
        version_path: str | None,
        rev_id: str | None,
        x_arg: tuple[str, ...],
        binds: tuple[str, ...],
        allow_drop_all: bool,
        autogenerate: bool,
    ) -> None:
        """Create a new revision file."""
        folder, xs, keys = _options(directory, x_arg, binds)
        _run(
            commands.revision,
            folder,
            message,
            autogenerate,
            sql,
            head,
            splice,
            branch_label,
            version_path,
            rev_id,
            x_arg=xs,
            binds=keys,
            allow_drop_all=allow_drop_all,
        )

    @group.command()
    @_revision_options
    def migrate(
        directory: str | None,
        message: str | None,
        sql: bool,
        head: str,
        splice: bool,
        branch_label: str | None,
        version_path: str | None,
        rev_id: str | None,
        x_arg: tuple[str, ...],
        binds: tuple[str, ...],
        allow_drop_all: bool,
    ) -> None:
        """Autogenerate a revision from the model changes ('revision --autogenerate')."""
        folder, xs, keys = _options(directory, x_arg, binds)
        _run(
            commands.migrate,
            folder,
            message,
            sql,
            head,
            splice,
            branch_label,
            version_path,
            rev_id,
            xs,
            binds=keys,
            allow_drop_all=allow_drop_all,
        )

    @group.command()
    @_directory
    @click.argument("revision", default="head")
    def edit(directory: str | None, revision: str) -> None:
        """Open a revision file in $EDITOR."""
        folder, _, _ = _options(directory)
        _run(commands.edit, folder, revision)

    @group.command()
    @_directory
    @click.option("-m", "--message", default=None, help="Merge revision message.")
    @click.option(
        "--branch-label", default=None, help="Branch label for the merge revision."
    )
    @click.option(
        "--rev-id", default=None, help="Revision id instead of a generated one."
    )
    @click.argument("revisions", nargs=-1)
    def merge(
        directory: str | None,
        message: str | None,
        branch_label: str | None,
        rev_id: str | None,
        revisions: tuple[str, ...],
    ) -> None:
        """Join revisions (every head by default) with a merge revision."""
        folder, _, _ = _options(directory)
        _run(
            commands.merge,
            folder,
            list(revisions) or "heads",
            message,
            branch_label,
            rev_id,
        )

    @group.command()
    @_directory
    @_sql
    @_tag
    @_x_arg
    @_bind
    @click.argument("revision", default="head")
    def upgrade(
        directory: str | None,
        sql: bool,
        tag: str | None,
        x_arg: tuple[str, ...],
        binds: tuple[str, ...],
        revision: str,
    ) -> None:
        """Upgrade the database(s) to a later revision (default: head)."""
        folder, xs, keys = _options(directory, x_arg, binds)
        _run(commands.upgrade, folder, revision, sql, tag, xs, binds=keys)

    @group.command()
    @_directory
    @_sql
    @_tag
    @_x_arg
    @_bind
    @click.argument("revision", default="-1")
    def downgrade(
        directory: str | None,
        sql: bool,
        tag: str | None,
        x_arg: tuple[str, ...],
        binds: tuple[str, ...],
        revision: str,
    ) -> None:
        """Revert the database(s) to an earlier revision (default: one step)."""
        folder, xs, keys = _options(directory, x_arg, binds)
        _run(commands.downgrade, folder, revision, sql, tag, xs, binds=keys)

    @group.command()
    @_directory
    @click.argument("revision", default="head")
    def show(directory: str | None, revision: str) -> None:
        """Show a revision (default: head; 'current' for the applied ones)."""
        folder, _, _ = _options(directory)
        _run(commands.show, folder, revision)

    @group.command()
    @_directory
    @click.option(
        "-r", "--rev-range", default=None, help="Range to show: [start]:[end]."
    )
    @_verbose
    @click.option(
        "-i",
        "--indicate-current",
        is_flag=True,
        help="Mark the revisions the database is at.",
    )
    def history(
        directory: str | None,
        rev_range: str | None,
        verbose: bool,
        indicate_current: bool,
    ) -> None:
        """List the revisions, newest first."""
        folder, _, _ = _options(directory)
        _run(commands.history, folder, rev_range, verbose, indicate_current)

    @group.command()
    @_directory
    @_verbose
    @click.option(
        "--resolve-dependencies",
        is_flag=True,
        help="Treat 'depends_on' revisions as parents.",
    )
    def heads(directory: str | None, verbose: bool, resolve_dependencies: bool) -> None:
        """Show the head revisions."""
        folder, _, _ = _options(directory)
        _run(commands.heads, folder, verbose, resolve_dependencies)

    @group.command()
    @_directory
    @_verbose
    def branches(directory: str | None, verbose: bool) -> None:
        """Show the revisions where the history branches."""
        folder, _, _ = _options(directory)
        _run(commands.branches, folder, verbose)

    @group.command()
    @_directory
    @_verbose
    @click.option(
        "--check-heads",
        is_flag=True,
        help="Exit with code 1 unless every database is at the head revision(s).",
    )
    @_bind
    def current(
        directory: str | None,
        verbose: bool,
        check_heads: bool,
        binds: tuple[str, ...],
    ) -> None:
        """Show the revision(s) each database is at."""
        folder, _, keys = _options(directory, binds=binds)
        _run(commands.current, folder, verbose, check_heads, binds=keys)

    @group.command()
    @_directory
    @_sql
    @_tag
    @click.option(
        "--purge", is_flag=True, help="Empty the version table before stamping."
    )
    @_bind
    @click.argument("revision", default="head")
    def stamp(
        directory: str | None,
        sql: bool,
        tag: str | None,
        purge: bool,
        binds: tuple[str, ...],
        revision: str,
    ) -> None:
        """Record a revision as applied without running migrations."""
        folder, _, keys = _options(directory, binds=binds)
        _run(commands.stamp, folder, revision, sql, tag, purge, binds=keys)

    @group.command()
    @_directory
    @_x_arg
    @_bind
    def check(
        directory: str | None, x_arg: tuple[str, ...], binds: tuple[str, ...]
    ) -> None:
        """Exit with code 1 if the database is behind or the models changed.

        Run it in CI after 'upgrade': it fails when a model change has no
        revision yet.
        """
        folder, xs, keys = _options(directory, x_arg, binds)
        _run(commands.check, folder, x_arg=xs, binds=keys)

    return group
