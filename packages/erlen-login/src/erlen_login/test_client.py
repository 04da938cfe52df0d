"""``ErlenLoginClient``: a test client that starts logged in as a given user."""

from __future__ import annotations

import typing as t

from erlen.testing import ErlenClient

from .login_manager import session_token_of

__all__ = ["ErlenLoginClient"]


class ErlenLoginClient(ErlenClient):
    """Set ``app.test_client_class = ErlenLoginClient``, then
    ``app.test_client(user=user, fresh_login=True)`` starts logged in as ``user``.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        user = kwargs.pop("user", None)
        fresh = kwargs.pop("fresh_login", True)
        super().__init__(*args, **kwargs)
        if user:
            with self.session_transaction() as sess:
                sess["_user_id"] = user.get_id()
                sess["_fresh"] = fresh
                sess["_session_token"] = session_token_of(user)
