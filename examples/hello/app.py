"""The smallest erlen application: one route that answers with text."""

from __future__ import annotations

from erlen import Erlen

app = Erlen(__name__)


@app.get("/")
def index() -> str:
    """Greet whoever asks for the front page."""
    return "Hello, World!"
