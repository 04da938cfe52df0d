"""erlen notes: a small notebook app that shows erlen, erlen-sql, erlen-migrate and erlen-forms."""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t
from pathlib import Path

from werkzeug.exceptions import HTTPException

import erlen_migrate
from erlen import Erlen
from erlen import render_template
from erlen import request

from . import api
from . import cli
from . import views
from .models import db
from .models import migrate
from .security import csrf
from .security import load_or_create_secret_key

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(
    test_config: cabc.Mapping[str, t.Any] | None = None,
    *,
    instance_path: str | os.PathLike[str] | None = None,
) -> Erlen:
    """Create and configure the app, and bring its database up to date.

    Configuration comes from the defaults below, then ``instance/config.py`` if
    it exists, then ``ERLEN_*`` environment variables (``ERLEN_SECRET_KEY=...``
    sets ``SECRET_KEY``). Tests pass ``test_config``, which replaces the last
    two. Without a ``SECRET_KEY``, one is generated into the instance folder.

    :param test_config: configuration to use instead of the file and environment.
    :param instance_path: the instance folder (database, secret key, config);
        defaults to ``instance/`` next to the ``notes`` package.
    """
    app = Erlen(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
    )
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///notes.db",
        NOTES_PER_PAGE=10,
        NOTES_AUTO_UPGRADE=True,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    cli.register(app)
    for code in (400, 403, 404, 405):
        app.register_error_handler(code, _error_page)

    if app.config["NOTES_AUTO_UPGRADE"]:
        with app.app_context():
            erlen_migrate.upgrade()
    return app


def _error_page(error: HTTPException) -> tuple[t.Any, int]:
    """Answer an HTTP error with JSON under ``/api/``, else with an HTML page."""
    code = error.code or 500
    if request.path.startswith("/api/"):
        return {"error": error.name, "description": error.description}, code
    return render_template("error.html", error=error), code
