"""erlen, built from the same view code as the Flask app."""

from __future__ import annotations

import erlen
from apps import flasklike
from apps import WSGIApp


def create(secret: bool) -> WSGIApp:
    """Return the erlen app, with ``SECRET_KEY`` set when ``secret`` is true."""
    return flasklike.build(erlen, erlen.Erlen, secret)
