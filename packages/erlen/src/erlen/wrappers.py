"""``Request`` and ``Response``: Werkzeug's wrappers with what the app adds to them."""

from __future__ import annotations

import typing as t

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response as _WerkzeugResponse

from . import json
from .globals import _cv_app

if t.TYPE_CHECKING:  # pragma: no cover
    from werkzeug.routing import Rule


class Request(_WerkzeugRequest):
    """The request object: Werkzeug's request plus the routing results of the app.

    Limits on the body (:attr:`max_content_length`, :attr:`max_form_memory_size`,
    :attr:`max_form_parts`) read the app's config and can be set per request.
    """

    json_module: t.Any = json

    #: The rule that matched, or ``None`` before matching or when nothing matched.
    url_rule: Rule | None = None
    #: The view arguments from the matched rule.
    view_args: dict[str, t.Any] | None = None
    #: The routing error (404, 405, redirect) if matching failed.
    routing_exception: HTTPException | None = None

    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None

    def _config_value(self, key: str, default: int | None) -> int | None:
        ctx = _cv_app.get(None)
        if ctx is None:
            return default
        return ctx.app.config[key]  # type: ignore[no-any-return]

    @property
    def max_content_length(self) -> int | None:
        """Largest body in bytes, from ``MAX_CONTENT_LENGTH`` unless set on this request."""
        if self._max_content_length is not None:
            return self._max_content_length
        return self._config_value("MAX_CONTENT_LENGTH", super().max_content_length)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """Largest non-file form field, from ``MAX_FORM_MEMORY_SIZE`` unless set here."""
        if self._max_form_memory_size is not None:
            return self._max_form_memory_size
        return self._config_value("MAX_FORM_MEMORY_SIZE", super().max_form_memory_size)

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property  # type: ignore[override]
    def max_form_parts(self) -> int | None:
        """Most multipart parts, from ``MAX_FORM_PARTS`` unless set on this request."""
        if self._max_form_parts is not None:
            return self._max_form_parts
        return self._config_value("MAX_FORM_PARTS", super().max_form_parts)

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @property
    def endpoint(self) -> str | None:
        """The endpoint that matched, or ``None``."""
        if self.url_rule is not None:
            return t.cast(str, self.url_rule.endpoint)
        return None

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint that owns the endpoint, or ``None``."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The blueprint and its parents, innermost first: ``["a.b", "a"]``."""
        name = self.blueprint
        if name is None:
            return []
        return _blueprint_chain(name)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        ctx = _cv_app.get(None)
        if (
            ctx is not None
            and ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        """Raise a 400 that says why the body is not valid JSON."""
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as ex:
            if e is not None:
                ctx = _cv_app.get(None)
                if ctx is not None and ctx.app.debug:
                    ex.description = (
                        f"Invalid JSON body. Failed to decode JSON object: {e}"
                    )
                else:
                    ex.description = f"Invalid JSON body: {e}"
            raise ex from e


_chain_cache: dict[str, list[str]] = {}


def _blueprint_chain(name: str) -> list[str]:
    """``"a.b.c"`` -> ``["a.b.c", "a.b", "a"]``, cached since names are few."""
    try:
        return list(_chain_cache[name])
    except KeyError:
        parts = name.split(".")
        chain = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        _chain_cache[name] = chain
        return list(chain)


class Response(_WerkzeugResponse):
    """The response object: HTML by default; cookies warn past ``MAX_COOKIE_SIZE``."""

    default_mimetype: str | None = "text/html"
    json_module = json
    autocorrect_location_header = False

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        """Read ``MAX_COOKIE_SIZE`` from the app's config, Werkzeug's default outside one."""
        ctx = _cv_app.get(None)
        if ctx is not None:
            return ctx.app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]
        return super().max_cookie_size
