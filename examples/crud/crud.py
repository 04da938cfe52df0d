"""A small JSON CRUD app: a todo list stored with erlen-sql (SQLite by default)."""

from __future__ import annotations

import typing as t

import click
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from werkzeug.exceptions import HTTPException

from erlen import abort
from erlen import Erlen
from erlen import request
from erlen_sql import SQLAlchemy


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Todo(Base):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    done: Mapped[bool] = mapped_column(default=False)

    def to_dict(self) -> dict[str, t.Any]:
        return {"id": self.id, "title": self.title, "done": self.done}


def _payload() -> dict[str, t.Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="Send a JSON object.")
    return data


def _title(data: dict[str, t.Any]) -> str:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        abort(400, description="'title' must be a string of 1 to 200 characters.")
    return title.strip()


def create_app(test_config: dict[str, t.Any] | None = None) -> Erlen:
    """Create the app; config comes from ERLEN_* environment variables too."""
    app = Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///crud.db"
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    db.init_app(app)
    with app.app_context():
        db.create_all()

    @app.errorhandler(HTTPException)
    def json_error(error: HTTPException) -> t.Any:
        """Answer errors (404, 400, 405...) in JSON, as the rest of the API."""
        body = {"error": error.name, "description": error.description}
        return body, error.code or 500

    @app.cli.command("init-db")
    def init_db() -> None:
        """Drop and recreate the tables."""
        db.drop_all()
        db.create_all()
        click.echo("Initialized the database.")

    @app.get("/todos")
    def list_todos() -> t.Any:
        page = db.paginate(db.select(Todo).order_by(Todo.id), per_page=None)
        return {
            "items": [todo.to_dict() for todo in page],
            "page": page.page,
            "pages": page.pages,
            "total": page.total,
        }

    @app.post("/todos")
    def create_todo() -> t.Any:
        todo = Todo(title=_title(_payload()))
        db.session.add(todo)
        db.session.commit()
        return todo.to_dict(), 201

    @app.get("/todos/<int:todo_id>")
    def get_todo(todo_id: int) -> t.Any:
        return db.get_or_404(Todo, todo_id).to_dict()

    @app.patch("/todos/<int:todo_id>")
    def update_todo(todo_id: int) -> t.Any:
        todo = db.get_or_404(Todo, todo_id)
        data = _payload()
        if "title" in data:
            todo.title = _title(data)
        if "done" in data:
            if not isinstance(data["done"], bool):
                abort(400, description="'done' must be true or false.")
            todo.done = data["done"]
        db.session.commit()
        return todo.to_dict()

    @app.delete("/todos/<int:todo_id>")
    def delete_todo(todo_id: int) -> t.Any:
        db.session.delete(db.get_or_404(Todo, todo_id))
        db.session.commit()
        return "", 204

    return app
