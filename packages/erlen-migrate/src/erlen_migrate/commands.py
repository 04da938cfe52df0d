"""Python functions for every ``erlen db`` command; they raise instead of exiting.

Call them inside an app context, e.g. to upgrade at start-up:

.. code-block:: python

    with app.app_context():
        erlen_migrate.upgrade()

Errors raise :class:`~erlen_migrate.MigrateError` (or Alembic's
:class:`~alembic.util.CommandError`, its base) with the message the CLI would
print; nothing calls ``sys.exit``.
"""

from __future__ import annotations

import collections.abc as cabc
import functools
import os
import shutil
import sys
import typing as t
from pathlib import Path

import sqlalchemy as sa
from alembic import autogenerate as autogen
from alembic import util as alembic_util
from alembic.runtime.environment import EnvironmentContext
from alembic.script import Script
from alembic.script import ScriptDirectory

from erlen.ext import get_app

from .environment import Database
from .environment import resolve_databases
from .environment import run_environment
from .errors import CommandError
from .errors import DatabaseBehindError
from .errors import MigrateError
from .errors import SchemaChangedError
from .extension import Config
from .extension import TEMPLATES

if t.TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config as AlembicConfig
    from alembic.runtime.migration import MigrationContext

    from .extension import MigrateState

__all__ = [
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "migrate",
    "revision",
    "show",
    "stamp",
    "upgrade",
]

_F = t.TypeVar("_F", bound=cabc.Callable[..., t.Any])
Binds = cabc.Iterable[str | None] | None
XArg = str | cabc.Sequence[str] | None

#: Template names of Flask-Migrate, accepted by ``init --template``.
_TEMPLATE_ALIASES = {
    "flask": "erlen",
    "aioflask": "erlen",
    "flask-multidb": "erlen-multidb",
    "aioflask-multidb": "erlen-multidb",
}


def _command_prefix() -> str:
    """``erlen db`` with the group name the current app uses."""
    try:
        state = get_app().extensions.get("migrate")
    except RuntimeError:
        state = None
    return f"erlen {getattr(state, 'command', 'db')}"


def _hints(f: _F) -> _F:
    """Raise Alembic's errors as :class:`MigrateError`, with what to do next where useful."""

    @functools.wraps(f)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return f(*args, **kwargs)
        except MigrateError:
            raise
        except CommandError as e:
            message = str(e)
            if "Multiple head" in message or "multiple heads" in message.lower():
                raise MigrateError(
                    f"{message.rstrip('.')}. The migrations have branched; run"
                    f" '{_command_prefix()} merge heads' to join them into one head."
                ) from e
            raise MigrateError(message) from e

    return t.cast(_F, wrapper)


