"""A JSON API, mounted under ``/api``."""

from __future__ import annotations

import typing as t

from erlen import Blueprint
from erlen import current_app
from erlen import session

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/status")
def status() -> dict[str, t.Any]:
    """Report the site name and this browser's visit count as JSON."""
    return {
        "site": current_app.config["SITE_NAME"],
        "visits": session.get("visits", 0),
    }
