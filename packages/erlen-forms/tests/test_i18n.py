"""WTForms' messages in the locale a Babel integration picks."""

from __future__ import annotations

import pytest
from wtforms import StringField
from wtforms.validators import DataRequired

from erlen import Erlen
from erlen import request
from erlen.testing import ErlenClient
from erlen_forms import ErlenForm
from erlen_forms.i18n import translations


def get_locale() -> str | None:
    """This module stands in for a Babel integration's package: its locale selector."""
    return request.accept_languages.best_match(["en", "de", "zh"])


class FakeBabel:
    """Registered as ``app.extensions["babel"]``, as Flask-Babel does."""


class NameForm(ErlenForm):
    class Meta:
        csrf = False

    name = StringField(validators=[DataRequired()])


@pytest.fixture
def i18n_app(app: Erlen) -> Erlen:
    @app.post("/")
    def index() -> str:
        form = NameForm()
        form.validate()
        return form.name.errors[0]

    return app


def test_without_babel_messages_are_english(
    i18n_app: Erlen, client: ErlenClient
) -> None:
    assert client.post("/", headers={"Accept-Language": "de"}).text == (
        "This field is required."
    )


def test_with_babel_the_request_locale_wins(
    i18n_app: Erlen, client: ErlenClient
) -> None:
    i18n_app.extensions["babel"] = FakeBabel()
    assert client.post("/", headers={"Accept-Language": "de"}).text == (
        "Dieses Feld wird benötigt."
    )
    assert (
        client.post("/", headers={"Accept-Language": "zh"}).text == "该字段是必填字段。"
    )
    assert client.post("/", headers={"Accept-Language": "fr"}).text == (
        "This field is required."
    )
    i18n_app.config["WTF_I18N_ENABLED"] = False
    assert client.post("/", headers={"Accept-Language": "de"}).text == (
        "This field is required."
    )


def test_meta_locales_without_babel(app: Erlen, client: ErlenClient) -> None:
    class Spanish(NameForm):
        class Meta:
            locales = ["es"]

    @app.post("/")
    def index() -> str:
        form = Spanish()
        form.validate()
        return form.name.errors[0]

    assert client.post("/").text == "Este campo es obligatorio."


def test_outside_a_request() -> None:
    assert translations.gettext("This field is required.") == "This field is required."
    assert translations.ngettext("one", "many", 1) == "one"
    assert translations.ngettext("one", "many", 2) == "many"
    assert not translations.active()
