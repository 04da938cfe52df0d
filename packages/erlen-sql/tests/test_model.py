from __future__ import annotations

import typing as t

import pytest
import sqlalchemy as sa
import sqlalchemy.orm as sa_orm
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen_sql import SQLAlchemy
from erlen_sql.model import camel_to_snake_case
from erlen_sql.model import DefaultMeta
from erlen_sql.model import Model
from erlen_sql.query import Query


@pytest.mark.parametrize(
    ("name", "expect"),
    [
        ("CamelCase", "camel_case"),
        ("Snake_Case", "snake_case"),
        ("HTTPResponse", "http_response"),
        ("HTTPResponseCode", "http_response_code"),
        ("ResponseHTTP", "response_http"),
        ("ResponseHTTP2", "response_http2"),
        ("HTTP2Response", "http2_response"),
        ("user", "user"),
        ("ABC", "abc"),
        ("_Private", "private"),
        ("Version2Name", "version2_name"),
    ],
)
def test_camel_to_snake_case(name: str, expect: str) -> None:
    assert camel_to_snake_case(name) == expect


def _pk(is_dc: bool, *args: t.Any, **kw: t.Any) -> t.Any:
    if is_dc:
        kw["init"] = False
    return mapped_column(*args, primary_key=True, **kw)


def _col(is_dc: bool) -> t.Any:
    return mapped_column(init=False) if is_dc else mapped_column()


