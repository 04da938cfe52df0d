"""Flask, the reference every erlen figure is divided by."""

from __future__ import annotations

import flask

from apps import flasklike
from apps import WSGIApp


def create(secret: bool) -> WSGIApp:
    """Return the Flask app, with ``SECRET_KEY`` set when ``secret`` is true."""
    return flasklike.build(flask, flask.Flask, secret)
