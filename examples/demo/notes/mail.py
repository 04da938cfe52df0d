"""Sending mail: in development the message is printed to the console.

``NOTES_MAIL_OUTBOX`` (a list in the app's config, set by tests) also keeps
every message sent, so tests can follow the links in them.
"""

from __future__ import annotations

import dataclasses
import sys

from erlen import current_app


@dataclasses.dataclass(frozen=True)
class Mail:
    """One message: who it is for, its subject and its text."""

    to: str
    subject: str
    body: str


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a message; this demo prints it to standard error instead of mailing it."""
    mail = Mail(to, subject, body)
    outbox = current_app.config.get("NOTES_MAIL_OUTBOX")
    if isinstance(outbox, list):
        outbox.append(mail)
    rule = "-" * 60
    print(
        f"{rule}\nTo: {to}\nSubject: {subject}\n\n{body}\n{rule}",
        file=sys.stderr,
        flush=True,
    )
