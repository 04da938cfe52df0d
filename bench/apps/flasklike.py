"""The endpoints written once against the Flask API, for Flask and for erlen.

Both frameworks get the very same view code: only the module that provides the
application class, ``jsonify``, ``request``, ``session`` and ``render_template``
differs, so the measured difference is the framework's alone.
"""

from __future__ import annotations

import os
import typing as t

from apps import common
from apps import WSGIApp

_HERE = os.path.dirname(os.path.abspath(__file__))


def build(framework: t.Any, app_class: t.Any, secret: bool) -> WSGIApp:
    """Return an app of ``app_class`` whose views use ``framework``'s helpers.

    :param framework: the module, ``flask`` or ``erlen``.
    :param app_class: ``flask.Flask`` or ``erlen.Erlen``.
    :param secret: set ``SECRET_KEY`` (otherwise the session view is not usable).
    """
    jsonify = framework.jsonify
    request = framework.request
    session = framework.session
    render_template = framework.render_template

    app = app_class(__name__, root_path=_HERE, template_folder="templates")
    if secret:
        app.config["SECRET_KEY"] = common.SECRET_KEY

    def hello() -> str:
        return common.HELLO_TEXT

    def json_view() -> t.Any:
        return jsonify(common.JSON_PAYLOAD)

    def params(user_id: int, slug: str) -> t.Any:
        return jsonify(user_id=user_id, slug=slug)

    def template_view() -> str:
        return t.cast(
            str, render_template(common.TEMPLATE_NAME, **common.template_context())
        )

    def form() -> t.Any:
        return jsonify(common.form_result(request.form.to_dict()))

    def session_view() -> str:
        count = int(session.get("count", 0)) + 1
        session["count"] = count
        return common.session_text(count)

    app.add_url_rule("/", "hello", hello)
    app.add_url_rule("/json", "json", json_view)
    app.add_url_rule("/users/<int:user_id>/posts/<slug>", "params", params)
    app.add_url_rule("/template", "template", template_view)
    app.add_url_rule("/form", "form", form, methods=["POST"])
    app.add_url_rule("/session", "session", session_view)

    def make_route(index: int) -> t.Callable[[int], str]:
        def view(n: int) -> str:
            return common.route_text(index, n)

        return view

    for index in range(common.ROUTE_COUNT):
        prefix = common.route_rule_prefix(index)
        app.add_url_rule(f"{prefix}/<int:n>", f"r{index}", make_route(index))

    return t.cast(WSGIApp, app)
