"""The JSON depth limit costs nothing extra on bodies the parser rejects."""

from __future__ import annotations

import typing as t

import pytest

import erlen
import erlen.wrappers

#: Through the WSGI and the ASGI entry, the apps made in helpers too.
pytestmark = pytest.mark.usefixtures("any_app_entry")


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the size of every depth scan the request wrapper runs."""
    calls: list[int] = []
    real = erlen.wrappers.json_nesting_exceeds

    def counting(data: bytes | str, limit: int) -> bool:
        calls.append(len(data))
        return real(data, limit)

    monkeypatch.setattr(erlen.wrappers, "json_nesting_exceeds", counting)
    return calls


def _app() -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.config["MAX_JSON_DEPTH"] = 8

    @app.post("/")
    def index() -> t.Any:
        return {"got": type(erlen.request.json).__name__}

    return app


@pytest.mark.parametrize(
    "body",
    [b"[]" * 100_000, b"{}" * 100_000, b"[" * 50 + b"x", b"[[[[[[[[[[]]]]]]]]]] 1"],
)
def test_invalid_body_is_rejected_without_a_depth_scan(
    scans: list[int], body: bytes
) -> None:
    response = (
        _app().test_client().post("/", data=body, content_type="application/json")
    )
    assert response.status_code == 400
    assert scans == []


def test_deep_valid_body_is_still_refused(scans: list[int]) -> None:
    body = b"[" * 20 + b"]" * 20
    response = (
        _app().test_client().post("/", data=body, content_type="application/json")
    )
    assert response.status_code == 400
    assert b"deeper than 8 levels" in response.data
    assert scans == [len(body)]


def test_shallow_valid_body_passes() -> None:
    body = b"[" + b",".join([b"[[]]"] * 1000) + b"]"
    response = (
        _app().test_client().post("/", data=body, content_type="application/json")
    )
    assert response.json == {"got": "list"}


def test_very_deep_body_is_a_400() -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    response = (
        _app().test_client().post("/", data=body, content_type="application/json")
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "status", "scanned"),
    [
        (b"[]" * 100_000, 400, False),
        (b"[" * 20 + b"]" * 20, 400, True),
        (b"[" * 8 + b"]" * 8, 200, True),
    ],
    ids=["invalid", "too-deep", "shallow"],
)
def test_async_view_reads_json_with_the_same_limits(
    scans: list[int], body: bytes, status: int, scanned: bool
) -> None:
    """An async view (awaited on the ASGI loop) reads the body the same way."""
    app = erlen.Erlen(__name__)
    app.config["MAX_JSON_DEPTH"] = 8

    @app.post("/")
    async def index() -> t.Any:
        return {"got": type(erlen.request.get_json()).__name__}

    response = app.test_client().post("/", data=body, content_type="application/json")
    assert response.status_code == status
    assert scans == ([len(body)] if scanned else [])
