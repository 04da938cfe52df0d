"""The app's commands: ``erlen seed`` (sample users and notes), ``erlen make-admin``, ``erlen api-token``."""

from __future__ import annotations

import click
import sqlalchemy as sa

from erlen import Erlen
from erlen_login import make_auth_token

from .models import Comment
from .models import db
from .models import Note
from .models import User

#: The sample accounts ``erlen seed`` creates: (name, email, password, admin).
SAMPLE_USERS = [
    ("Alice", "alice@example.com", "notes-alice", True),
    ("Bob", "bob@example.com", "notes-bob", False),
]

SAMPLES = [
    ("Welcome to erlen notes", "A team notebook: write notes, comment, page through."),
    ("Application factory", "create_app() builds the app; tests call it too."),
    ("Blueprints", "The pages, the accounts and the JSON API are three blueprints."),
    ("Migrations", "The schema comes from migrations/: erlen db upgrade."),
    ("Logging in", "erlen-login: Argon2id passwords, remember me, log out everywhere."),
    ("Forms", "erlen-forms: every form is an ErlenForm, every POST checked for CSRF."),
    ("Pagination", "The list pages with ?page=; the JSON API with signed cursors."),
    ("Admins", "Alice is an admin: she can hide any note."),
]


def seed_database(count: int) -> bool:
    """Add the sample users and ``count`` notes, unless there are users already.

    Returns whether anything was added.
    """
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        return False
    users = []
    for name, email, password, admin in SAMPLE_USERS:
        user = User(email=email, name=name, is_admin=admin)
        user.set_password(password)
        users.append(user)
    db.session.add_all(users)
    db.session.flush()
    for number in range(count):
        title, body = SAMPLES[number % len(SAMPLES)]
        if number >= len(SAMPLES):
            title = f"{title} ({number // len(SAMPLES) + 1})"
        note = Note(title=title, body=body, author_id=users[number % len(users)].id)
        db.session.add(note)
    db.session.flush()
    first = db.session.scalar(sa.select(Note).order_by(Note.id))
    if first is not None:
        db.session.add(
            Comment(note_id=first.id, author_id=users[-1].id, body="Looks good!")
        )
    db.session.commit()
    return True


def register(app: Erlen) -> None:
    """Add the app's own commands to ``erlen``'s command line."""

    @app.cli.command("seed")
    @click.option(
        "--count",
        default=25,
        show_default=True,
        type=click.IntRange(0, 1000),
        help="How many sample notes to add.",
    )
    def seed(count: int) -> None:
        """Add sample users and notes to an empty database (once)."""
        if seed_database(count):
            click.echo(f"Added {len(SAMPLE_USERS)} users and {count} notes.")
            click.echo("Log in as:")
        else:
            click.echo("The database has users already; nothing added.")
            click.echo("The sample logins, unless you changed them:")
        for _, email, password, admin in SAMPLE_USERS:
            role = " (admin)" if admin else ""
            click.echo(f"  {email} / {password}{role}")

    @app.cli.command("make-admin")
    @click.argument("email")
    def make_admin(email: str) -> None:
        """Give the account with this email the admin role."""
        user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
        if user is None:
            raise click.ClickException(f"There is no account with the email {email}.")
        user.is_admin = True
        db.session.commit()
        click.echo(f"{user.name} is an admin now.")

    @app.cli.command("api-token")
    @click.argument("email")
    @click.option(
        "--days",
        default=30,
        show_default=True,
        type=click.IntRange(1, 365),
        help="How long the token lasts.",
    )
    def api_token(email: str, days: int) -> None:
        """Print a bearer token for the JSON API that acts as this account."""
        user = db.session.scalar(sa.select(User).where(User.email == email.lower()))
        if user is None:
            raise click.ClickException(f"There is no account with the email {email}.")
        click.echo(make_auth_token(user, expires_in=days * 86400))
