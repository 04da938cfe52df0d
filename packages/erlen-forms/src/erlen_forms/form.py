"""``ErlenForm``: a WTForms form bound to the current request, with a CSRF token field."""

from __future__ import annotations

import collections.abc as cabc
import typing as t
from functools import cached_property

from markupsafe import Markup
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest
from wtforms import Form
from wtforms.csrf.core import CSRF
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import Field
from wtforms.fields import HiddenField
from wtforms.meta import DefaultMeta
from wtforms.validators import ValidationError
from wtforms.widgets import HiddenInput

from erlen import current_app
from erlen import g
from erlen import has_request_context
from erlen import request
from erlen import session

from . import csrf as _csrf
from .i18n import translations

__all__ = ["ErlenForm", "SUBMIT_METHODS"]

#: The methods whose body fills a form automatically.
SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _Auto:
    """Marks "read the form data from the request" (the default)."""


def _is_submitted() -> bool:
    return has_request_context() and request.method in SUBMIT_METHODS


def _flatten_json(
    value: object, key: str, out: MultiDict[str, t.Any], depth: int = 0
) -> None:
    """Add ``value`` to ``out`` as the strings an HTML form would send.

    Objects become WTForms' ``FormField`` names (``address-street``); lists add
    every value under ``key`` (for multiple selects) and under indexed keys
    (``tags-0``, for ``FieldList``); ``null`` adds nothing.
    """
    if depth > 32:
        raise BadRequest("The JSON body is nested too deeply for a form.")
    if value is None:
        return
    if isinstance(value, dict):
        for sub, item in value.items():
            _flatten_json(item, f"{key}-{sub}" if key else str(sub), out, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, (dict, list)) and item is not None:
                out.add(key, _scalar(item))
            _flatten_json(item, f"{key}-{index}", out, depth + 1)
    else:
        out.add(key, _scalar(value))


def _scalar(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _json_formdata() -> ImmutableMultiDict[str, t.Any]:
    body = request.get_json()
    if not isinstance(body, dict):
        raise BadRequest(
            "The JSON body must be an object whose keys are the form's field names."
        )
    out: MultiDict[str, t.Any] = MultiDict()
    _flatten_json(body, "", out)
    return ImmutableMultiDict(out)


class _LazyCSRFTokenField(CSRFTokenField):
    """The token field; it makes its token only when read or rendered.

    WTForms makes the token when the form is built, which writes the session
    and sets a cookie on every page that builds a form, rendered or not.
    """

    _token: str | None = None

    def process(self, *args: t.Any, **kwargs: t.Any) -> None:
        HiddenField.process(self, *args, **kwargs)

    @property
    def current_token(self) -> str | None:  # pyright: ignore[reportIncompatibleVariableOverride]
        """The token to render, made on first use."""
        if self._token is None:
            self._token = self.csrf_impl.generate_csrf_token(self)
        return self._token

    @current_token.setter
    def current_token(self, value: str | None) -> None:
        self._token = value


class _ErlenFormCSRF(CSRF):
    """WTForms' CSRF hook, backed by :func:`erlen_forms.csrf.generate_csrf`."""

    field_class = _LazyCSRFTokenField
    meta: DefaultMeta

    def setup_form(self, form: t.Any) -> t.Any:
        self.meta = form.meta
        return super().setup_form(form)

    def _secret(self) -> str | bytes | None:
        # The configured key is passed as None so SECRET_KEY_FALLBACKS apply.
        secret = self.meta.csrf_secret
        return None if secret == _csrf._configured_key() else secret

    def generate_csrf_token(self, csrf_token_field: t.Any) -> str:
        return _csrf.generate_csrf(
            secret_key=self._secret(), token_key=self.meta.csrf_field_name
        )

    def validate_csrf_token(self, form: t.Any, field: t.Any) -> None:
        time_limit = self.meta.csrf_time_limit
        if g.get("csrf_valid", False):
            # CSRFProtect accepted the request; a form with a shorter time
            # limit still refuses the token it accepted.
            _csrf._token_time_ok(time_limit)
            return
        try:
            _csrf._verify(
                field.data, self._secret(), time_limit, self.meta.csrf_field_name
            )
        except _csrf._TokenError as e:
            _csrf.logger.info(e.reason)
            raise ValidationError(e.description) from None


class ErlenForm(Form):
    """A form that reads the current request and carries a CSRF token field.

    On POST, PUT, PATCH and DELETE it is filled from ``request.form`` and
    ``request.files``, or from the JSON body (an object; nested objects fill
    ``FormField`` fields). Pass ``formdata=None`` to fill it from ``obj`` or
    keyword arguments only, or any multidict to use that instead.
    """

    class Meta(DefaultMeta):
        """Reads ``WTF_CSRF_*`` and ``WTF_I18N_ENABLED`` from the app's config."""

        csrf_class = _ErlenFormCSRF
        #: Where the token's secret lives (for code that reads it; unused here).
        csrf_context: t.Any = session

        @cached_property
        def csrf(self) -> bool:  # type: ignore[override]
            """Whether the form has a token field: ``WTF_CSRF_ENABLED``."""
            return bool(current_app.config.get("WTF_CSRF_ENABLED", True))

        @cached_property
        def csrf_secret(self) -> t.Any:  # type: ignore[override]
            """The signing key: ``WTF_CSRF_SECRET_KEY``, else ``SECRET_KEY``."""
            return _csrf._configured_key()

        @cached_property
        def csrf_field_name(self) -> str:  # type: ignore[override]
            """The token field's name and session key: ``WTF_CSRF_FIELD_NAME``."""
            return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")  # type: ignore[no-any-return]

        @cached_property
        def csrf_time_limit(self) -> t.Any:
            """Seconds (or a timedelta) a token stays valid: ``WTF_CSRF_TIME_LIMIT``."""
            return current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)

        def wrap_formdata(self, form: t.Any, formdata: t.Any) -> t.Any:
            if formdata is not _Auto:
                return formdata
            if not _is_submitted():
                return None
            if request.files:
                files: t.Any = request.files
                return CombinedMultiDict((files, request.form))
            if request.form:
                return request.form
            if request.is_json:
                return _json_formdata()
            return None

        def get_translations(self, form: t.Any) -> t.Any:
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            if not translations.active():
                return super().get_translations(form)
            return translations

    def __init__(self, formdata: t.Any = _Auto, **kwargs: t.Any) -> None:
        super().__init__(formdata=formdata, **kwargs)

    def is_submitted(self) -> bool:
        """Whether the request is a submission: POST, PUT, PATCH or DELETE."""
        return _is_submitted()

    def validate_on_submit(
        self, extra_validators: cabc.Mapping[str, t.Any] | None = None
    ) -> bool:
        """:meth:`is_submitted` and :meth:`validate` in one call."""
        return self.is_submitted() and self.validate(extra_validators=extra_validators)

    def hidden_tag(self, *fields: str | Field) -> Markup:
        """Render the hidden fields (the CSRF token among them), or only ``fields``."""

        def hidden(chosen: cabc.Iterable[t.Any]) -> cabc.Iterator[Field]:
            for field in chosen:
                if isinstance(field, str):
                    field = getattr(self, field, None)
                if field is None or not isinstance(field.widget, HiddenInput):
                    continue
                yield field

        return Markup("\n".join(str(f) for f in hidden(fields or self)))
