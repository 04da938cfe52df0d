from __future__ import annotations

import erlen

frontend = erlen.Blueprint("frontend", __name__, template_folder="templates")


@frontend.route("/")
def index() -> str:
    return erlen.render_template("frontend/index.html")


@frontend.route("/missing")
def missing_template() -> str:
    return erlen.render_template("missing_template.html")
