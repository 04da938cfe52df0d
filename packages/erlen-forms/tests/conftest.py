from __future__ import annotations

import pytest

from erlen import Erlen
from erlen.testing import ErlenClient
from erlen_forms import CSRFProtect


@pytest.fixture
def app() -> Erlen:
    """A bare app with a secret key; tests add CSRFProtect when they need it."""
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test secret", TESTING=True)
    return app


@pytest.fixture
def csrf(app: Erlen) -> CSRFProtect:
    return CSRFProtect(app)


@pytest.fixture
def client(app: Erlen) -> ErlenClient:
    return app.test_client()


def set_cookies(response: object) -> list[str]:
    """Every ``Set-Cookie`` header of a test response."""
    return response.headers.getlist("Set-Cookie")  # type: ignore[attr-defined, no-any-return]
