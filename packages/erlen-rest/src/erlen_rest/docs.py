"""The documentation page of an API: Swagger UI from pinned local assets, never a CDN.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package (the
``docs`` extra pins it); without it the page links the OpenAPI document.
``REST_DOCS = False`` turns the page off (404). Flask-RESTX's ``SWAGGER_UI_*``
and ``SWAGGER_VALIDATOR_URL`` settings are honoured.

ReDoc's standalone bundle is vendored in ``static/redoc`` (its README names
the pinned version) and served at ``<doc>/redoc``; ``REST_REDOC = False`` (or
``REST_DOCS = False``) turns it off.
"""

from __future__ import annotations

import html
import json
import os
import typing as t

from erlen import current_app
from erlen import make_response
from erlen import send_from_directory
from erlen import url_for

from . import errors

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api

__all__ = ["REDOC_PATH", "render_docs", "render_redoc", "swagger_ui_path"]

#: The folder of the vendored ReDoc files.
REDOC_PATH = os.path.join(os.path.dirname(__file__), "static", "redoc")


def swagger_ui_path() -> str | None:
    """Return the folder of the installed Swagger UI assets, or ``None``."""
    try:
        import swagger_ui_bundle  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    return str(swagger_ui_bundle.swagger_ui_path)


def serve_asset(filename: str) -> t.Any:
    """Serve one Swagger UI file (404 when the assets are not installed)."""
    path = swagger_ui_path()
    if path is None or filename not in {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "oauth2-redirect.html",
    }:
        errors.abort(404)
    return send_from_directory(path, filename)


def _js(value: t.Any) -> str:
    return json.dumps(value).replace("</", "<\\/")


def render_docs(api: Api) -> t.Any:
    """Render the docs page for ``api``."""
    config = current_app.config
    if config.get("REST_DOCS") is False:
        errors.abort(404)
    if api._doc_view is not None:
        return api._doc_view()
    spec = (
        url_for(api.endpoint("openapi"))
        if "openapi" in api.endpoints
        else api.specs_url
    )
    title = html.escape(api.title)
    if swagger_ui_path() is None:
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>Version {html.escape(api.version)}. The OpenAPI 3.1 document is at"
            f" <a href='{html.escape(spec)}'>{html.escape(spec)}</a>.</p>"
            "<p>Install <code>erlen-rest[docs]</code> for Swagger UI.</p></body></html>"
        )
        return make_response(body)

    def asset(name: str) -> str:
        return html.escape(url_for(api.endpoint("swaggerui"), filename=name))

    validator = config.get("SWAGGER_VALIDATOR_URL")
    submit = config.get(
        "SWAGGER_SUPPORTED_SUBMIT_METHODS",
        ["get", "put", "post", "delete", "options", "head", "patch", "trace"],
    )
    lines = [
        f"url: {_js(spec)},",
        f"validatorUrl: {_js(validator) if validator else 'null'} || null,",
        'dom_id: "#swagger-ui",',
        "deepLinking: true,",
        f"docExpansion: {_js(config.get('SWAGGER_UI_DOC_EXPANSION', 'none'))},",
        f"displayOperationId: {_js(bool(config.get('SWAGGER_UI_OPERATION_ID', False)))},",
        f"displayRequestDuration: {_js(bool(config.get('SWAGGER_UI_REQUEST_DURATION', False)))},",
        f"supportedSubmitMethods: {_js(submit)},",
        "presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],",
        "plugins: [SwaggerUIBundle.plugins.DownloadUrl],",
        'layout: "StandaloneLayout"',
    ]
    body = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        f"<link rel='stylesheet' href='{asset('swagger-ui.css')}'>"
        f"<link rel='icon' href='{asset('favicon-32x32.png')}'></head>"
        "<body><div id='swagger-ui'></div>"
        f"<script src='{asset('swagger-ui-bundle.js')}'></script>"
        f"<script src='{asset('swagger-ui-standalone-preset.js')}'></script>"
        "<script>\nwindow.onload = function() {\n  window.ui = SwaggerUIBundle({\n    "
        + "\n    ".join(lines)
        + "\n  });\n};\n</script></body></html>"
    )
    return make_response(body)


def _redoc_enabled() -> bool:
    config = current_app.config
    return (
        config.get("REST_DOCS") is not False and config.get("REST_REDOC") is not False
    )


def serve_redoc_asset(filename: str) -> t.Any:
    """Serve ReDoc's vendored bundle (404 when ReDoc is turned off)."""
    if not _redoc_enabled() or filename != "redoc.standalone.js":
        errors.abort(404)
    return send_from_directory(REDOC_PATH, filename, mimetype="text/javascript")


def render_redoc(api: Api) -> t.Any:
    """Render the ReDoc page for ``api``: no inline script, nothing from another host."""
    if not _redoc_enabled():
        errors.abort(404)
    spec = (
        url_for(api.endpoint("openapi"))
        if "openapi" in api.endpoints
        else api.specs_url
    )
    script = url_for(api.endpoint("redoc_asset"), filename="redoc.standalone.js")
    body = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(api.title)}</title></head>"
        f"<body><redoc spec-url='{html.escape(spec)}'></redoc>"
        f"<script src='{html.escape(script)}'></script></body></html>"
    )
    return make_response(body)
