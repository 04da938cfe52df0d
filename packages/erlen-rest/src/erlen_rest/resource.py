"""``Resource``: a class-based view whose methods handle the HTTP methods of one URL."""

from __future__ import annotations

import typing as t

from werkzeug.wrappers import Response as _BaseResponse

from erlen import current_app
from erlen import request
from erlen.views import MethodView

from .model import ModelBase
from .utils import unpack

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api

__all__ = ["Resource"]


class Resource(MethodView):
    """Handle one URL: define ``get``, ``post``, ... returning data, ``(data, code)`` or ``(data, code, headers)``.

    ``method_decorators`` (a list, or a dict per method) wrap the handler;
    ``representations`` maps media types to functions that build the response.
    ``HEAD`` falls back to ``get``.
    """

    representations: t.ClassVar[dict[str, t.Callable[..., t.Any]] | None] = None
    method_decorators: t.ClassVar[
        list[t.Callable[..., t.Any]] | dict[str, list[t.Callable[..., t.Any]]]
    ] = []

    def __init__(self, api: Api | None = None, *args: t.Any, **kwargs: t.Any) -> None:
        self.api = api

    def dispatch_request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        """Call the handler for the request's method, validate the payload, apply representations."""
        meth = getattr(self, request.method.lower(), None)
        if meth is None and request.method == "HEAD":
            meth = getattr(self, "get", None)
        assert meth is not None, f"Unimplemented method {request.method!r}"
        meth = current_app.ensure_sync(meth)
        decorators = self.method_decorators
        if isinstance(decorators, dict):
            decorators = decorators.get(request.method.lower(), [])
        for decorator in decorators:
            meth = decorator(meth)
        self.validate_payload(meth)
        resp = meth(*args, **kwargs)
        if isinstance(resp, _BaseResponse):
            return resp
        representations = self.representations or {}
        mediatype = request.accept_mimetypes.best_match(list(representations))
        if mediatype in representations:
            data, code, headers = unpack(resp)
            response = representations[mediatype](data, code, headers)
            response.headers["Content-Type"] = mediatype
            return response
        return resp

    def __validate_payload(self, expect: t.Any, collection: bool = False) -> None:
        if self.api is None:
            return
        data = request.get_json()  # malformed JSON is a 400, another media type a 415
        if collection:
            data = data if isinstance(data, list) else [data]
            for obj in data:
                expect.validate(obj, self.api.refresolver, self.api.format_checker)
        else:
            expect.validate(data, self.api.refresolver, self.api.format_checker)

    def validate_payload(self, func: t.Callable[..., t.Any]) -> None:
        """Validate the JSON body against the ``@expect(..., validate=True)`` models of ``func``."""
        doc = getattr(func, "__apidoc__", None)
        if isinstance(doc, dict):
            validate = doc.get("validate", None)
            if validate is None and self.api is not None:
                validate = self.api._validate
            if validate:
                for expect in doc.get("expect", []):
                    if isinstance(expect, list) and len(expect) == 1:
                        if isinstance(expect[0], ModelBase):
                            self.__validate_payload(expect[0], collection=True)
                    if isinstance(expect, ModelBase):
                        self.__validate_payload(expect, collection=False)
