"""Type-checked, never run: hooks keep the signatures users give them."""

from __future__ import annotations

from erlen import Erlen
from erlen import Response

app = Erlen(__name__)


@app.after_request
def after_sync(response: Response) -> Response:
    return Response()


@app.after_request
async def after_async(response: Response) -> Response:
    return Response()


@app.before_request
def before_sync() -> None: ...


@app.before_request
async def before_async() -> None: ...


@app.teardown_appcontext
def teardown_sync(exc: BaseException | None) -> None: ...


@app.teardown_appcontext
async def teardown_async(exc: BaseException | None) -> None: ...


@app.template_filter
def reverse(s: str) -> str:
    return s[::-1]


@app.template_global()
def double(n: int) -> int:
    return n * 2


def current_user() -> str:
    return "me"


reverse_result: str = reverse("abc")
double_result: int = double(2)
