"""The validator that asks the reCAPTCHA service whether the answer is right."""

from __future__ import annotations

import json
import typing as t
import urllib.parse

from wtforms import ValidationError

from erlen import current_app
from erlen import request

from . import _http as http

__all__ = ["Recaptcha", "http"]

RECAPTCHA_VERIFY_SERVER_DEFAULT = "https://www.google.com/recaptcha/api/siteverify"
RECAPTCHA_ERROR_CODES = {
    "missing-input-secret": "The secret parameter is missing.",
    "invalid-input-secret": "The secret parameter is invalid or malformed.",
    "missing-input-response": "The response parameter is missing.",
    "invalid-input-response": "The response parameter is invalid or malformed.",
}
#: The answer the widget posts, in the form or in a JSON body.
RESPONSE_FIELD = "g-recaptcha-response"


def _submitted_response() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get(RESPONSE_FIELD, "") if isinstance(body, dict) else ""
    else:
        value = request.form.get(RESPONSE_FIELD, "")
    return value if isinstance(value, str) else ""


class Recaptcha:
    """Check the reCAPTCHA answer with the service at ``RECAPTCHA_VERIFY_SERVER``.

    Skipped when the app is testing or ``RECAPTCHA_ENABLED`` is off. A service
    that cannot be reached or answers garbage fails the field, it never
    becomes a 500.
    """

    def __init__(self, message: str | None = None) -> None:
        if message is None:
            message = RECAPTCHA_ERROR_CODES["missing-input-response"]
        self.message = message

    def __call__(self, form: t.Any, field: t.Any) -> bool | None:
        app = current_app
        if app.testing or not app.config.get("RECAPTCHA_ENABLED", True):
            return True
        response = _submitted_response()
        if not response:
            raise ValidationError(field.gettext(self.message))
        if not self._validate_recaptcha(response, request.remote_addr):
            field.recaptcha_error = "incorrect-captcha-sol"
            raise ValidationError(field.gettext(self.message))
        return None

    def _validate_recaptcha(self, response: str, remote_addr: str | None) -> bool:
        """Ask the service; ``True`` when it accepts the answer."""
        config = current_app.config
        try:
            private_key = config["RECAPTCHA_PRIVATE_KEY"]
        except KeyError:
            raise RuntimeError(
                "No RECAPTCHA_PRIVATE_KEY config set: set it to the secret key"
                " the reCAPTCHA admin console gave you."
            ) from None
        verify_server = config.get("RECAPTCHA_VERIFY_SERVER") or (
            RECAPTCHA_VERIFY_SERVER_DEFAULT
        )
        data = urllib.parse.urlencode(
            {"secret": private_key, "remoteip": remote_addr or "", "response": response}
        ).encode("utf-8")
        try:
            answer = http.urlopen(verify_server, data)
            status = getattr(answer, "status", None)
            if status is None:
                status = answer.code
            if status != 200:
                return False
            result = json.loads(answer.read())
        except (OSError, ValueError):  # unreachable, timed out, HTTP error, bad JSON
            raise ValidationError(
                "The reCAPTCHA answer could not be verified. Please try again."
            ) from None
        if not isinstance(result, dict):
            return False
        if result.get("success") is True:
            return True
        codes = result.get("error-codes") or []
        for error in codes if isinstance(codes, list) else []:
            if error in RECAPTCHA_ERROR_CODES:
                raise ValidationError(RECAPTCHA_ERROR_CODES[error])
        return False
