"""The API conventions: envelopes, pagination, errors, parsing, body limits and routing."""

import json

import pytest

pytestmark = pytest.mark.urls("tests.foundation.urls")

ITEMS_URL = "/api/v1/test-items"


@pytest.fixture
def client(api_client):
    return api_client


def get_json(client, url, **kwargs):
    response = client.get(url, **kwargs)
    return response, response.json()


# Envelope and pagination


def test_pagination_first_page(client):
    response, body = get_json(client, ITEMS_URL)

    assert response.status_code == 200, body
    assert [item["number"] for item in body["data"]] == list(range(1, 16))
    assert body["meta"] == {
        "current_page": 1,
        "from": 1,
        "last_page": 3,
        "path": "http://testserver/api/v1/test-items",
        "per_page": 15,
        "to": 15,
        "total": 42,
    }
    assert body["links"]["first"] == "http://testserver/api/v1/test-items"
    assert body["links"]["prev"] is None
    assert body["links"]["next"] == "http://testserver/api/v1/test-items?page=2"
    assert body["links"]["last"] == "http://testserver/api/v1/test-items?page=3"


def test_pagination_middle_page(client):
    response, body = get_json(client, ITEMS_URL + "?page=2&per_page=10")

    assert response.status_code == 200, body
    assert [item["number"] for item in body["data"]] == list(range(11, 21))
    assert body["meta"]["from"] == 11
    assert body["meta"]["to"] == 20
    assert body["meta"]["last_page"] == 5
    assert body["links"]["prev"] == "http://testserver/api/v1/test-items?per_page=10"
    assert body["links"]["next"] == "http://testserver/api/v1/test-items?page=3&per_page=10"


def test_pagination_last_page(client):
    response, body = get_json(client, ITEMS_URL + "?page=3")

    assert response.status_code == 200, body
    assert [item["number"] for item in body["data"]] == list(range(31, 43))
    assert body["meta"]["to"] == 42
    assert body["links"]["next"] is None


def test_pagination_page_past_last_is_empty(client):
    response, body = get_json(client, ITEMS_URL + "?page=9")

    assert response.status_code == 200, body
    assert body["data"] == []
    assert body["meta"]["current_page"] == 9
    assert body["meta"]["from"] is None
    assert body["meta"]["to"] is None
    assert body["meta"]["total"] == 42
    assert body["links"]["next"] is None
    assert body["links"]["prev"] == "http://testserver/api/v1/test-items?page=3"


def test_pagination_per_page_capped_at_100(client):
    response, body = get_json(client, ITEMS_URL + "?per_page=500")

    assert response.status_code == 200, body
    assert body["meta"]["per_page"] == 100
    assert len(body["data"]) == 42


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=x", "per_page"),
    ],
)
def test_pagination_invalid_parameter_is_422(client, query, field):
    response, body = get_json(client, f"{ITEMS_URL}?{query}")

    assert response.status_code == 422, body
    assert body["code"] == "validation_error"
    assert field in body["errors"]


def test_single_object_wrapped_in_data(client):
    response, body = get_json(client, ITEMS_URL + "/1")

    assert response.status_code == 200, body
    assert body == {"data": {"number": 1}}


