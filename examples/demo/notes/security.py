"""The secret key kept in the instance folder, and the app's CSRF protection.

``csrf`` refuses a POST that a browser says comes from another site
(``Sec-Fetch-Site``, ``Origin``); a request without those headers must carry
the token the forms render with ``{{ csrf_token() }}``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from erlen_forms import CSRFProtect

SECRET_KEY_FILE = "secret_key"

#: Checks every POST of the app; registered by ``create_app``.
csrf = CSRFProtect()


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
