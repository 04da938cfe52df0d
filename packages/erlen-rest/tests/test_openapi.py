"""The OpenAPI 3.1 document: both kinds of route, valid by openapi-spec-validator, and the CLI."""

from __future__ import annotations

import json
import typing as t

import pydantic
import pytest
import yaml
from openapi_spec_validator import validate

from erlen import Erlen
from erlen_rest import Api
from erlen_rest import fields
from erlen_rest import Resource


class Pet(pydantic.BaseModel):
    id: int
    name: str


@pytest.fixture
def api(app: Erlen) -> Api:
    api = Api(
        app,
        title="Pets",
        version="2.0",
        authorizations={"bearer": {"type": "http", "scheme": "bearer"}},
        security="bearer",
    )
    ns = api.namespace("owners", description="Pet owners")
    owner = ns.model(
        "Owner",
        {
            "id": fields.Integer(readonly=True, min=1),
            "name": fields.String(required=True, example="Ada"),
            "age": fields.Integer(min=0, exclusiveMin=True),
            "tags": fields.List(fields.String),
        },
    )
    child = ns.inherit("Child", owner, {"school": fields.String})
    parser = ns.parser()
    parser.add_argument("page", type=int, location="args", help="Page number")

    @ns.route("/<int:owner_id>")
    class OwnerResource(Resource):
        @ns.expect(parser)
        @ns.marshal_with(child)
        def get(self, owner_id: int) -> t.Any:
            """Read an owner."""
            return {}

        @ns.expect(owner)
        @ns.response(204, "Deleted")
        @ns.deprecated
        def put(self, owner_id: int) -> t.Any:
            return None, 204

    @api.get("/pets/<int:pet_id>", tags=["pets"])
    def read_pet(pet_id: int, q: str | None = None) -> Pet:
        """Read a pet."""
        return Pet(id=pet_id, name="Rex")

    @api.post("/pets", tags=["pets"], status_code=201)
    def create_pet(pet: Pet) -> Pet:
        return pet

    return api


def test_document_is_valid_openapi_3_1(app: Erlen, api: Api, client: t.Any) -> None:
    spec = client.get("/openapi.json").json
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert client.get("/swagger.json").json == spec
    schemas = spec["components"]["schemas"]
    assert schemas["Owner"]["properties"]["age"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
    }
    assert schemas["Owner"]["properties"]["name"]["examples"] == ["Ada"]
    assert schemas["Child"]["allOf"][0] == {"$ref": "#/components/schemas/Owner"}
    assert "Pet" in schemas
    get_owner = spec["paths"]["/owners/{owner_id}"]["get"]
    assert {p["name"] for p in get_owner["parameters"]} == {
        "owner_id",
        "page",
        "X-Fields",
    }
    assert spec["paths"]["/owners/{owner_id}"]["put"]["deprecated"] is True
    create = spec["paths"]["/pets"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pet"
    }
    assert "422" in create["responses"]
    assert spec["security"] == [{"bearer": []}]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_cli_prints_json_and_yaml(app: Erlen, api: Api, tmp_path: t.Any) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rest", "spec"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    validate(document)
    out = tmp_path / "openapi.yaml"
    result = runner.invoke(args=["rest", "spec", "--format", "yaml", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text()) == document


def test_cli_without_api_is_a_clear_error() -> None:
    from erlen_rest.extension import rest_extension

    app = Erlen(__name__)
    rest_extension.init_app(app)
    result = app.test_cli_runner().invoke(args=["rest", "spec"])
    assert result.exit_code != 0
    assert "no erlen-rest API" in result.output


def test_docs_page_is_local_and_can_be_turned_off(
    app: Erlen, api: Api, client: t.Any
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "http://" not in body and "https://" not in body
    assert "/openapi.json" in body
    app.config["REST_DOCS"] = False
    assert client.get("/").status_code == 404


def test_deploy_check_warns_about_public_docs(app: Erlen, api: Api) -> None:
    from erlen.checks import run_deploy_checks

    problems = [p for p in run_deploy_checks(app) if p.check == "rest_docs_public"]
    assert problems and "REST_DOCS" in problems[0].fix
    app.config["REST_DOCS"] = True
    assert not [p for p in run_deploy_checks(app) if p.check == "rest_docs_public"]


def test_swagger_ui_assets_are_served_locally(
    app: Erlen, api: Api, client: t.Any
) -> None:
    from erlen_rest.docs import swagger_ui_path

    if swagger_ui_path() is None:
        pytest.skip("swagger-ui-bundle-v2 is not installed (erlen-rest[docs])")
    body = client.get("/").get_data(as_text=True)
    assert "/swaggerui/swagger-ui-bundle.js" in body
    assert 'docExpansion: "none"' in body
    with client.get("/swaggerui/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200
        assert len(asset.get_data()) > 100_000
    assert client.get("/swaggerui/../../etc/passwd").status_code == 404
    assert client.get("/swaggerui/index.html").status_code == 404


def test_redoc_page_and_bundle_are_served_locally(
    app: Erlen, api: Api, client: t.Any
) -> None:
    response = client.get("/redoc")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "http://" not in body and "https://" not in body and "//" not in body
    assert "<redoc spec-url='/openapi.json'>" in body
    assert "<script src='/redoc/redoc.standalone.js'></script>" in body
    assert "<script>" not in body  # no inline script: a strict CSP can allow it
    with client.get("/redoc/redoc.standalone.js") as asset:
        assert asset.status_code == 200
        assert asset.mimetype == "text/javascript"
        assert len(asset.get_data()) > 1_000_000
    assert client.get("/redoc/LICENSE").status_code == 404
    assert client.get("/redoc/README.md").status_code == 404
    assert client.get("/redoc/../../etc/passwd").status_code == 404


def test_redoc_lives_under_the_doc_path(app: Erlen) -> None:
    Api(app, title="Pets", doc="/docs", prefix="/api")
    client = app.test_client()
    body = client.get("/api/docs/redoc").get_data(as_text=True)
    assert "spec-url='/api/openapi.json'" in body
    assert "src='/api/docs/redoc/redoc.standalone.js'" in body
    with client.get("/api/docs/redoc/redoc.standalone.js") as asset:
        assert asset.status_code == 200


@pytest.mark.parametrize("key", ["REST_REDOC", "REST_DOCS"])
def test_redoc_can_be_turned_off(app: Erlen, api: Api, client: t.Any, key: str) -> None:
    app.config[key] = False
    assert client.get("/redoc").status_code == 404
    assert client.get("/redoc/redoc.standalone.js").status_code == 404
    if key == "REST_REDOC":
        assert client.get("/").status_code == 200  # Swagger UI stays


def test_no_doc_page_means_no_redoc(app: Erlen) -> None:
    Api(app, title="Pets", doc=False)
    assert app.test_client().get("/redoc").status_code == 404
