"""The per-app state of erlen-rest, on :class:`erlen.ext.Extension`: the APIs an app serves,
its config defaults, the ``erlen rest`` CLI group and the deploy check."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import typing as t

from erlen.ext import DeployProblem
from erlen.ext import Extension

if t.TYPE_CHECKING:  # pragma: no cover
    from erlen import Erlen

    from .api import Api

__all__ = ["RestExtension", "RestState", "rest_extension"]


@dataclasses.dataclass
class RestState:
    """What erlen-rest keeps for one app: the APIs registered on it."""

    apis: list[Api] = dataclasses.field(default_factory=list)


class RestExtension(Extension[RestState]):
    """Registered once per app by the first :class:`~erlen_rest.Api` bound to it."""

    name = "rest"
    config_defaults: t.ClassVar[cabc.Mapping[str, t.Any]] = {
        "REST_PROBLEM_DETAILS": True,
        "REST_DOCS": None,
        "REST_REDOC": True,
        "REST_MAX_VALIDATION_ERRORS": 50,
        "RESTX_MASK_HEADER": "X-Fields",
        "RESTX_MASK_SWAGGER": True,
        "RESTX_INCLUDE_ALL_MODELS": False,
        "ERROR_INCLUDE_MESSAGE": True,
        "HTTP_BASIC_AUTH_REALM": "flask-restx",
    }

    def create_state(self, app: Erlen) -> RestState:
        return RestState()

    def setup_app(self, app: Erlen, state: RestState) -> None:
        from .cli import rest_group

        app.cli.add_command(rest_group)

    def attach(self, app: Erlen, api: Api) -> None:
        """Record ``api`` as served by ``app`` (registering the extension on first use)."""
        if self.name not in app.extensions:
            self.init_app(app)
        state = self.get_state(app)
        if api not in state.apis:
            state.apis.append(api)

    def deploy_problems(
        self, app: Erlen, state: RestState
    ) -> cabc.Iterable[DeployProblem]:
        """Warn when an API's docs UI is served in production and nobody decided it should be."""
        if app.config.get("REST_DOCS") is not None:
            return
        for api in state.apis:
            if api._doc:
                yield DeployProblem(
                    check="rest_docs_public",
                    message=f"The API {api.title!r} serves its documentation UI at {api._doc!r} to anyone.",
                    fix="Decide: set REST_DOCS = True to keep it public, or REST_DOCS = False (or Api(doc=False)) to turn it off.",
                )


#: The one extension object: APIs attach themselves to it.
rest_extension = RestExtension()
