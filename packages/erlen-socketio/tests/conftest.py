from __future__ import annotations

import pytest

from erlen import Erlen
from erlen_socketio import SocketIO


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)
    app.config["SECRET_KEY"] = "test secret"
    return app


@pytest.fixture
def socketio(app: Erlen) -> SocketIO:
    return SocketIO(app)
