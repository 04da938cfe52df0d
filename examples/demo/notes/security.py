"""The secret key kept in the instance folder, and the same-origin check for POSTs."""

from __future__ import annotations

import os
import secrets
import urllib.parse
from pathlib import Path

from erlen import abort
from erlen import request

SECRET_KEY_FILE = "secret_key"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the secret key stored in the instance folder, creating it on first use.

    The key is 64 random hex characters written to ``<instance>/secret_key``,
    readable only by its owner. Several processes starting at once agree on one
    key: only the first creates the file, the others read it.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if not key:
            raise RuntimeError(
                f"The secret key file {path} is empty. Delete it to have a new key"
                " generated, or set SECRET_KEY in instance/config.py."
            ) from None
        return key
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(key + "\n")
    return key


def _same_host(url: str) -> bool:
    try:
        netloc = urllib.parse.urlsplit(url).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == request.host.lower()


def check_same_origin() -> None:
    """Refuse (403) a state-changing request that does not come from this site.

    A before-request hook. Browsers send ``Origin`` (or at least ``Referer``) with
    every form POST; a request whose origin is another host, or that sends
    neither header, could be a cross-site request forgery. This stands in for
    the CSRF tokens erlen-forms will provide.
    """
    if request.method in SAFE_METHODS:
        return
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None or not _same_host(source):
        abort(
            403,
            description=(
                "This request did not come from a page of this site (its Origin or"
                " Referer header names another host, or it sent neither), so it was"
                " refused. Submit the form from the site itself."
            ),
        )
