"""ErlenForm: filled from the request, validated on submit, rendered with its token."""

from __future__ import annotations

import io
import typing as t

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField
from wtforms import FieldList
from wtforms import FileField
from wtforms import Form
from wtforms import FormField
from wtforms import HiddenField
from wtforms import IntegerField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import ValidationError

from erlen import Erlen
from erlen import request
from erlen.testing import ErlenClient
from erlen_forms import ErlenForm


class NoCSRF(ErlenForm):
    class Meta:
        csrf = False


class NameForm(NoCSRF):
    name = StringField(validators=[DataRequired()])
    avatar = FileField()


class Address(Form):
    street = StringField()
    city = StringField(validators=[DataRequired()])


class Profile(NoCSRF):
    name = StringField(validators=[Length(max=10)])
    age = IntegerField()
    active = BooleanField()
    tags = SelectMultipleField(choices=["a", "b"])
    aliases = FieldList(StringField())
    address = FormField(Address)


def echo(app: Erlen, form_class: type[ErlenForm], **kwargs: t.Any) -> None:
    """Route ``/`` to answer with the form's data and errors."""

    @app.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def index() -> dict[str, t.Any]:
        form = form_class(**kwargs)
        valid = form.validate_on_submit()
        data = {k: v for k, v in form.data.items() if k != "avatar"}
        return {"valid": valid, "data": data, "errors": form.errors}


def test_filled_from_form_files_and_json(app: Erlen, client: ErlenClient) -> None:
    @app.post("/")
    def index() -> str:
        form = NameForm()
        avatar = form.avatar.data
        return f"{form.name.data}|{avatar.filename if avatar else None}"

    assert client.post("/", data={"name": "form"}).text == "form|None"
    upload = {"name": "files", "avatar": (io.BytesIO(b"x"), "me.png")}
    assert client.post("/", data=upload).text == "files|me.png"
    assert client.post("/", json={"name": "json"}).text == "json|None"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_submit_method(app: Erlen, client: ErlenClient, method: str) -> None:
    echo(app, NameForm)
    answer = client.open("/", method=method, data={"name": "x"}).json
    assert answer == {"valid": True, "data": {"name": "x"}, "errors": {}}


def test_get_is_not_a_submission(app: Erlen, client: ErlenClient) -> None:
    echo(app, NameForm)
    answer = client.get("/?name=query").json
    assert answer == {"valid": False, "data": {"name": None}, "errors": {}}


def test_formdata_none_and_explicit(app: Erlen, client: ErlenClient) -> None:
    @app.post("/")
    def index() -> str:
        ignored = NameForm(None, name="default")
        from_args = NameForm(request.args)
        return f"{ignored.name.data}|{from_args.name.data}"

    assert client.post("/?name=args", data={"name": "body"}).text == "default|args"


def test_json_fills_nested_lists_and_scalars(app: Erlen, client: ErlenClient) -> None:
    echo(app, Profile)
    body = {
        "name": "Ada",
        "age": 36,
        "active": False,
        "tags": ["a", "b"],
        "aliases": ["Countess", "Enchantress"],
        "address": {"street": "St James's Square", "city": "London"},
        "ignored": None,
    }
    answer = client.post("/", json=body).json
    assert answer is not None
    assert answer["errors"] == {}
    assert answer["data"] == {
        "name": "Ada",
        "age": 36,
        "active": False,
        "tags": ["a", "b"],
        "aliases": ["Countess", "Enchantress"],
        "address": {"street": "St James's Square", "city": "London"},
    }
    assert client.post("/", json={"active": True}).json["data"]["active"] is True  # type: ignore[index]


def test_json_of_wrong_shapes_is_a_validation_error_or_400(
    app: Erlen, client: ErlenClient
) -> None:
    echo(app, Profile)
    odd = client.post("/", json={"name": {"deep": [1, 2]}, "age": [1, 2, 3]}).json
    assert odd is not None
    assert odd["valid"] is False
    for body in ([1, 2], "text", 3):
        response = client.post("/", json=body)
        assert response.status_code == 400
        assert "must be an object" in response.text
    broken = client.post("/", data="{oops", content_type="application/json")
    assert broken.status_code == 400
    deep: t.Any = "x"
    for _ in range(40):
        deep = {"k": deep}
    assert client.post("/", json={"address": deep}).status_code == 400


def test_validate_on_submit_with_extra_validators(
    app: Erlen, client: ErlenClient
) -> None:
    def not_admin(form: t.Any, field: t.Any) -> None:
        if field.data == "admin":
            raise ValidationError("Taken.")

    @app.post("/")
    def index() -> dict[str, t.Any]:
        form = NameForm()
        valid = form.validate_on_submit(extra_validators={"name": [not_admin]})
        return {"valid": valid, "errors": form.errors}

    assert client.post("/", data={"name": "admin"}).json == {
        "valid": False,
        "errors": {"name": ["Taken."]},
    }
    assert client.post("/", data={"name": "ada"}).json == {"valid": True, "errors": {}}


def test_hidden_tag(app: Erlen) -> None:
    class F(ErlenForm):
        key = HiddenField()
        name = StringField()

    with app.test_request_context():
        form = F()
        everything = form.hidden_tag()
        assert 'name="csrf_token"' in everything
        assert 'name="key"' in everything
        assert 'name="name"' not in everything
        only_key = form.hidden_tag("key", "name", "missing")
        assert 'name="key"' in only_key
        assert "csrf_token" not in only_key


def test_meta_reads_the_config(app: Erlen) -> None:
    app.config.update(
        WTF_CSRF_ENABLED=False, WTF_CSRF_FIELD_NAME="_t", WTF_CSRF_TIME_LIMIT=60
    )
    with app.test_request_context():
        form = ErlenForm()
        assert not form.meta.csrf
        assert form.meta.csrf_field_name == "_t"
        assert form.meta.csrf_time_limit == 60
        assert form.meta.csrf_secret == "test secret"
        assert "csrf_token" not in form and "_t" not in form
    app.config["WTF_CSRF_ENABLED"] = True
    with app.test_request_context():
        assert "_t" in ErlenForm()


def test_form_csrf_round_trip(app: Erlen, client: ErlenClient) -> None:
    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        form = ErlenForm()
        if form.validate_on_submit():
            return "good"
        if form.errors:
            return " ".join(form.csrf_token.errors)
        return str(form.csrf_token.current_token)

    token = client.get("/").text
    assert client.post("/").text == "The CSRF token is missing."
    assert client.post("/", data={"csrf_token": "bad"}).text == (
        "The CSRF token is invalid."
    )
    assert client.post("/", data={"csrf_token": token}).text == "good"
    fresh = app.test_client()
    no_session = fresh.post("/", data={"csrf_token": token}).text
    assert no_session.startswith("The CSRF session token is missing.")
    assert "reload the page" in no_session


def test_form_csrf_without_secret_key_is_a_clear_error(app: Erlen) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context():
        form = ErlenForm()
        with pytest.raises(RuntimeError, match="secret key is required"):
            form.hidden_tag()


def test_plain_formdata_multidict(app: Erlen) -> None:
    with app.test_request_context(method="POST"):
        form = NameForm(MultiDict({"name": "given"}))
        assert form.name.data == "given"
        assert form.is_submitted()