class _Runner:
    """What one command needs: the app's state, the Alembic config, the databases."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None,
        x_arg: XArg = None,
        opts: cabc.Iterable[str] | None = None,
        binds: Binds = None,
    ) -> None:
        self.app = get_app(purpose="run a migration command")
        state = self.app.extensions.get("migrate")
        if state is None:
            raise MigrateError(
                f"The 'migrate' extension is not registered on the app"
                f" {self.app.name!r}. Call 'Migrate(app, db)' or"
                " 'migrate.init_app(app, db)' first."
            )
        self.state: MigrateState = state
        self.prefix = f"erlen {state.command}"
        self.config: AlembicConfig = state.migrate.get_config(directory, x_arg, opts)
        self.folder = str(self.config.get_main_option("script_location"))
        self.binds = list(binds) if binds else None
        self._databases: list[Database] | None = None
        #: The database the environment is configuring right now.
        self.current: Database | None = None

    def script(self, writing: bool = False) -> ScriptDirectory:
        """Return the migrations folder, with a clear error when it is missing.

        :param writing: a revision will be written: create ``versions/`` when
            it is missing (and no ``version_locations`` are configured). Other
            commands leave the folder as it is.
        """
        if not os.path.isdir(self.folder):
            raise MigrateError(
                f"No migrations folder at {self.folder!r}. Run '{self.prefix} init'"
                " to create it, or point to it with '-d/--directory' (or the"
                f" ERLEN_{self.state.command.upper()}_DIRECTORY environment"
                " variable)."
            )
        versions = os.path.join(self.folder, "versions")
        if writing and self.config.get_main_option("version_locations") is None:
            os.makedirs(versions, exist_ok=True)
        return ScriptDirectory.from_config(self.config)

    def databases(self) -> list[Database]:
        if self._databases is None:
            self._databases = resolve_databases(
                self.state, self.app, self.config, self.binds
            )
        return self._databases

    def is_multidb(self) -> bool:
        return [d.key for d in self.databases()] != [None]

    def template_args(self, soft: bool = False) -> dict[str, t.Any]:
        """Arguments the revision template uses to render one or many databases."""
        try:
            databases = self.databases()
        except MigrateError:
            if not soft:
                raise
            return {"multidb": False, "database_names": [""]}
        return {
            "multidb": self.is_multidb(),
            "database_names": [d.name for d in databases],
        }

    def run(
        self,
        script: ScriptDirectory,
        fn: cabc.Callable[[t.Any, MigrationContext], t.Any],
        **env_options: t.Any,
    ) -> None:
        """Run ``fn`` once per database inside Alembic's environment."""
        databases = self.databases()
        multidb = self.is_multidb()
        with EnvironmentContext(self.config, script, fn=fn, **env_options) as env:
            run_environment(
                env,
                self.state,
                databases,
                multidb=multidb,
                on_database=self._set_current,
            )

    def _set_current(self, database: Database) -> None:
        self.current = database

    def current_heads(self, script: ScriptDirectory) -> dict[Database, tuple[str, ...]]:
        """Read the applied revisions of every database without changing anything."""
        found: dict[Database, tuple[str, ...]] = {}

        def read(rev: t.Any, context: MigrationContext) -> list[t.Any]:
            assert self.current is not None
            found[self.current] = tuple(context.get_current_heads())
            return []

        self.run(script, read, dont_mutate=True)
        return found

    def print(self, text: str, *args: t.Any) -> None:
        self.config.print_stdout(text, *args)

    def label(self, database: Database, text: str) -> str:
        """Prefix ``text`` with the database name when several are managed."""
        if self.is_multidb():
            return f"{database.label}: {text}"
        return text

    def behind(self, script: ScriptDirectory, heads: tuple[str, ...]) -> int:
        """Count the revisions a database at ``heads`` has not applied."""
        return len(script._upgrade_revs("heads", heads))  # type: ignore[arg-type]

    def behind_error(
        self, behind: dict[str, int], before: str = ""
    ) -> DatabaseBehindError:
        parts = [
            f"{name!r} is {count} revision{'s' if count != 1 else ''} behind"
            for name, count in behind.items()
        ]
        database = "database" if len(parts) == 1 else "databases"
        return DatabaseBehindError(
            f"The {database} {', '.join(parts)} the migrations folder."
            f" Run '{self.prefix} upgrade'{before}.",
            behind,
        )


def _ensure_up_to_date(runner: _Runner, script: ScriptDirectory) -> None:
    """Raise :class:`DatabaseBehindError` unless every database is at the heads."""
    behind: dict[str, int] = {}
    for database, heads in runner.current_heads(script).items():
        count = runner.behind(script, heads)
        if count:
            behind[database.label] = count
    if behind:
        raise runner.behind_error(behind, " first")


# -- folder and templates -----------------------------------------------------------


def list_templates() -> None:
    """Print the templates ``init --template`` accepts, with their descriptions."""
    config = Config(stdout=sys.stdout)
    config.print_stdout("Available templates:\n")
    for folder in sorted(TEMPLATES.iterdir()):
        readme = folder / "README"
        synopsis = readme.read_text().splitlines()[0] if readme.exists() else ""
        config.print_stdout("%s - %s", folder.name, synopsis)
    config.print_stdout(
        "\nUse one with 'erlen db init --template NAME' (or pass the path of a"
        " folder holding your own script.py.mako)."
    )


