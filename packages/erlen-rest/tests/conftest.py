from __future__ import annotations

import typing as t

import pytest

from erlen import Erlen


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)
    app.config["TESTING"] = False
    return app


@pytest.fixture
def client(app: Erlen) -> t.Any:
    return app.test_client()
