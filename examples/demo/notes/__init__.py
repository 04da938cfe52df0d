"""erlen notes: a team notebook built from erlen, erlen-sql, erlen-migrate, erlen-login, erlen-forms and erlen-rest."""

from __future__ import annotations

import collections.abc as cabc
import os
import typing as t
from pathlib import Path

from werkzeug.exceptions import HTTPException

import erlen_migrate
from erlen import Erlen
from erlen import g
from erlen import render_template
from erlen import request
from erlen import Response

from . import api
from . import auth
from . import cli
from . import live
from . import views
from .models import db
from .models import migrate
from .models import tune_sqlite
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
        NOTES_PER_PAGE=20,
        NOTES_AUTO_UPGRADE=True,
        NOTES_PASSWORD_HASHER=None,
        # A redis:// URL shared by several server processes, so that live
        # updates reach the pages connected to every process (notes/live.py).
        NOTES_SOCKETIO_QUEUE=None,
        # API tokens (the /auth/tokens page) last 30 days unless revoked.
        LOGIN_TOKEN_MAX_AGE=30 * 86400,
        # The Swagger UI page /api/docs is public on purpose: the API is the demo's.
        REST_DOCS=True,
        RESTX_ERROR_404_HELP=False,  # a 404's detail says what is missing, no guesses
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
    with app.app_context():
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    csrf.exempt(
        api.bp
    )  # the API takes bearer tokens, never the session cookie, to write
    auth.init_login(app)
    app.after_request(_save_login_changes)
    app.register_blueprint(views.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    live.init_app(app)
    cli.register(app)
    for code in (400, 401, 403, 404, 405, 429):
        app.register_error_handler(code, _error_page)

    if app.config["NOTES_AUTO_UPGRADE"]:
        with app.app_context():
            erlen_migrate.upgrade()
    return app


def _save_login_changes(response: Response) -> Response:
    """Commit what erlen-login changed during the request (a used remember-me token).

    ``auth.init_login`` sets the flag when a user was loaded from the cookie.
    """
    if g.pop(auth.LOGIN_CHANGED, False):
        db.session.commit()
    return response


def _error_page(error: HTTPException) -> tuple[t.Any, int, list[tuple[str, str]]]:
    """Answer an HTTP error with problem details under ``/api/``, else with an HTML page.

    The error's own headers (``Retry-After`` of a 429, ``Allow`` of a 405) are kept.
    """
    code = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if request.path.startswith("/api/"):
        body = {
            "type": "about:blank",
            "title": error.name,
            "status": code,
            "detail": error.description,
            "instance": request.path,
        }
        headers.append(("Content-Type", "application/problem+json"))
        return body, code, headers
    return render_template("error.html", error=error), code, headers
