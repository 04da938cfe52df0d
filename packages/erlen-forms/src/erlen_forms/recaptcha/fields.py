"""The reCAPTCHA form field."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

from wtforms.fields import Field

from .validators import Recaptcha
from .widgets import RecaptchaWidget

__all__ = ["RecaptchaField"]


class RecaptchaField(Field):
    """Renders the reCAPTCHA widget and checks its answer with :class:`Recaptcha`.

    :param nonce: a CSP nonce for the ``<script>`` tag, or a callable that
        returns one for the current request.
    """

    widget = RecaptchaWidget()
    #: Set to the service's error code when the answer was refused.
    recaptcha_error: str | None = None

    def __init__(
        self,
        label: str = "",
        validators: cabc.Sequence[t.Any] | None = None,
        nonce: str | cabc.Callable[[], str] | None = None,
        **kwargs: t.Any,
    ) -> None:
        super().__init__(label, list(validators or [Recaptcha()]), **kwargs)
        self.nonce = nonce