@_hints
def init(
    directory: str | os.PathLike[str] | None = None,
    multidb: bool = False,
    template: str | None = None,
    package: bool = False,
) -> None:
    """Create the migrations folder: ``script.py.mako``, ``versions/``, a README.

    :param multidb: manage every database of erlen-sql (writes an ``alembic.ini``
        with ``databases = *``).
    :param template: a template name from :func:`list_templates` (Flask-Migrate's
        names are accepted) or the path of a folder to copy.
    :param package: write ``__init__.py`` files so the folder is a package.
    """
    runner = _Runner(directory)
    source = _template_folder(template, multidb, runner.prefix)
    target = Path(runner.folder)
    if target.exists() and any(target.iterdir()):
        raise MigrateError(
            f"The folder {runner.folder!r} already exists and is not empty. Remove"
            " it, or choose another one with '-d/--directory'."
        )
    runner.print("Creating directory %s ...  done", os.path.abspath(target))
    target.mkdir(parents=True, exist_ok=True)
    versions = target / "versions"
    runner.print("Creating directory %s ...  done", os.path.abspath(versions))
    versions.mkdir(exist_ok=True)
    for item in sorted(source.iterdir()):
        if item.name in ("env.py", "__pycache__") or item.name.endswith(".pyc"):
            continue
        destination = target / item.name
        runner.print("Generating %s ...  done", os.path.abspath(destination))
        if item.is_dir():
            shutil.copytree(item, destination)
        else:
            shutil.copyfile(item, destination)
    if (source / "env.py").exists():
        runner.print(
            "Skipped env.py: erlen-migrate runs the migration environment itself."
        )
    if package:
        for folder in (target, versions):
            path = folder / "__init__.py"
            runner.print("Generating %s ...  done", os.path.abspath(path))
            path.write_text("")
    runner.print(
        "\nThe migrations folder is ready. Change your models, then run"
        f" '{runner.prefix} migrate -m \"message\"' to write the first revision."
    )
    _naming_hint(runner)


def _template_folder(template: str | None, multidb: bool, prefix: str) -> Path:
    if template is None:
        template = "erlen-multidb" if multidb else "erlen"
    template = _TEMPLATE_ALIASES.get(template, template)
    named = TEMPLATES / template
    if named.is_dir():
        return named
    custom = Path(template)
    if custom.is_dir():
        return custom
    names = ", ".join(sorted(p.name for p in TEMPLATES.iterdir()))
    raise MigrateError(
        f"No template named {template!r}. Choose one of {names} (see"
        f" '{prefix} list-templates') or pass the path of a template folder."
    )


def _naming_hint(runner: _Runner) -> None:
    try:
        databases = runner.databases()
    except MigrateError:
        return
    if any(set(d.metadata.naming_convention) <= {"ix"} for d in databases):
        runner.print(
            "\nTip: the metadata has no naming convention for constraints, so"
            " unnamed constraints cannot be altered or dropped later (SQLite"
            " needs names). Create the extension with"
            " 'SQLAlchemy(metadata=MetaData(naming_convention=erlen_migrate."
            "NAMING_CONVENTION))' before the first revision."
        )


# -- writing revisions ----------------------------------------------------------------


@_hints
def revision(
    directory: str | os.PathLike[str] | None = None,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | cabc.Sequence[str] | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    *,
    depends_on: str | cabc.Sequence[str] | None = None,
    x_arg: XArg = None,
    binds: Binds = None,
) -> Script | None | list[Script | None]:
    """Write a new revision file; with ``autogenerate``, from the model changes.

    An autogenerated revision without any operation is not written:
    ``"No changes in schema detected."`` is printed and ``None`` returned.
    Raises :class:`DatabaseBehindError` when a database has revisions to apply.
    """
    opts = ["autogenerate"] if autogenerate else None
    runner = _Runner(directory, x_arg, opts, binds)
    script = runner.script(writing=True)
    if autogenerate and sql:
        raise MigrateError(
            "'--sql' cannot be used with autogenerate: autogenerate compares the"
            " models with a live database."
        )
    found_heads = script.get_heads()
    if head == "head" and len(found_heads) > 1:
        raise MigrateError(
            f"The migrations have {len(found_heads)} heads ({', '.join(found_heads)})"
            " and a new revision needs one parent. Run"
            f" '{runner.prefix} merge heads' to join them, or choose one with"
            " '--head'."
        )
    command_args = {
        "message": message,
        "autogenerate": autogenerate,
        "sql": sql,
        "head": head,
        "splice": splice,
        "branch_label": branch_label,
        "version_path": version_path,
        "rev_id": rev_id,
        "depends_on": depends_on,
    }
    context = autogen.RevisionContext(runner.config, script, command_args)
    environment = autogenerate or alembic_util.asbool(
        runner.config.get_main_option("revision_environment")
    )
    if sql and not environment:
        raise MigrateError(
            "'--sql' with 'revision' needs 'revision_environment = true' in the"
            " folder's alembic.ini."
        )
    context.template_args.update(runner.template_args(soft=not environment))
    if environment:
        if autogenerate:
            _ensure_up_to_date(runner, script)

        def retrieve(rev: t.Any, migration_context: MigrationContext) -> list[t.Any]:
            if autogenerate:
                context.run_autogenerate(rev, migration_context)
            else:
                context.run_no_autogenerate(rev, migration_context)
            return []

        runner.run(
            script,
            retrieve,
            as_sql=sql,
            template_args=context.template_args,
            revision_context=context,
        )
        if autogenerate and all(
            ops.is_empty()
            for generated in context.generated_revisions
            for ops in generated.upgrade_ops_list
        ):
            runner.print("No changes in schema detected.")
            return None
    scripts = list(context.generate_scripts())
    return scripts[0] if len(scripts) == 1 else scripts


