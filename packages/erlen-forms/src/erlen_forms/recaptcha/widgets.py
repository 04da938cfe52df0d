"""The reCAPTCHA widget: the service's script and the ``<div>`` it fills."""

from __future__ import annotations

import typing as t
import urllib.parse

from markupsafe import Markup
from wtforms.widgets import html_params

from erlen import current_app

__all__ = ["RecaptchaWidget"]

RECAPTCHA_SCRIPT_DEFAULT = "https://www.google.com/recaptcha/api.js"
RECAPTCHA_DIV_CLASS_DEFAULT = "g-recaptcha"


def _attribute_name(key: str) -> str:
    """WTForms' keyword-to-attribute rule: ``class_`` is ``class``, ``data_x`` is ``data-x``."""
    if key in ("class_", "class__", "for_"):
        return key[:-1]
    if key.startswith(("data_", "aria_")):
        return key.replace("_", "-")
    return key


class RecaptchaWidget:
    """Render the reCAPTCHA ``<script>`` and ``<div>``.

    Keyword arguments become attributes of the ``<div>`` and win over the
    config (``class_``, ``id``, ``data_theme="dark"``). ``RECAPTCHA_HTML``
    replaces the whole snippet; ``RECAPTCHA_ENABLED = False`` renders a comment.
    """

    def recaptcha_html(
        self, public_key: str, field: t.Any = None, **kwargs: t.Any
    ) -> Markup:
        """The snippet for ``public_key``; ``field`` gives the nonce and default id."""
        config = current_app.config
        html = config.get("RECAPTCHA_HTML")
        if html:
            return Markup(html)
        script = config.get("RECAPTCHA_SCRIPT") or RECAPTCHA_SCRIPT_DEFAULT
        params = config.get("RECAPTCHA_PARAMETERS")
        if params:
            script += "?" + urllib.parse.urlencode(params)
        attrs: dict[str, t.Any] = {
            "class": config.get("RECAPTCHA_DIV_CLASS") or RECAPTCHA_DIV_CLASS_DEFAULT
        }
        if field is not None and getattr(field, "id", None):
            attrs["id"] = field.id
        for key, value in (config.get("RECAPTCHA_DATA_ATTRS") or {}).items():
            attrs[f"data-{key}"] = value
        attrs["data-sitekey"] = public_key
        for key, value in kwargs.items():
            attrs[_attribute_name(key)] = value
        nonce = getattr(field, "nonce", None)
        if callable(nonce):
            nonce = nonce()
        nonce_attr = Markup(' nonce="{}"').format(nonce) if nonce else ""
        return Markup(
            '<script src="{}" async defer{}></script>\n<div {}></div>'
        ).format(script, nonce_attr, Markup(html_params(**attrs)))

    def __call__(self, field: t.Any, error: t.Any = None, **kwargs: t.Any) -> Markup:
        config = current_app.config
        if not config.get("RECAPTCHA_ENABLED", True):
            return Markup("<!-- recaptcha disabled -->")
        try:
            public_key = config["RECAPTCHA_PUBLIC_KEY"]
        except KeyError:
            raise RuntimeError(
                "RECAPTCHA_PUBLIC_KEY config not set: set it to the site key the"
                " reCAPTCHA admin console gave you."
            ) from None
        return self.recaptcha_html(public_key, field, **kwargs)
