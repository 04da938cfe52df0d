"""A pet store API on erlen-sql: typed endpoints and a Flask-RESTX-style namespace side by side."""

from __future__ import annotations

import typing as t

import pydantic
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from erlen import Erlen
from erlen_rest import abort
from erlen_rest import Api
from erlen_rest import fields
from erlen_rest import paginate
from erlen_rest import Resource
from erlen_sql import SQLAlchemy


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class PetRow(Base):
    __tablename__ = "pet"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    species: Mapped[str] = mapped_column(sa.String(50))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("owner.id"))


class OwnerRow(Base):
    __tablename__ = "owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))


class PetIn(pydantic.BaseModel):
    """What a client sends to create a pet."""

    name: str = pydantic.Field(min_length=1, max_length=100)
    species: t.Literal["cat", "dog", "fish"]
    #: Bounded to SQLite's (and PostgreSQL's bigint) range: a bigger number is a 422, not a 500.
    owner_id: int | None = pydantic.Field(default=None, ge=1, le=2**63 - 1)


class Pet(PetIn):
    """A stored pet."""

    id: int


def create_app(test_config: dict[str, t.Any] | None = None) -> Erlen:
    """Create the app; the database is SQLite in memory unless configured."""
    app = Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///:memory:"
    app.config["REST_DOCS"] = True
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    db.init_app(app)
    with app.app_context():
        db.create_all()
    build_api(app)
    return app


def build_api(app: Erlen) -> Api:
    """Register the API on ``app``."""
    api = Api(app, title="Pet store", version="1.0", description="erlen-rest example")

    @api.get("/pets", tags=["pets"], response_model=list[Pet])
    def list_pets(species: str | None = None) -> t.Any:
        """List pets, 20 per page (``?page=``, ``?per_page=``)."""
        query = db.select(PetRow).order_by(PetRow.id)
        if species is not None:
            query = query.where(PetRow.species == species)
        page = paginate(query)
        return page.items, 200, page.headers()

    @api.post("/pets", tags=["pets"], status_code=201)
    def create_pet(pet: PetIn) -> Pet:
        """Add a pet."""
        if pet.owner_id is not None and db.session.get(OwnerRow, pet.owner_id) is None:
            abort(409, f"There is no owner {pet.owner_id}.")
        row = PetRow(**pet.model_dump())
        db.session.add(row)
        db.session.commit()
        return Pet.model_validate(row, from_attributes=True)

    @api.get("/pets/<int:pet_id>", tags=["pets"])
    def get_pet(pet_id: int) -> Pet:
        """Read one pet."""
        return Pet.model_validate(db.get_or_404(PetRow, pet_id), from_attributes=True)

    owners = api.namespace("owners", description="Pet owners (Flask-RESTX style)")
    owner = owners.model(
        "Owner",
        {
            "id": fields.Integer(readonly=True),
            "name": fields.String(required=True, min_length=1, max_length=100),
        },
    )

    @owners.route("/")
    class OwnerList(Resource):
        @owners.marshal_list_with(owner)
        def get(self) -> t.Any:
            """List owners."""
            return db.session.scalars(db.select(OwnerRow).order_by(OwnerRow.id)).all()

        @owners.expect(owner, validate=True)
        @owners.marshal_with(owner, code=201)
        def post(self) -> t.Any:
            """Add an owner."""
            row = OwnerRow(name=api.payload["name"])
            db.session.add(row)
            db.session.commit()
            return row, 201

    @owners.route("/<int:owner_id>")
    class OwnerItem(Resource):
        @owners.marshal_with(owner)
        @owners.response(404, "No such owner")
        def get(self, owner_id: int) -> t.Any:
            """Read one owner."""
            return db.get_or_404(OwnerRow, owner_id)

    return api


app = create_app()