@_hints
def migrate(
    directory: str | os.PathLike[str] | None = None,
    message: str | None = None,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | cabc.Sequence[str] | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: XArg = None,
    *,
    depends_on: str | cabc.Sequence[str] | None = None,
    binds: Binds = None,
) -> Script | None | list[Script | None]:
    """Autogenerate a revision from the differences between models and database.

    Same as :func:`revision` with ``autogenerate=True``.
    """
    return revision(
        directory,
        message,
        autogenerate=True,
        sql=sql,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
        depends_on=depends_on,
        x_arg=x_arg,
        binds=binds,
    )


@_hints
def merge(
    directory: str | os.PathLike[str] | None = None,
    revisions: str | cabc.Sequence[str] = "heads",
    message: str | None = None,
    branch_label: str | cabc.Sequence[str] | None = None,
    rev_id: str | None = None,
    *,
    binds: Binds = None,
) -> Script | None:
    """Write a revision that joins ``revisions`` (all heads by default) into one head."""
    runner = _Runner(directory, binds=binds)
    script = runner.script(writing=True)
    if not revisions:
        revisions = "heads"
    if isinstance(revisions, str):
        revisions = [revisions]
    if list(revisions) == ["heads"] and len(script.get_heads()) < 2:
        raise MigrateError("There is only one head: nothing to merge.")
    template_args = {"config": runner.config, **runner.template_args(soft=True)}
    return script.generate_revision(
        rev_id or alembic_util.rev_id(),
        message,
        refresh=True,
        head=tuple(revisions),
        branch_labels=(
            branch_label
            if branch_label is None or isinstance(branch_label, str)
            else list(branch_label)
        ),
        **template_args,
    )


@_hints
def edit(
    directory: str | os.PathLike[str] | None = None, revision: str = "head"
) -> None:
    """Open revision files in ``$EDITOR``; ``"current"`` opens the applied ones."""
    runner = _Runner(directory)
    script = runner.script()
    if revision == "current":
        heads = [h for hs in runner.current_heads(script).values() for h in hs]
        if not heads:
            raise MigrateError("The database has no revision applied yet.")
        revs = script.get_revisions(tuple(dict.fromkeys(heads)))
    else:
        revs = script.get_revisions(revision)
    if not revs:
        raise MigrateError(f"No revision files indicated by symbol {revision!r}.")
    for sc in revs:
        if sc is not None:
            alembic_util.open_in_editor(sc.path)


# -- applying revisions ---------------------------------------------------------------


@_hints
def upgrade(
    directory: str | os.PathLike[str] | None = None,
    revision: str = "head",
    sql: bool = False,
    tag: str | None = None,
    x_arg: XArg = None,
    *,
    binds: Binds = None,
) -> None:
    """Apply revisions up to ``revision``; with ``sql``, print the SQL instead.

    In ``sql`` (offline) mode ``revision`` may be a range ``from:to``.
    """
    runner = _Runner(directory, x_arg, binds=binds)
    _move(runner, revision, sql, tag, upgrading=True)


def _move(
    runner: _Runner, revision: str, sql: bool, tag: str | None, *, upgrading: bool
) -> None:
    """Run the upgrade or downgrade steps to ``revision`` (``from:to`` with sql)."""
    script = runner.script()
    starting_rev = None
    if ":" in revision:
        if not sql:
            raise MigrateError("A revision range 'from:to' needs '--sql'.")
        starting_rev, revision = _split_range(revision, "from:to")
    target = revision

    def steps(rev: t.Any, context: MigrationContext) -> t.Any:
        if upgrading:
            return script._upgrade_revs(target, rev)
        return script._downgrade_revs(target, rev)

    runner.run(
        script,
        steps,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=target,
        tag=tag,
    )


def _split_range(value: str, form: str) -> tuple[str, str]:
    """Split a revision range at its one colon; more colons are a clear error."""
    parts = value.split(":")
    if len(parts) != 2:
        raise MigrateError(
            f"{value!r} is not a revision range: write it as {form!r}, with"
            " exactly one colon."
        )
    return parts[0], parts[1]


