"""HTTP status codes under the name Flask-RESTX code imports (``_http.HTTPStatus``)."""

from __future__ import annotations

from http import HTTPStatus as HTTPStatus

__all__ = ["HTTPStatus"]
