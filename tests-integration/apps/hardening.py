"""An app with default settings that reads bodies every way, for malformed-input tests.

``MAX_CONTENT_LENGTH`` is lowered to 4 KiB (``HARDENING_MAX_BODY``) so the
limit tests send small bodies; every other setting is erlen's default.
"""

from __future__ import annotations

import os
import typing as t

from erlen import Erlen
from erlen import redirect
from erlen import request
from erlen import session
from erlen import url_for
from erlen.security import is_safe_redirect_url

app = Erlen(__name__)
app.config["SECRET_KEY"] = "hardening-test-secret-0123456789abcdef"
app.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("HARDENING_MAX_BODY", "4096"))
if os.environ.get("HARDENING_TRUSTED_HOSTS"):
    app.config["TRUSTED_HOSTS"] = os.environ["HARDENING_TRUSTED_HOSTS"].split(",")


@app.get("/")
def index() -> str:
    """Answer with plain text."""
    return "hardening app"


@app.post("/data")
def data() -> dict[str, int]:
    """Read the body with ``get_data``."""
    return {"len": len(request.get_data())}


@app.post("/stream")
def stream() -> dict[str, int]:
    """Read the body from ``request.stream``."""
    return {"len": len(request.stream.read())}


@app.post("/form")
def form() -> dict[str, t.Any]:
    """Parse the body as a form (urlencoded or multipart)."""
    return {
        "form": request.form.to_dict(),
        "files": {k: len(f.read()) for k, f in request.files.items()},
    }


@app.post("/json")
def json_body() -> dict[str, t.Any]:
    """Parse the body as JSON."""
    return {"got": request.json}


@app.get("/items/<int:item_id>")
def item(item_id: int) -> dict[str, int]:
    """Answer with a converted URL variable."""
    return {"id": item_id}


@app.get("/cookies")
def cookies() -> dict[str, t.Any]:
    """Echo the cookies and the session value."""
    return {"cookies": dict(request.cookies), "session": session.get("v")}


@app.post("/session")
def set_session() -> str:
    """Store a value in the session."""
    session["v"] = request.args.get("v", "1")
    return "saved"


@app.get("/login")
def login() -> t.Any:
    """Redirect to ``next`` only when it is safe, like a login view does."""
    target = request.args.get("next")
    if not is_safe_redirect_url(target):
        target = url_for("index")
    return redirect(target)


@app.get("/go")
def go() -> t.Any:
    """Redirect to any user-given URL (unsafe on purpose: tests the encoding)."""
    return redirect(request.args.get("to", "/"))
