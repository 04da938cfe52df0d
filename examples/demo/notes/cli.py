"""The ``erlen seed`` command, which fills the database with sample notes."""

from __future__ import annotations

import click

from erlen import Erlen

from .models import db
from .models import Note

SAMPLES = [
    ("Welcome to erlen notes", "Write, edit and delete notes; they live in SQLite."),
    ("Application factory", "create_app() builds the app; tests call it too."),
    ("Blueprints", "The pages and the JSON API are two blueprints."),
    ("Migrations", "The schema comes from migrations/, applied at start-up."),
    ("Offset pagination", "The list pages with ?page=, like db.paginate does."),
    ("Keyset pagination", "/api/notes pages with signed cursors instead."),
    ("Sessions", "The sidebar remembers the notes you viewed last."),
    ("Flashed messages", "Every change confirms itself after a redirect."),
]


def register(app: Erlen) -> None:
    """Add the app's own commands to ``erlen``'s command line."""

    @app.cli.command("seed")
    @click.option(
        "--count",
        default=25,
        show_default=True,
        type=click.IntRange(1, 1000),
        help="How many notes to add.",
    )
    def seed(count: int) -> None:
        """Add sample notes to the database."""
        for number in range(count):
            title, body = SAMPLES[number % len(SAMPLES)]
            if number >= len(SAMPLES):
                title = f"{title} ({number // len(SAMPLES) + 1})"
            db.session.add(Note(title=title, body=body))
        db.session.commit()
        click.echo(f"Added {count} sample notes.")
