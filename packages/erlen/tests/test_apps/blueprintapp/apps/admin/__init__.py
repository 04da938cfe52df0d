from __future__ import annotations

import erlen

admin = erlen.Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
)


@admin.route("/")
def index() -> str:
    return erlen.render_template("admin/index.html")


@admin.route("/index2")
def index2() -> str:
    return erlen.render_template("./admin/index.html")
