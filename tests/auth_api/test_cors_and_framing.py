"""Cross-origin API calls and framing by embedding origins."""


def test_cors_configured_origin_allowed(client, settings, db):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.multiplai.example"]

    response = client.options(
        "/api/v1/user",
        HTTP_ORIGIN="https://app.multiplai.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-multiplai-authorization",
    )

    assert response["Access-Control-Allow-Origin"] == "https://app.multiplai.example"
    assert "x-multiplai-authorization" in response["Access-Control-Allow-Headers"]


def test_cors_unconfigured_origin_denied(client, settings, db):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.multiplai.example"]

    response = client.options(
        "/api/v1/user", HTTP_ORIGIN="https://other.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )

    assert "Access-Control-Allow-Origin" not in response


def test_cors_denied_by_default(client, db):
    response = client.get("/api/v1/user", HTTP_ORIGIN="https://app.multiplai.example")

    assert "Access-Control-Allow-Origin" not in response


def test_framing_denied_by_default(client, db):
    response = client.get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_framing_allowed_for_embed_origins(client, settings, db):
    settings.ATHENA_EMBED_ORIGINS = ["https://app.multiplai.example"]

    response = client.get("/")

    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://app.multiplai.example"
