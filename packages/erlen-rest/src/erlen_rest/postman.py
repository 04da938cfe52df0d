"""Postman collection export (v1) built from the OpenAPI document."""

from __future__ import annotations

import typing as t
import uuid

if t.TYPE_CHECKING:  # pragma: no cover
    from .api import Api

__all__ = ["PostmanCollectionV1"]


class PostmanCollectionV1:
    """A Postman v1 collection: one request per operation, one folder per tag."""

    def __init__(self, api: Api, swagger: bool = False) -> None:
        self.api = api
        self.swagger = swagger

    def as_dict(self, urlvars: bool = False) -> dict[str, t.Any]:
        """Return the collection as a dict ready for JSON."""
        spec = self.api.__schema__
        base = self.api.base_url.rstrip("/")
        collection_id = str(uuid.uuid5(uuid.NAMESPACE_URL, base))
        requests: list[dict[str, t.Any]] = []
        folders: dict[str, dict[str, t.Any]] = {}
        for path, item in spec.get("paths", {}).items():
            for method, operation in item.items():
                if method not in {
                    "get",
                    "post",
                    "put",
                    "patch",
                    "delete",
                    "head",
                    "options",
                }:
                    continue
                request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{method} {path}"))
                tag = (operation.get("tags") or ["default"])[0]
                folder = folders.setdefault(
                    tag,
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, tag)),
                        "name": tag,
                        "order": [],
                        "collectionId": collection_id,
                    },
                )
                folder["order"].append(request_id)
                requests.append(
                    {
                        "id": request_id,
                        "name": operation.get("summary")
                        or operation.get("operationId", path),
                        "description": operation.get("description", ""),
                        "url": base + path.replace("{", ":").replace("}", ""),
                        "method": method.upper(),
                        "collectionId": collection_id,
                        "folder": folder["id"],
                        "headers": "",
                        "data": [],
                        "dataMode": "raw",
                    }
                )
        return {
            "id": collection_id,
            "name": " ".join(filter(None, [self.api.title, self.api.version])),
            "description": self.api.description or "",
            "order": [],
            "requests": requests,
            "folders": list(folders.values()),
            "timestamp": 0,
        }