def test_create_returns_201_enveloped(client):
    response = client.post(ITEMS_URL, {"name": "first", "count": 2}, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {"data": {"name": "first", "count": 2}}


def test_delete_returns_204_without_body(client):
    response = client.delete(ITEMS_URL + "/1")

    assert response.status_code == 204
    assert response.content == b""


# Routing


@pytest.mark.parametrize("url", [ITEMS_URL, ITEMS_URL + "/", ITEMS_URL + "/1", ITEMS_URL + "/1/", "/api/v1/test-echo/"])
def test_router_trailing_slash_optional(client, url):
    response = client.get(url) if "echo" not in url else client.post(url, {}, format="json")

    assert response.status_code == 200, response.content


# Errors


def test_validation_error_is_422_with_fields(client):
    response = client.post(ITEMS_URL, {"name": "x" * 30}, format="json")
    body = response.json()

    assert response.status_code == 422, body
    assert body["code"] == "validation_error"
    assert body["message"] == "The given data was invalid."
    assert set(body["errors"]) == {"name", "count"}
    assert all(isinstance(message, str) for message in body["errors"]["name"])


def test_unauthenticated_is_401_with_bearer_challenge(client):
    response = client.get("/api/v1/test-private")

    assert response.status_code == 401, response.content
    assert response.json() == {"message": "Unauthenticated.", "code": "unauthenticated"}
    assert response["WWW-Authenticate"] == 'Bearer realm="athena"'


def test_permission_denied_is_403(client):
    response = client.get(ITEMS_URL + "/forbidden")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_missing_object_is_404(client):
    response = client.get(ITEMS_URL + "/2")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "code": "not_found"}


def test_unknown_api_path_is_404_json(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_405(client):
    response = client.put("/api/v1/test-echo", {}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_throttled_is_429_with_retry_after(client):
    response = client.get(ITEMS_URL + "/throttled")

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response["Retry-After"] == "7"


def test_unhandled_exception_is_generic_500(client, caplog):
    response = client.get(ITEMS_URL + "/boom")

    assert response.status_code == 500
    assert response.json() == {"message": "Server error.", "code": "server_error"}
    assert b"secret internal detail" not in response.content
    assert "Traceback" not in response.content.decode()
    assert any(
        record.request_id == response["X-Request-ID"] for record in caplog.records if hasattr(record, "request_id")
    )


# Request bodies


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"name": ', "truncated"),
        (b"{'name': 'x'}", "single quotes"),
        (b"\xff\xfe", "not utf-8"),
        (b'{"value": NaN}', "NaN"),
        (b'{"name": "a\\u0000b"}', "escaped NUL in value"),
        (b'{"na\\u0000me": "b"}', "escaped NUL in key"),
        (b'{"name": "a\x00b"}', "raw NUL"),
        (b"[" * 65 + b"]" * 65, "deeper than 64"),
        (b"[" * 100000 + b"]" * 100000, "recursion"),
    ],
)
def test_malformed_json_is_400(client, raw, reason):
    response = client.generic("POST", "/api/v1/test-echo", raw, content_type="application/json")
    body = response.json()

    assert response.status_code == 400, (reason, body)
    assert body["code"] == "malformed_json"


def test_json_at_depth_limit_is_accepted(client):
    raw = b"[" * 64 + b"]" * 64

    response = client.generic("POST", "/api/v1/test-echo", raw, content_type="application/json")

    assert response.status_code == 200, response.content


def test_unsupported_content_type_is_415(client):
    response = client.generic("POST", "/api/v1/test-echo", b"name=x", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_oversized_body_is_413(client):
    raw = json.dumps({"blob": "x" * (1024 * 1024)}).encode()

    response = client.generic("POST", "/api/v1/test-echo", raw, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_route_body_limit_overrides_default(client):
    raw = json.dumps({"blob": "x" * 200}).encode()

    small = client.generic("POST", "/api/v1/test-small-echo", raw, content_type="application/json")
    default = client.generic("POST", "/api/v1/test-echo", raw, content_type="application/json")

    assert small.status_code == 413
    assert default.status_code == 200


# Request ids


def test_request_id_generated_and_echoed(client):
    response = client.get(ITEMS_URL)

    assert len(response["X-Request-ID"]) == 32


def test_request_id_accepted_when_well_formed(client):
    response = client.get(ITEMS_URL, HTTP_X_REQUEST_ID="client-req-12345")

    assert response["X-Request-ID"] == "client-req-12345"


def test_request_id_replaced_when_malformed(client):
    response = client.get(ITEMS_URL, HTTP_X_REQUEST_ID="bad id with spaces\n")

    assert response["X-Request-ID"] != "bad id with spaces\n"
    assert len(response["X-Request-ID"]) == 32
