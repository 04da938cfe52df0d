"""``Request`` and ``Response``: Werkzeug's wrappers with what the app adds to them."""

from __future__ import annotations

import functools
import typing as t

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response as _WerkzeugResponse

from . import json
from ._werkzeug_compat import close_callbacks
from ._werkzeug_compat import get_cached_json
from ._werkzeug_compat import set_cached_json
from .config import cookie_size_limit
from .globals import _cv_app
from .inputs import guarded_input_stream
from .inputs import json_nesting_exceeds
from .inputs import parse_request_cookies
from .security import header_pairs

if t.TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.datastructures import Headers
    from werkzeug.datastructures import ImmutableMultiDict
    from werkzeug.datastructures import MultiDict
    from werkzeug.formparser import FormDataParser
    from werkzeug.routing import Rule


class Request(_WerkzeugRequest):
    """The request object: Werkzeug's request plus the routing results of the app.

    Limits on the body (:attr:`max_content_length`, :attr:`max_form_memory_size`,
    :attr:`max_form_parts`) read the app's config and can be set per request.
    Bad input is a 4xx, never a 500: an unreadable or malformed body is a 400,
    a body over the limit a 413 (chunked ones too), JSON nested deeper than
    ``MAX_JSON_DEPTH`` a 400; undecodable or oversized cookies are ignored.
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

    @cached_property
    def stream(self) -> t.IO[bytes]:
        """The body, read once: ``MAX_CONTENT_LENGTH`` is enforced on every read
        path (a longer body is a 413, never cut short), and a body the client
        sent malformed or did not finish is a 400."""
        if self.shallow:
            raise RuntimeError(
                "This request was created with 'shallow=True', reading"
                " from the input stream is disabled."
            )
        return guarded_input_stream(self.environ, self.max_content_length)

    async def stream_body(self, chunk_size: int = 65536) -> t.AsyncIterator[bytes]:
        """The body in pieces as the client sends it, for large uploads.

        Under ASGI, in a view marked :func:`~erlen.stream_request_body`, the
        body is read from the server as it arrives instead of before the
        view; :attr:`max_content_length` is enforced while streaming (413).
        Elsewhere it reads :attr:`stream` in ``chunk_size`` pieces.
        """
        from .asgi import AsgiInput

        source = self.environ.get("wsgi.input")
        if type(source) is not AsgiInput or "stream" in self.__dict__:
            stream = self.stream
            while chunk := stream.read(chunk_size):
                yield chunk
            return
        limit = self.max_content_length
        declared = self.content_length
        if limit is not None and declared is not None and declared > limit:
            raise RequestEntityTooLarge()
        size = 0
        while chunk := await source.next_chunk():
            size += len(chunk)
            if limit is not None and size > limit:
                raise RequestEntityTooLarge()
            yield chunk

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query string's parameters; raw bytes that are not UTF-8 are a 400.

        Servers that pass such bytes through unescaped would otherwise make
        Werkzeug raise ``UnicodeDecodeError`` (a 500) on first access.
        """
        try:
            return super().args
        except UnicodeDecodeError:
            raise BadRequest(
                "The query string is not valid UTF-8; percent-encode its bytes."
            ) from None

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """The cookies the client sent; one with raw non-ASCII bytes or a value
        longer than ``MAX_COOKIE_SIZE`` (unless it is ``0`` or ``None``) is
        left out, as if absent."""
        ctx = _cv_app.get(None)
        return parse_request_cookies(  # type: ignore[return-value]
            # What Werkzeug's ``headers.getlist("Cookie")`` gives for a WSGI
            # environ, without scanning the whole environ for it.
            self.environ.get("HTTP_COOKIE", ""),
            self.dict_storage_class,
            4093 if ctx is None else cookie_size_limit(ctx.app.config),
        )

    def make_form_data_parser(self) -> FormDataParser:
        """The form parser, set to report malformed bodies instead of ignoring them."""
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> t.IO[bytes]:
        stream = super()._get_file_stream(
            total_content_length, content_type, filename, content_length
        )
        self.__dict__.setdefault("_upload_streams", []).append(stream)
        return stream

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except Exception as e:
            for stream in self.__dict__.pop("_upload_streams", ()):
                stream.close()
            if not isinstance(e, ValueError):
                raise
            empty = self.parameter_storage_class()
            self.__dict__.update(form=empty, files=empty)
            raise BadRequest(f"The form data could not be parsed: {e}.") from e
        self.__dict__.pop("_upload_streams", None)
        ctx = _cv_app.get(None)
        if (
            ctx is not None
            and ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> t.Any | None:
        """Parse the body as JSON; see Werkzeug's ``Request.get_json``.

        A body that is not declared as JSON is a 415 (unless ``force``); one
        that is invalid, nested deeper than ``MAX_JSON_DEPTH`` or holds
        ``NaN``/``Infinity`` is a 400 saying why (``None`` with ``silent``).
        """
        if cache and (cached := get_cached_json(self))[silent] is not Ellipsis:
            return cached[silent]
        if not (force or self.is_json):
            return None if silent else self.on_json_loading_failed(None)
        data = self.get_data(cache=cache)
        limit = self._config_value("MAX_JSON_DEPTH", 256)
        try:
            # Parse first: the parser stops at the first invalid byte, so a
            # body such as ``[][][]...`` costs microseconds; the depth scan
            # then only runs over valid JSON, costing less than its parse.
            try:
                rv = self.json_module.loads(data)
            except RecursionError:
                raise ValueError("nesting is too deep") from None
            if limit is not None and json_nesting_exceeds(data, limit):
                raise ValueError(f"nesting is deeper than {limit} levels")
        except ValueError as e:
            if silent:
                rv = None
                if cache:
                    set_cached_json(self, (get_cached_json(self)[0], rv))
            else:
                rv = self.on_json_loading_failed(e)
                if cache:
                    set_cached_json(self, (rv, get_cached_json(self)[1]))
        else:
            if cache:
                set_cached_json(self, (rv, rv))
        return rv

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


@functools.lru_cache(maxsize=1024)
def _chain_of(name: str) -> tuple[str, ...]:
    parts = name.split(".")
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


def _blueprint_chain(name: str) -> list[str]:
    """``"a.b.c"`` -> ``["a.b.c", "a.b", "a"]``.

    A pure function of the name, so its bounded cache is shared by every app
    (see docs/internals.md).
    """
    return list(_chain_of(name))


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
            return cookie_size_limit(ctx.app.config) or 0  # 0: Werkzeug does not warn
        return super().max_cookie_size

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        """The headers to send; skips Werkzeug's defensive copy when none needs fixing.

        Werkzeug copies the headers to rewrite ``Location``/``Content-Location``,
        drop ``Content-Length`` on 1xx/204/304 and add a missing length. An
        ordinary response (2xx, length known, no location) needs none of that.
        """
        status = self.status_code
        if 200 <= status < 300 and status != 204:
            has_length = False
            for key, _value in header_pairs(self.headers):
                key = key.lower()
                if key == "content-length":
                    has_length = True
                elif key == "location" or key == "content-location":
                    break
            else:
                if has_length or not (
                    self.automatically_set_content_length and self.is_sequence
                ):
                    return self.headers
        return super().get_wsgi_headers(environ)

    def get_app_iter(self, environ: WSGIEnvironment) -> t.Iterable[bytes]:
        """The body to send; a body already held as one bytes object is sent as it is.

        Werkzeug wraps every body in a closing iterator that encodes it piece by
        piece. A body set from a string or bytes (``response.data``) with
        nothing to close needs neither, except for HEAD and bodiless statuses,
        which Werkzeug handles.
        """
        body = self.response
        if (
            type(body) is list
            and len(body) == 1
            and type(body[0]) is bytes
            and not close_callbacks(self)
            and not self.direct_passthrough
            and environ["REQUEST_METHOD"] != "HEAD"
            and 200 <= self.status_code < 300
            and self.status_code != 204
        ):
            return body
        return super().get_app_iter(environ)
