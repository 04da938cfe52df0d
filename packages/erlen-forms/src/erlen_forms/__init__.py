"""erlen-forms: WTForms for erlen, with CSRF protection, uploads and reCAPTCHA.

Flask-WTF's API under erlen's names: :class:`ErlenForm` (``FlaskForm``),
:class:`CSRFProtect`, the file fields and the reCAPTCHA field.
"""

from __future__ import annotations

from wtforms import Form as Form

from .csrf import csrf_meta_tag as csrf_meta_tag
from .csrf import CSRFError as CSRFError
from .csrf import CSRFProtect as CSRFProtect
from .csrf import generate_csrf as generate_csrf
from .csrf import validate_csrf as validate_csrf
from .form import ErlenForm as ErlenForm
from .recaptcha import Recaptcha as Recaptcha
from .recaptcha import RecaptchaField as RecaptchaField
from .recaptcha import RecaptchaWidget as RecaptchaWidget

__version__ = "0.1.0"

__all__ = [
    "CSRFError",
    "CSRFProtect",
    "ErlenForm",
    "Form",
    "Recaptcha",
    "RecaptchaField",
    "RecaptchaWidget",
    "csrf_meta_tag",
    "generate_csrf",
    "validate_csrf",
]