@_hints
def downgrade(
    directory: str | os.PathLike[str] | None = None,
    revision: str = "-1",
    sql: bool = False,
    tag: str | None = None,
    x_arg: XArg = None,
    *,
    binds: Binds = None,
) -> None:
    """Revert revisions down to ``revision`` (one step by default).

    With ``sql`` the range ``from:to`` is required; ``-1`` becomes ``head:-1``.
    """
    runner = _Runner(directory, x_arg, binds=binds)
    if sql and revision == "-1":
        revision = "head:-1"
    if sql and ":" not in revision:
        raise MigrateError("'downgrade --sql' needs a range 'from:to', e.g. 'head:-1'.")
    _move(runner, revision, sql, tag, upgrading=False)


@_hints
def stamp(
    directory: str | os.PathLike[str] | None = None,
    revision: str | cabc.Sequence[str] = "head",
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
    *,
    binds: Binds = None,
) -> None:
    """Record ``revision`` as applied without running any migration.

    :param purge: empty the version table first (e.g. after deleting revisions).
    """
    runner = _Runner(directory, binds=binds)
    script = runner.script()
    destinations: list[str] = []
    starting_rev = None
    for value in [revision] if isinstance(revision, str) else list(revision):
        if sql and ":" in value:
            start, value = _split_range(value, "from:to")
            if starting_rev not in (None, start):
                raise MigrateError(
                    "'stamp --sql' supports one starting revision at a time."
                )
            starting_rev = start
        destinations.append(value)

    def steps(rev: t.Any, context: MigrationContext) -> t.Any:
        return script._stamp_revs(tuple(destinations), rev)

    runner.run(
        script,
        steps,
        as_sql=sql,
        starting_rev=starting_rev,
        destination_rev=tuple(destinations),
        tag=tag,
        purge=purge,
    )


# -- looking -------------------------------------------------------------------------


@_hints
def show(
    directory: str | os.PathLike[str] | None = None, revision: str = "head"
) -> None:
    """Print the revision(s) ``revision`` names; ``"current"`` shows the applied ones."""
    runner = _Runner(directory)
    script = runner.script()
    if revision == "current":
        for heads in runner.current_heads(script).values():
            for sc in script.get_revisions(heads):
                if sc is not None:
                    runner.print(sc.log_entry)
        return
    for sc in script.get_revisions(revision):
        if sc is not None:
            runner.print(sc.log_entry)


@_hints
def history(
    directory: str | os.PathLike[str] | None = None,
    rev_range: str | None = None,
    verbose: bool = False,
    indicate_current: bool = False,
) -> None:
    """Print the revisions from newest to oldest.

    :param rev_range: ``[start]:[end]``; ``current`` is accepted at either end.
    :param indicate_current: mark the revisions the database is at.
    """
    runner = _Runner(directory)
    script = runner.script()
    base: str | None = None
    head: str | None = None
    if rev_range is not None:
        if ":" not in rev_range:
            raise MigrateError(
                "A history range is '[start]:[end]', '[start]:' or ':[end]'."
            )
        base, head = _split_range(rev_range.strip(), "[start]:[end]")
    currents: tuple[str, ...] = ()
    if indicate_current or "current" in (base, head):
        applied = runner.current_heads(script).values()
        currents = tuple(dict.fromkeys(h for hs in applied for h in hs))
    if base == "current":
        base = ",".join(currents) or None
    if head == "current":
        head = ",".join(currents) or None
    for sc in script.walk_revisions(base=base or "base", head=head or "heads"):
        if indicate_current:
            sc._db_current_indicator = sc.revision in currents
        runner.print(
            sc.cmd_format(
                verbose=verbose,
                include_branches=True,
                include_doc=True,
                include_parents=True,
            )
        )


@_hints
def heads(
    directory: str | os.PathLike[str] | None = None,
    verbose: bool = False,
    resolve_dependencies: bool = False,
) -> None:
    """Print the head revisions of the migrations folder."""
    runner = _Runner(directory)
    script = runner.script()
    if resolve_dependencies:
        found = script.get_revisions("heads")
    else:
        found = script.get_revisions(script.get_heads())
    for sc in found:
        if sc is not None:
            runner.print(
                sc.cmd_format(verbose, include_branches=True, tree_indicators=False)
            )


