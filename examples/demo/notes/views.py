"""The ``notes`` blueprint: the notebook's pages (list, read, write, comment, hide)."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa

from erlen import abort
from erlen import Blueprint
from erlen import current_app
from erlen import flash
from erlen import redirect
from erlen import render_template
from erlen import url_for
from erlen_login import current_user
from erlen_login import login_required
from erlen_login import roles_required

from . import live
from .forms import CommentForm
from .forms import NoteForm
from .models import Comment
from .models import db
from .models import Note
from .models import NOTE_ID
from .schemas import CommentOut
from .schemas import NoteOut

bp = Blueprint("notes", __name__)


def visible_notes(user: t.Any = None) -> sa.Select[t.Any]:
    """Select the notes ``user`` (the current visitor by default) may see.

    Hidden notes are seen only by their author and the admins.
    """
    if user is None:
        user = current_user
    query = sa.select(Note)
    if user.has_role("admin"):
        return query
    if user.is_authenticated:
        return query.where(sa.or_(Note.hidden.is_(False), Note.author_id == user.id))
    return query.where(Note.hidden.is_(False))


def get_note_or_404(note_id: int) -> Note:
    """Return a note the visitor may see, or answer 404 (hidden notes too)."""
    note: Note | None = db.session.scalar(visible_notes().where(Note.id == note_id))
    if note is None:
        abort(404, f"There is no note {note_id}.")
    return note


def may_change(note: Note) -> bool:
    """Whether the current user may edit or delete ``note``: its author or an admin."""
    if not current_user.is_authenticated:
        return False
    return bool(note.author_id == current_user.id or current_user.has_role("admin"))


@bp.app_context_processor
def note_helpers() -> dict[str, t.Any]:
    """Give templates ``may_change(note)``."""
    return {"may_change": may_change}


@bp.get("/")
def index() -> str:
    """List the notes, newest first, one page at a time (``?page=``)."""
    per_page = current_app.config["NOTES_PER_PAGE"]
    page = db.paginate(
        visible_notes().order_by(Note.created.desc(), Note.id.desc()),
        per_page=per_page,
        max_per_page=per_page,
    )
    return render_template("notes/index.html", page=page)


@bp.route("/notes/new", methods=["GET", "POST"])
@login_required
def create() -> t.Any:
    """Show the form for a new note; on POST, validate and save it."""
    form = NoteForm()
    if form.validate_on_submit():
        note = Note(
            title=form.title.data or "",
            body=form.body.data or "",
            author_id=current_user.id,
        )
        db.session.add(note)
        db.session.commit()
        live.publish("note_created", NoteOut.of(note).model_dump(mode="json"))
        flash(f"Created “{note.title}”.", "success")
        return redirect(url_for("notes.detail", note_id=note.id))
    status = 400 if form.errors else 200
    return render_template("notes/form.html", form=form, note=None), status


@bp.get(f"/notes/{NOTE_ID}")
def detail(note_id: int) -> str:
    """Show one note with its comments, and the form to add one."""
    note = get_note_or_404(note_id)
    return render_template("notes/detail.html", note=note, form=CommentForm())


@bp.post(f"/notes/{NOTE_ID}/comments")
@login_required
def comment(note_id: int) -> t.Any:
    """Add a comment to a note."""
    note = get_note_or_404(note_id)
    form = CommentForm()
    if form.validate_on_submit():
        row = Comment(
            note_id=note.id, author_id=current_user.id, body=form.body.data or ""
        )
        db.session.add(row)
        db.session.commit()
        live.publish("comment_created", CommentOut.of(row).model_dump(mode="json"))
        flash("Comment added.", "success")
        return redirect(url_for("notes.detail", note_id=note.id) + "#comments")
    return render_template("notes/detail.html", note=note, form=form), 400


@bp.route(f"/notes/{NOTE_ID}/edit", methods=["GET", "POST"])
@login_required
def edit(note_id: int) -> t.Any:
    """Show the form to change a note; on POST, validate and save the change."""
    note = get_note_or_404(note_id)
    if not may_change(note):
        abort(403, "Only the author of a note or an admin may change it.")
    form = NoteForm(obj=note)
    if form.validate_on_submit():
        note.title, note.body = form.title.data or "", form.body.data or ""
        db.session.commit()
        flash(f"Saved “{note.title}”.", "success")
        return redirect(url_for("notes.detail", note_id=note.id))
    status = 400 if form.errors else 200
    return render_template("notes/form.html", form=form, note=note), status


@bp.post(f"/notes/{NOTE_ID}/delete")
@login_required
def delete(note_id: int) -> t.Any:
    """Delete a note and its comments, then go back to the list."""
    note = get_note_or_404(note_id)
    if not may_change(note):
        abort(403, "Only the author of a note or an admin may delete it.")
    db.session.delete(note)
    db.session.commit()
    flash(f"Deleted “{note.title}”.", "success")
    return redirect(url_for("notes.index"))


@bp.post(f"/notes/{NOTE_ID}/hide")
@roles_required("admin")
def hide(note_id: int) -> t.Any:
    """Hide a note from everyone but its author and the admins, or show it again."""
    note = get_note_or_404(note_id)
    note.hidden = not note.hidden
    db.session.commit()
    flash(f"{'Hid' if note.hidden else 'Showed'} “{note.title}”.", "success")
    return redirect(url_for("notes.detail", note_id=note.id))
