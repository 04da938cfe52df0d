"""reCAPTCHA (and compatible services such as hCaptcha) for forms."""

from __future__ import annotations

from .fields import RecaptchaField as RecaptchaField
from .validators import Recaptcha as Recaptcha
from .widgets import RecaptchaWidget as RecaptchaWidget

__all__ = ["Recaptcha", "RecaptchaField", "RecaptchaWidget"]