@_hints
def branches(
    directory: str | os.PathLike[str] | None = None, verbose: bool = False
) -> None:
    """Print the revisions where the history branches."""
    runner = _Runner(directory)
    script = runner.script()
    for sc in script.walk_revisions():
        if not sc.is_branch_point:
            continue
        lines = []
        for rev in sc.nextrev:
            child = script.get_revision(rev)
            assert child is not None
            lines.append(
                " " * len(str(sc.revision))
                + " -> "
                + child.cmd_format(False, include_branches=True, include_doc=verbose)
            )
        runner.print(
            "%s\n%s\n", sc.cmd_format(verbose, include_branches=True), "\n".join(lines)
        )


@_hints
def current(
    directory: str | os.PathLike[str] | None = None,
    verbose: bool = False,
    check_heads: bool = False,
    *,
    binds: Binds = None,
) -> dict[str, tuple[str, ...]]:
    """Print the revisions each database is at, and return them by database name.

    :param check_heads: raise :class:`DatabaseBehindError` when a database
        has not applied every head revision (for CI and start-up checks).
    """
    runner = _Runner(directory, binds=binds)
    script = runner.script()
    result: dict[str, tuple[str, ...]] = {}
    behind: dict[str, int] = {}
    for database, applied in runner.current_heads(script).items():
        result[database.label] = applied
        if verbose:
            url = database.url.render_as_string(hide_password=True)
            runner.print(runner.label(database, f"Current revision(s) for {url}:"))
        for sc in script.get_all_current(applied):
            runner.print(runner.label(database, sc.cmd_format(verbose)))
        if not applied and runner.is_multidb():
            runner.print(runner.label(database, "(no revision applied)"))
        if check_heads:
            count = runner.behind(script, applied)
            if count:
                behind[database.label] = count
    if behind:
        raise runner.behind_error(behind)
    return result


@_hints
def check(
    directory: str | os.PathLike[str] | None = None,
    *,
    x_arg: XArg = None,
    binds: Binds = None,
) -> None:
    """Fail unless the databases are at head and match the models.

    Raises :class:`DatabaseBehindError` when a database has revisions to apply
    and :class:`SchemaChangedError` when autogenerate would write operations,
    i.e. a model change has no revision yet.
    """
    runner = _Runner(directory, x_arg, ["autogenerate"], binds)
    script = runner.script()
    _ensure_up_to_date(runner, script)
    command_args = {
        "message": None,
        "autogenerate": True,
        "sql": False,
        "head": "head",
        "splice": False,
        "branch_label": None,
        "version_path": None,
        "rev_id": None,
        "depends_on": None,
    }
    context = autogen.RevisionContext(runner.config, script, command_args)
    context.template_args.update(runner.template_args())

    def retrieve(rev: t.Any, migration_context: MigrationContext) -> list[t.Any]:
        context.run_autogenerate(rev, migration_context)
        return []

    runner.run(
        script,
        retrieve,
        as_sql=False,
        template_args=context.template_args,
        revision_context=context,
    )
    diffs: list[t.Any] = []
    for generated in context.generated_revisions:
        for ops in generated.upgrade_ops_list:
            diffs.extend(ops.as_diffs())
    if diffs:
        listing = "\n".join(f"  - {_describe(diff)}" for diff in diffs)
        raise SchemaChangedError(
            f"The models differ from the database in {len(diffs)} way(s) that no"
            f" revision covers:\n{listing}\nRun '{runner.prefix} migrate -m"
            f' "message"\' to write a revision, review it, then'
            f" '{runner.prefix} upgrade'.",
            diffs,
        )
    runner.print("No changes in schema detected.")


def _describe(diff: t.Any) -> str:
    """One readable line for an autogenerate difference."""
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    if not isinstance(diff, tuple) or not diff:
        return str(diff)
    kind, *rest = diff
    if kind.startswith("modify_") and len(rest) >= 3:
        schema, table, column = rest[:3]
        where = ".".join(str(p) for p in (schema, table, column) if p)
        values = rest[-2:]
        return f"{kind} {where}: {values[0]!r} -> {values[1]!r}"
    parts: list[str] = []
    for item in rest:
        if item is None:
            continue
        if parts and str(item).startswith(f"{parts[-1]}."):
            parts.pop()
        if isinstance(item, (sa.Table, sa.Column, sa.Index)):
            name = getattr(item, "key", None) if isinstance(item, sa.Table) else None
            parts.append(name or str(item))
        elif isinstance(item, sa.schema.Constraint):
            parts.append(str(item.name or type(item).__name__))
        else:
            parts.append(str(item))
    return " ".join([kind, *parts])