def test_auto_tablename(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class HTTPLogEntry(db.Model):
        id: Mapped[int] = _pk(is_dataclass)

    assert HTTPLogEntry.__tablename__ == "http_log_entry"
    assert "http_log_entry" in db.metadata.tables


def test_db_model_is_declarative_base_in_place(app: Erlen, model_class: t.Any) -> None:
    db = SQLAlchemy(app, model_class=model_class)
    if issubclass(model_class, (sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta)):
        assert db.Model is model_class
    else:
        assert issubclass(db.Model, model_class)
    assert db.Model.metadata is db.metadata
    assert db.Model.__erlen_sql__ is db


def test_explicit_tablename(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class User(db.Model):
        __tablename__ = "people"
        id: Mapped[int] = _pk(is_dataclass)

    assert User.__table__.name == "people"


def test_disable_autonaming(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    db = SQLAlchemy(app, model_class=model_class, disable_autonaming=True)

    with pytest.raises(sa.exc.InvalidRequestError):

        class User(db.Model):
            id: Mapped[int] = _pk(is_dataclass)


def test_abstract_and_mixin(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class Timestamped(db.Model):
        __abstract__ = True
        created: Mapped[int] = mapped_column(default=0)

    class BlogPost(Timestamped):
        id: Mapped[int] = _pk(is_dataclass)

    assert not hasattr(Timestamped, "__table__")
    assert BlogPost.__tablename__ == "blog_post"
    assert set(BlogPost.__table__.c.keys()) == {"id", "created"}


def test_declared_attr_tablename(
    app: Erlen, model_class: t.Any, is_dataclass: bool
) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class Prefixed:
        @sa_orm.declared_attr.directive
        def __tablename__(cls) -> str:
            return f"app_{cls.__name__.lower()}"

    class Thing(Prefixed, db.Model):
        id: Mapped[int] = _pk(is_dataclass)

    assert Thing.__table__.name == "app_thing"


def test_single_table_inheritance(
    app: Erlen, model_class: t.Any, is_dataclass: bool
) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class Employee(db.Model):
        id: Mapped[int] = _pk(is_dataclass)
        kind: Mapped[str] = _col(is_dataclass)
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "employee"}

    class Manager(Employee):
        level: Mapped[int | None] = mapped_column(default=None)
        __mapper_args__ = {"polymorphic_identity": "manager"}

    assert Manager.__table__ is Employee.__table__
    assert "__tablename__" not in Manager.__dict__
    assert set(db.metadata.tables) == {"employee"}
    with app.app_context():
        db.create_all()
        db.session.add(Manager(level=3))
        db.session.commit()
        loaded = db.session.execute(db.select(Employee)).scalar_one()
        assert isinstance(loaded, Manager)
        assert loaded.level == 3


def test_joined_table_inheritance(
    app: Erlen, model_class: t.Any, is_dataclass: bool
) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class Animal(db.Model):
        id: Mapped[int] = _pk(is_dataclass)
        kind: Mapped[str] = _col(is_dataclass)
        __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "animal"}

    class GiantPanda(Animal):
        id: Mapped[int] = _pk(is_dataclass, sa.ForeignKey(Animal.id))
        __mapper_args__ = {"polymorphic_identity": "panda"}

    assert GiantPanda.__tablename__ == "giant_panda"
    assert GiantPanda.__table__ is not Animal.__table__


def test_explicit_table(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    if is_dataclass:
        pytest.skip("SQLAlchemy rejects '__table__' on dataclass-mapped classes")
    db = SQLAlchemy(app, model_class=model_class)
    table = db.Table("widgets", db.Column("id", db.Integer, primary_key=True))

    class Widget(db.Model):
        __table__ = table

    assert Widget.__table__ is table
    assert "__tablename__" not in Widget.__dict__


def test_mixin_primary_key(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class IdMixin:
        id: Mapped[int] = _pk(is_dataclass)

    if is_dataclass:

        class Item(db.Model):
            id: Mapped[int] = _pk(True)

    else:

        class Item(IdMixin, db.Model):  # type: ignore[no-redef]
            pass

    assert Item.__tablename__ == "item"


def test_bind_key_model(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    app.config["SQLALCHEMY_BINDS"] = {"auth": "sqlite://"}
    db = SQLAlchemy(app, model_class=model_class)

    class Account(db.Model):
        __bind_key__ = "auth"
        id: Mapped[int] = _pk(is_dataclass)

    class Post(db.Model):
        id: Mapped[int] = _pk(is_dataclass)

    assert Account.__table__.metadata is db.metadatas["auth"]
    assert Post.__table__.metadata is db.metadata
    with app.app_context():
        db.create_all()
        assert sa.inspect(db.engines["auth"]).get_table_names() == ["account"]
        assert sa.inspect(db.engine).get_table_names() == ["post"]
        db.session.add(Account())
        db.session.commit()
        count = db.session.execute(sa.select(sa.func.count()).select_from(Account))
        assert count.scalar() == 1
        assert db.session.get_bind(mapper=Account) is db.engines["auth"]


def test_bind_key_inherited_from_abstract(
    app: Erlen, model_class: t.Any, is_dataclass: bool
) -> None:
    app.config["SQLALCHEMY_BINDS"] = {"other": "sqlite://"}
    db = SQLAlchemy(app, model_class=model_class)

    class OtherBase(db.Model):
        __abstract__ = True
        __bind_key__ = "other"

    class Thing(OtherBase):
        id: Mapped[int] = _pk(is_dataclass)

    assert Thing.__table__.metadata is db.metadatas["other"]


def test_repr(app: Erlen, db: SQLAlchemy) -> None:
    class User(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    with app.app_context():
        db.create_all()
        user = User()
        assert repr(user).startswith("<User (transient ")
        db.session.add(user)
        assert repr(user).startswith("<User (pending ")
        db.session.commit()
        assert repr(user) == "<User 1>"


def test_repr_declarative(app: Erlen) -> None:
    class Base(sa_orm.DeclarativeBase):
        pass

    db = SQLAlchemy(app, model_class=Base)

    class Item(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    assert repr(Item()).startswith("<Item (transient ")


def test_dataclass_constructor(app: Erlen) -> None:
    class Base(sa_orm.MappedAsDataclass, sa_orm.DeclarativeBase):
        pass

    db = SQLAlchemy(app, model_class=Base)

    class Book(Base):
        id: Mapped[int] = mapped_column(primary_key=True, init=False)
        title: Mapped[str]

    book = Book(title="Dune")
    assert book.title == "Dune"
    assert repr(book).endswith("Book(id=None, title='Dune')")
    assert Book.__tablename__ == "book"
    with app.app_context():
        db.create_all()
        db.session.add(book)
        db.session.commit()
        assert db.session.get(Book, 1) is book


def test_query_property(app: Erlen, model_class: t.Any, is_dataclass: bool) -> None:
    db = SQLAlchemy(app, model_class=model_class)

    class Note(db.Model):
        id: Mapped[int] = _pk(is_dataclass)

    with app.app_context():
        db.create_all()
        db.session.add(Note())
        db.session.commit()
        assert isinstance(Note.query, Query)
        assert Note.query.count() == 1
        assert Note.query.session is db.session()


def test_custom_query_class(app: Erlen) -> None:
    class MyQuery(Query):
        def names(self) -> list[str]:
            return [n.name for n in self]

    db = SQLAlchemy(app, query_class=MyQuery)

    class Tag(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    with app.app_context():
        db.create_all()
        db.session.add(Tag(name="a"))
        db.session.commit()
        assert isinstance(Tag.query, MyQuery)
        assert Tag.query.names() == ["a"]
        assert isinstance(db.session.query(Tag), MyQuery)


def test_custom_legacy_model_class(app: Erlen) -> None:
    class Base(Model):
        def describe(self) -> str:
            return type(self).__name__

    db = SQLAlchemy(app, model_class=Base)

    class Dog(db.Model):
        id = sa.Column(sa.Integer, primary_key=True)

    assert Dog().describe() == "Dog"
    assert isinstance(db.Model, sa_orm.DeclarativeMeta)


def test_metadata_argument(app: Erlen) -> None:
    metadata = sa.MetaData(naming_convention={"pk": "pk_%(table_name)s"})
    app.config["SQLALCHEMY_BINDS"] = {"x": "sqlite://"}
    db = SQLAlchemy(app, metadata=metadata)
    assert db.metadata is metadata
    assert db.metadatas["x"].naming_convention == metadata.naming_convention
    assert db.metadatas["x"].info["bind_key"] == "x"


@pytest.mark.parametrize("kind", [sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta])
def test_metadata_with_declarative_base_rejected(kind: type[t.Any]) -> None:
    """Flask-SQLAlchemy ignored the argument with a warning; erlen-sql refuses it."""
    Base = t.cast(type[t.Any], type("Base", (kind,), {}))
    own = Base.metadata

    with pytest.raises(ValueError, match="Set 'metadata = MetaData") as info:
        SQLAlchemy(metadata=sa.MetaData(), model_class=Base)
    assert "'Base'" in str(info.value)
    assert Base.metadata is own
    db = SQLAlchemy(metadata=own, model_class=Base)
    assert db.metadata is own


def test_metadata_in_declarative_base_body(app: Erlen) -> None:
    convention = {"pk": "pk_%(table_name)s"}

    class Base(sa_orm.DeclarativeBase):
        metadata = sa.MetaData(naming_convention=convention)

    app.config["SQLALCHEMY_BINDS"] = {"x": "sqlite://"}
    db = SQLAlchemy(app, model_class=Base)
    assert db.metadata is Base.metadata
    assert db.metadata.info["bind_key"] is None
    assert db.metadatas["x"].naming_convention == convention


def test_metadata_replaces_legacy_declarative_base(app: Erlen) -> None:
    """A ``declarative_base()`` model_class takes the ``metadata`` argument."""
    base = sa_orm.declarative_base(cls=Model, metaclass=DefaultMeta)
    metadata = sa.MetaData(naming_convention={"pk": "pk_%(table_name)s"})
    db = SQLAlchemy(app, metadata=metadata, model_class=base)
    assert db.Model is base
    assert base.metadata is metadata
    assert db.metadata is metadata
    assert metadata.info["bind_key"] is None

    class Item(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)

    assert Item.__table__.metadata is metadata
    assert Item.__table__.primary_key.name == "pk_item"
    with app.app_context():
        db.create_all()
        assert sa.inspect(db.engine).get_table_names() == ["item"]


def test_metadata_for_legacy_base_with_tables_rejected() -> None:
    base = sa_orm.declarative_base()

    class Existing(base):  # type: ignore[misc,valid-type]
        __tablename__ = "existing"
        id = sa.Column(sa.Integer, primary_key=True)

    with pytest.raises(ValueError, match="already holds tables"):
        SQLAlchemy(metadata=sa.MetaData(), model_class=base)
    assert list(base.metadata.tables) == ["existing"]


def test_model_class_with_several_declarative_bases_rejected() -> None:
    class Base(sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta):  # type: ignore[misc]
        pass

    with pytest.raises(ValueError, match="several declarative bases") as info:
        SQLAlchemy(model_class=Base)
    assert "DeclarativeBase, DeclarativeBaseNoMeta" in str(info.value)


def test_model_class_with_mixins_accepted() -> None:
    class Stamped:
        note: Mapped[str] = mapped_column(default="")

    class Base(Stamped, sa_orm.MappedAsDataclass, sa_orm.DeclarativeBase):
        pass

    db = SQLAlchemy(model_class=Base)
    assert db.Model is Base


def test_base_used_by_two_extensions_rejected() -> None:
    class Base(sa_orm.DeclarativeBase):
        pass

    SQLAlchemy(model_class=Base)
    with pytest.raises(RuntimeError, match="another SQLAlchemy"):
        SQLAlchemy(model_class=Base)


def test_dynamic_relationship_uses_query_class(app: Erlen, db: SQLAlchemy) -> None:
    class Parent(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        children = db.relationship("Child", lazy="dynamic", backref="parent")

    class Child(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int] = mapped_column(sa.ForeignKey(Parent.id))

    class Other(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        parent_id: Mapped[int] = mapped_column(sa.ForeignKey(Parent.id))
        parent = db.relation(Parent, backref=db.backref("others", lazy="dynamic"))

    with app.app_context():
        db.create_all()
        parent = Parent()
        db.session.add_all([parent, Child(parent=parent)])
        db.session.commit()
        assert isinstance(parent.children, Query)
        assert parent.children.first_or_404().parent is parent
        assert isinstance(parent.others, Query)
