"""`GET /healthz` reports each dependency and answers 503 naming what is down."""

import pytest


@pytest.mark.django_db
def test_healthz_up(client):
    response = client.get("/healthz")
    body = response.json()

    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["cache"]["status"] == "up"
    assert body["checks"]["broker"]["status"] in {"up", "eager"}
    assert body["checks"]["workers"]["status"] in {"up", "none", "eager"}


@pytest.mark.django_db
def test_healthz_redis_unreachable_is_503(client, settings):
    # Port 1 on loopback has no listener, so every connection is refused at once.
    unreachable = "redis://127.0.0.1:1/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": unreachable,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = unreachable

    response = client.get("/healthz")
    body = response.json()

    assert response.status_code == 503, body
    assert body["status"] == "down"
    assert "cache" in body["down"]
    assert "broker" in body["down"]
    assert body["checks"]["database"]["status"] == "up"


def test_healthz_rejects_post(client):
    response = client.post("/healthz")

    assert response.status_code == 405
