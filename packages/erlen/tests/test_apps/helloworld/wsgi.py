from __future__ import annotations

from hello import app

__all__ = ["app"]
