"""HTML pages: a visit counter kept in the session and a form that flashes."""

from __future__ import annotations

from erlen import Blueprint
from erlen import flash
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import session
from erlen import url_for
from erlen.typing import ResponseReturnValue

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """Count this browser's visits in its session cookie and show the count."""
    session["visits"] = session.get("visits", 0) + 1
    return render_template("pages/index.html", visits=session["visits"])


@bp.route("/greet", methods=["GET", "POST"])
def greet() -> ResponseReturnValue:
    """Show the greeting form; on a valid POST, flash a greeting and redirect."""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        if name:
            flash(f"Hello, {name}!", "success")
            return redirect(url_for("pages.index"))
        flash("Please enter a name.", "error")
    return render_template("pages/greet.html")
