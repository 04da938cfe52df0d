"""The one HTTP call the reCAPTCHA validator makes, with a time limit.

``erlen_forms.recaptcha.validators.http`` is this module: tests replace its
:func:`urlopen` to answer for the verification service.
"""

from __future__ import annotations

import typing as t
import urllib.request

from erlen import current_app

__all__ = ["urlopen"]


def urlopen(url: str, data: bytes) -> t.Any:
    """POST ``data`` to ``url``; give up after ``RECAPTCHA_TIMEOUT`` seconds (10)."""
    timeout = float(current_app.config.get("RECAPTCHA_TIMEOUT", 10.0))
    return urllib.request.urlopen(url, data, timeout=timeout)
