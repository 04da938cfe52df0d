"""An erlen application built by a factory, the layout larger applications use."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from erlen import Erlen

from . import api
from . import pages


def create_app(test_config: cabc.Mapping[str, t.Any] | None = None) -> Erlen:
    """Create and configure the application.

    Configuration comes from defaults, then from every ``ERLEN_``-prefixed
    environment variable (``ERLEN_SECRET_KEY=...`` sets ``SECRET_KEY``; values
    that parse as JSON become numbers, booleans, lists...). Tests pass
    ``test_config`` instead, which replaces the environment.

    :param test_config: configuration to use instead of the environment.
    """
    app = Erlen(__name__)
    app.config.from_mapping(
        # Only for development: set ERLEN_SECRET_KEY to a long random value
        # anywhere else, or anyone can forge session cookies.
        SECRET_KEY="dev",
        SITE_NAME="Factory example",
    )
    if test_config is None:
        app.config.from_prefixed_env()
    else:
        app.config.from_mapping(test_config)

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    return app
