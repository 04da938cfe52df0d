"""The documentation page of an API: Swagger UI when its assets are installed, else a plain page.

No CDN is ever used. Swagger UI's files come from the ``swagger-ui-bundle``
package when it is installed; otherwise the page links the OpenAPI document.
``REST_DOCS = False`` turns the page off (404).
"""

from __future__ import annotations

import html
import typing as t

from erlen import current_app
from erlen import make_response
from erlen import url_for

from . import errors

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api

__all__ = ["render_docs"]


def render_docs(api: Api) -> t.Any:
    """Render the docs page for ``api``."""
    if current_app.config.get("REST_DOCS") is False:
        errors.abort(404)
    if api._doc_view is not None:
        return api._doc_view()
    spec = url_for(api.endpoint("openapi")) if "openapi" in api.endpoints else api.specs_url
    title = html.escape(api.title)
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>Version {html.escape(api.version)}. The OpenAPI 3.1 document is at"
        f" <a href='{html.escape(spec)}'>{html.escape(spec)}</a>.</p></body></html>"
    )
    response = make_response(body)
    response.headers["Content-Security-Policy"] = "default-src 'self'"
    return response
