"""Checked with ``mypy --strict`` and pyright: the form pattern from the docs."""

from __future__ import annotations

from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from wtforms import StringField
from wtforms.validators import DataRequired

from erlen import Erlen
from erlen_forms import csrf_meta_tag
from erlen_forms import CSRFError
from erlen_forms import CSRFProtect
from erlen_forms import ErlenForm
from erlen_forms import generate_csrf
from erlen_forms import RecaptchaField
from erlen_forms import validate_csrf
from erlen_forms.file import FileAllowed
from erlen_forms.file import FileField
from erlen_forms.file import FileSize

app = Erlen(__name__)
csrf = CSRFProtect(app)


class NoteForm(ErlenForm):
    title = StringField(validators=[DataRequired()])
    attachment = FileField(validators=[FileAllowed(["pdf"]), FileSize(1024)])
    recaptcha = RecaptchaField(nonce=lambda: "n")


@app.post("/notes")
def new_note() -> str:
    form = NoteForm()
    if form.validate_on_submit():
        title: str | None = form.title.data
        upload: FileStorage | None = form.attachment.data
        return f"{title} {upload}"
    hidden: Markup = form.hidden_tag()
    return str(hidden)


@app.post("/hook")
@csrf.exempt
def hook() -> str:
    return "ok"


@app.errorhandler(CSRFError)
def csrf_failed(e: CSRFError) -> tuple[str, int]:
    return str(e.description), 400


def tokens() -> Markup:
    token: str = generate_csrf()
    validate_csrf(token)
    return csrf_meta_tag()
