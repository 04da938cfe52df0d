"""The declarative model base behind ``db.Model``: table names, bind keys, ``query``.

Every base style SQLAlchemy offers works: the legacy :class:`Model` mixin (turned
into a :func:`~sqlalchemy.orm.declarative_base`), and a user's own
:class:`~sqlalchemy.orm.DeclarativeBase` or
:class:`~sqlalchemy.orm.DeclarativeBaseNoMeta` subclass, with or without
:class:`~sqlalchemy.orm.MappedAsDataclass`.

The user's class is never rebuilt or copied. The extension installs its
behaviour on the base in place (an ``__init_subclass__`` that runs before
SQLAlchemy maps the subclass, and a ``__table_cls__``), so dataclass bases work on
SQLAlchemy 2.0 and 2.1 alike, and ``class User(Base)`` is the same as
``class User(db.Model)``, fully typed.
"""

from __future__ import annotations

import re
import typing as t

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

from .query import Query

if t.TYPE_CHECKING:  # pragma: no cover
    from .extension import SQLAlchemy

__all__ = [
    "DefaultMeta",
    "Model",
    "camel_to_snake_case",
    "install_model_behaviour",
]

#: Marks table names that the extension chose, so explicit names are respected.
_AUTO_NAME = "__erlen_sql_auto_tablename__"


class _QueryProperty:
    """Class-level ``Model.query``: a new legacy :class:`Query` on the session."""

    def __get__(self, obj: t.Any, cls: type[t.Any]) -> Query:
        db = cls.__erlen_sql__
        return cls.query_class(cls, session=db.session())  # type: ignore[no-any-return]


class Model:
    """The mixin every ``db.Model`` has, whichever base style built it.

    It holds the class attributes the extension fills in: the owning extension,
    the legacy :class:`Query` class and the ``query`` property, and a ``repr``
    that shows the primary key or whether the object is transient or pending.
    """

    #: The :class:`~erlen_sql.SQLAlchemy` instance this model belongs to.
    __erlen_sql__: t.ClassVar[SQLAlchemy]
    #: Class used by :attr:`query`; defaults to the extension's ``query_class``.
    query_class: t.ClassVar[type[Query]] = Query
    #: A legacy :class:`~erlen_sql.query.Query` for this model on ``db.session``.
    #: Prefer ``db.session.execute(db.select(Model))`` in new code.
    query: t.ClassVar[Query] = _QueryProperty()  # type: ignore[assignment]

    def __repr__(self) -> str:
        state: t.Any = sa.inspect(self)
        if state.transient:
            pk = f"(transient {id(self)})"
        elif state.pending:
            pk = f"(pending {id(self)})"
        else:
            pk = ", ".join(map(str, state.identity))
        return f"<{type(self).__name__} {pk}>"


class DefaultMeta(sa_orm.DeclarativeMeta):
    """Metaclass of the legacy ``db.Model``; subclass it to customise mapping.

    Naming and bind-key handling do not live here: they run from the base's
    ``__init_subclass__`` so they work the same for every base style. This
    metaclass only tidies up after single-table inheritance, once mapped.
    """

    def __init__(
        cls,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, t.Any],
        **kw: t.Any,
    ) -> None:
        super().__init__(name, bases, namespace, **kw)
        _after_mapping(cls)


def camel_to_snake_case(name: str) -> str:
    """Turn a class name into a table name: ``HTTPResponseCode`` -> ``http_response_code``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.lower().lstrip("_")


def _is_mapped(cls: type[t.Any]) -> bool:
    return isinstance(sa.inspect(cls, raiseerr=False), sa_orm.Mapper)


def _wants_auto_name(cls: type[t.Any]) -> bool:
    """Whether ``cls`` should get a generated ``__tablename__``.

    The nearest class in the MRO that defines ``__tablename__`` decides: the
    class itself, an abstract class or a plain mixin means the user chose the
    name (or a ``declared_attr`` computes it); a mapped parent's name is not
    inherited by SQLAlchemy, so the subclass gets its own.
    """
    if cls.__dict__.get("__abstract__", False) or "__table__" in cls.__dict__:
        return False
    for base in cls.__mro__:
        if "__tablename__" not in base.__dict__:
            continue
        if isinstance(base.__dict__["__tablename__"], sa_orm.declared_attr):
            return False
        if base is cls or base.__dict__.get("__abstract__", False):
            return False
        return _is_mapped(base)
    return True


def _table_cls(cls: type[t.Any], *args: t.Any, **kwargs: t.Any) -> sa.Table | None:
    """Create the table, or return ``None`` for single-table inheritance.

    A subclass whose generated table would have no primary key and whose parent
    is mapped to a table is mapped onto the parent's table instead.
    """
    if cls.__dict__.get(_AUTO_NAME):
        metadata = args[1]
        schema = kwargs.get("schema", metadata.schema)
        key = args[0] if schema is None else f"{schema}.{args[0]}"
        has_pk = any(
            (isinstance(arg, sa.Column) and arg.primary_key)
            or isinstance(arg, sa.PrimaryKeyConstraint)
            for arg in args[2:]
        )
        parent_has_table = any(
            base.__dict__.get("__table__") is not None for base in cls.__mro__[1:]
        )
        if key not in metadata.tables and not has_pk and parent_has_table:
            del cls.__tablename__
            type.__setattr__(cls, _AUTO_NAME, False)
            return None
    return sa.Table(*args, **kwargs)


def _before_mapping(db: SQLAlchemy, cls: type[t.Any]) -> None:
    if (
        hasattr(cls, "__bind_key__")
        and "metadata" not in cls.__dict__
        and "__table__" not in cls.__dict__
    ):
        metadata = db._make_metadata(cls.__bind_key__)
        if getattr(cls, "metadata", None) is not metadata:
            cls.metadata = metadata
    if not db._disable_autonaming and _wants_auto_name(cls):
        cls.__tablename__ = camel_to_snake_case(cls.__name__)
        setattr(cls, _AUTO_NAME, True)


def _after_mapping(cls: type[t.Any]) -> None:
    if "__table__" in cls.__dict__ and cls.__dict__["__table__"] is None:
        delattr(cls, "__table__")


def install_model_behaviour(db: SQLAlchemy, base: type[t.Any]) -> None:
    """Give an existing declarative ``base`` the ``db.Model`` behaviour, in place.

    Subclasses of ``base`` then get generated table names, ``__bind_key__``
    routing and ``query``. A base can belong to one extension only.
    """
    owner = base.__dict__.get("__erlen_sql__")
    if owner is not None and owner is not db:
        raise RuntimeError(
            f"The model base {base.__name__!r} is already used by another"
            " SQLAlchemy instance. Create one base class per SQLAlchemy instance."
        )
    original = base.__dict__.get("__init_subclass__")

    def __init_subclass__(cls: type[t.Any], /, **kwargs: t.Any) -> None:
        _before_mapping(db, cls)
        if original is not None:
            original.__func__(cls, **kwargs)
        else:
            super(base, cls).__init_subclass__(**kwargs)
        _after_mapping(cls)

    target: t.Any = base
    target.__init_subclass__ = classmethod(__init_subclass__)
    target.__erlen_sql__ = db
    target.query_class = db.Query
    if not isinstance(base.__dict__.get("query"), _QueryProperty):
        target.query = _QueryProperty()
    if not hasattr(base, "__table_cls__"):
        target.__table_cls__ = classmethod(_table_cls)
    if target.__repr__ is object.__repr__:
        target.__repr__ = Model.__repr__
    target.metadata.info.setdefault("bind_key", None)
