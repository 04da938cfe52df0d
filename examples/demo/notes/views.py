"""The ``notes`` blueprint: the HTML pages to list, read, write and delete notes."""

from __future__ import annotations

import typing as t

from erlen import Blueprint
from erlen import current_app
from erlen import flash
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import session
from erlen import url_for

from .models import BODY_MAX
from .models import db
from .models import Note
from .models import NOTE_ID
from .models import TITLE_MAX

bp = Blueprint("notes", __name__)

RECENT_MAX = 5


@bp.get("/")
def index() -> str:
    """List the notes, most recently changed first, one page at a time (``?page=``)."""
    page = db.paginate(
        db.select(Note).order_by(Note.updated.desc(), Note.id.desc()),
        per_page=current_app.config["NOTES_PER_PAGE"],
        max_per_page=current_app.config["NOTES_PER_PAGE"],
    )
    return render_template("notes/index.html", page=page)


@bp.route("/notes/new", methods=["GET", "POST"])
def create() -> t.Any:
    """Show the form for a new note; on POST, validate and save it."""
    values = {"title": "", "body": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _read_form()
        if not errors:
            note = Note(title=values["title"], body=values["body"])
            db.session.add(note)
            db.session.commit()
            flash(f"Created “{note.title}”.", "success")
            return redirect(url_for("notes.detail", note_id=note.id))
    status = 400 if errors else 200
    return render_template(
        "notes/form.html", note=None, values=values, errors=errors
    ), status


@bp.get(f"/notes/{NOTE_ID}")
def detail(note_id: int) -> str:
    """Show one note and remember it in the session's "recently viewed" list."""
    note = db.get_or_404(Note, note_id, description=f"There is no note {note_id}.")
    recent = [note.id, *(i for i in _recent_ids() if i != note.id)]
    session["recent"] = recent[:RECENT_MAX]
    return render_template("notes/detail.html", note=note)


@bp.route(f"/notes/{NOTE_ID}/edit", methods=["GET", "POST"])
def edit(note_id: int) -> t.Any:
    """Show the form to change a note; on POST, validate and save the change."""
    note = db.get_or_404(Note, note_id, description=f"There is no note {note_id}.")
    values = {"title": note.title, "body": note.body}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = _read_form()
        if not errors:
            note.title, note.body = values["title"], values["body"]
            db.session.commit()
            flash(f"Saved “{note.title}”.", "success")
            return redirect(url_for("notes.detail", note_id=note.id))
    status = 400 if errors else 200
    return render_template(
        "notes/form.html", note=note, values=values, errors=errors
    ), status


@bp.post(f"/notes/{NOTE_ID}/delete")
def delete(note_id: int) -> t.Any:
    """Delete a note, then go back to the list."""
    note = db.get_or_404(Note, note_id, description=f"There is no note {note_id}.")
    db.session.delete(note)
    db.session.commit()
    if note_id in _recent_ids():
        session["recent"] = [i for i in _recent_ids() if i != note_id]
    flash(f"Deleted “{note.title}”.", "success")
    return redirect(url_for("notes.index"))


@bp.app_context_processor
def recent_notes() -> dict[str, t.Any]:
    """Give every template ``recent_notes``: the notes this visitor viewed last."""
    ids = _recent_ids()
    if not ids:
        return {"recent_notes": []}
    found = {
        n.id: n for n in db.session.scalars(db.select(Note).where(Note.id.in_(ids)))
    }
    return {"recent_notes": [found[i] for i in ids if i in found]}


def _recent_ids() -> list[int]:
    value = session.get("recent")
    if not isinstance(value, list):
        return []
    return [i for i in value if isinstance(i, int)]


def _read_form() -> tuple[dict[str, str], dict[str, str]]:
    """Return the submitted title and body, and an error message per bad field."""
    values = {
        "title": request.form.get("title", "").strip(),
        "body": request.form.get("body", "").strip(),
    }
    errors = {}
    if not values["title"]:
        errors["title"] = "Give the note a title."
    elif len(values["title"]) > TITLE_MAX:
        errors["title"] = f"Keep the title to {TITLE_MAX} characters or fewer."
    if len(values["body"]) > BODY_MAX:
        errors["body"] = f"Keep the text to {BODY_MAX:,} characters or fewer."
    return values, errors
