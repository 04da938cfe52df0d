"""Exceptions raised by erlen-migrate's Python API; the CLI turns them into exit code 1."""

from __future__ import annotations

import typing as t

from alembic.util import CommandError

__all__ = [
    "CommandError",
    "DatabaseBehindError",
    "MigrateError",
    "SchemaChangedError",
]


class MigrateError(CommandError):
    """A migration command could not run; the message says what to do.

    It is a subclass of Alembic's :class:`~alembic.util.CommandError`, so one
    ``except CommandError`` catches the errors of both libraries.
    """


class DatabaseBehindError(MigrateError):
    """A database has not applied every revision of the migrations folder.

    :attr:`behind` maps each database name (``"default"`` or the bind key) to
    the number of revisions it still has to apply.
    """

    def __init__(self, message: str, behind: dict[str, int]) -> None:
        super().__init__(message)
        self.behind = behind


class SchemaChangedError(MigrateError):
    """The models differ from the database: a new revision is needed.

    :attr:`diffs` holds Alembic's autogenerate differences, e.g.
    ``("add_column", None, "user", Column(...))``.
    """

    def __init__(self, message: str, diffs: list[t.Any]) -> None:
        super().__init__(message)
        self.diffs = diffs
