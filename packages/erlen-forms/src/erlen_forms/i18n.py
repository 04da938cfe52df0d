"""WTForms' own messages in the request's locale, when a Babel integration is installed.

An integration registered as ``app.extensions["babel"]`` (Flask-Babel's
convention) whose package has a ``get_locale()`` function decides the locale;
the messages come from the catalogues WTForms ships. Without one, forms use
WTForms' defaults (``Meta.locales``).
"""

from __future__ import annotations

import gettext
import importlib
import typing as t

from wtforms.i18n import DummyTranslations
from wtforms.i18n import messages_path

from erlen import current_app
from erlen import g
from erlen import has_request_context

__all__ = ["translations", "Translations"]

_CACHE = "_erlen_forms_translations"


def _locale() -> str | None:
    """The locale the app's Babel integration chose for this request, or ``None``."""
    state = current_app.extensions.get("babel")
    if state is None:
        return None
    package = type(state).__module__.partition(".")[0]
    try:
        get_locale = importlib.import_module(package).get_locale
    except (ImportError, AttributeError):
        return None
    locale = get_locale()
    return None if locale is None else str(locale)


def _get_translations() -> t.Any:
    """WTForms' catalogue for this request's locale (cached in ``g``), or ``None``."""
    if not has_request_context() or "babel" not in current_app.extensions:
        return None
    cached = g.get(_CACHE)
    if cached is None:
        locale = _locale()
        if locale is None:
            cached = DummyTranslations()
        else:
            cached = gettext.translation(
                "wtforms", messages_path(), [locale], fallback=True
            )
        setattr(g, _CACHE, cached)
    return cached


class Translations:
    """The ``gettext``/``ngettext`` object WTForms asks for its messages."""

    def active(self) -> bool:
        """Whether a Babel integration decides the language of this request."""
        return has_request_context() and "babel" in current_app.extensions

    def gettext(self, string: str) -> str:
        """Translate ``string`` into the request's locale."""
        found = _get_translations()
        return string if found is None else t.cast(str, found.gettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate the singular or plural form for ``n``."""
        found = _get_translations()
        if found is None:
            return singular if n == 1 else plural
        return t.cast(str, found.ngettext(singular, plural, n))


#: The shared :class:`Translations` instance forms use.
translations = Translations()
