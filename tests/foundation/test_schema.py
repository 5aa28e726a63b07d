"""The OpenAPI schema builds, validates and describes the envelopes and errors."""

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_has_envelope_and_error_components(schema):
    components = schema["components"]["schemas"]

    for name in ("Error", "ValidationError", "PaginationMeta", "PaginationLinks"):
        assert name in components, name
    assert components["Error"]["required"] == ["message", "code"]
    assert "errors" in components["ValidationError"]["properties"]
    assert set(components["PaginationMeta"]["properties"]) == {
        "current_page",
        "from",
        "last_page",
        "path",
        "per_page",
        "to",
        "total",
    }
    assert set(components["PaginationLinks"]["properties"]) == {"first", "last", "prev", "next"}


def test_schema_servers_use_public_url(schema, settings):
    assert schema["servers"][0]["url"] == settings.ATHENA_PUBLIC_URL


@pytest.mark.urls("tests.foundation.urls")
def test_schema_wraps_responses_and_adds_errors():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["paths"]["/api/v1/test-echo/"]["post"]
    listing = schema["paths"]["/api/v1/test-items/"]["get"]

    for status in ("400", "401", "403", "404", "413", "415", "422", "429", "500"):
        assert status in create["responses"], status
    assert create["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert {parameter["name"] for parameter in listing["parameters"]} >= {"page", "per_page"}
    retrieve_schema = schema["paths"]["/api/v1/test-items/{id}/"]["get"]["responses"]["200"]["content"]
    assert retrieve_schema["application/json"]["schema"]["required"] == ["data"]
    list_component = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    list_schema = schema["components"]["schemas"][list_component]
    assert list_schema["properties"]["meta"]["allOf"] == [{"$ref": "#/components/schemas/PaginationMeta"}]
    assert list_schema["properties"]["links"]["allOf"] == [{"$ref": "#/components/schemas/PaginationLinks"}]


def test_spectacular_validate_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/docs/", "/api/redoc/"])
def test_schema_and_docs_pages_served(client, url):
    response = client.get(url)

    assert response.status_code == 200, response.content[:500]
