"""The API throttles' sliding-window counters, on Redis and on the in-memory cache."""

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache.backends.locmem import LocMemCache

from athena_site.api import throttling
from athena_site.cache import RedisCache, count_hit

from .test_tokens import auth, with_rate

WINDOW_START = 1_800_000_000.0  # a multiple of 60: a minute starts here


@pytest.fixture
def clock(monkeypatch):
    """Set the throttles' time: `clock.now = ...`."""

    class Clock:
        now = WINDOW_START + 60 * (uuid.uuid4().int % 10_000) * 2

    monkeypatch.setattr(throttling.SimpleRateThrottle, "timer", lambda self: Clock.now)
    return Clock


def redis_cache() -> RedisCache:
    location = os.environ.get("REDIS_CACHE_URL") or os.environ.get("REDIS_URL")
    if not location:
        pytest.fail("These tests need Redis: set REDIS_URL (make test does).")
    return RedisCache(location, {"KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex[:8]}"})


def test_rejected_requests_do_not_count(api_client, make_token, verified_user, monkeypatch, clock):
    with_rate(monkeypatch, "token", "2/min")
    _, raw = make_token(verified_user)

    statuses = [api_client.get("/api/v1/user", **auth(raw)).status_code for _ in range(5)]
    clock.now += 60 + 59  # the next window, when the full previous window has almost slid out
    after_waiting = api_client.get("/api/v1/user", **auth(raw))

    assert statuses == [200, 200, 429, 429, 429]
    assert after_waiting.status_code == 200


@pytest.fixture
def limit_reached(api_client, make_token, verified_user, monkeypatch, clock):
    """Limit the token to 2 requests a minute, send 2 at `clock.now`, and return `(token, start)`."""
    with_rate(monkeypatch, "token", "2/min")
    _, raw = make_token(verified_user)
    start = clock.now
    for _ in range(2):
        api_client.get("/api/v1/user", **auth(raw))
    return raw, start


def test_previous_window_counts_partly(api_client, limit_reached, clock):
    raw, start = limit_reached

    clock.now = start + 60 + 15  # 75% of the previous window still counts: 1.5 + 1 > 2
    early = api_client.get("/api/v1/user", **auth(raw))
    clock.now = start + 60 + 36  # 40% still counts: 0.8 + 1 <= 2
    later = api_client.get("/api/v1/user", **auth(raw))

    assert early.status_code == 429
    assert early["Retry-After"] == "15"  # at half way through the window, 1 + 1 fits
    assert later.status_code == 200


def test_retry_after_when_the_current_window_is_full(api_client, limit_reached, clock):
    raw, start = limit_reached

    clock.now = start + 30
    rejected = api_client.get("/api/v1/user", **auth(raw))

    # 30 s to the next window, then the 2 requests must slide out to 1: half a window more.
    assert rejected.status_code == 429
    assert rejected["Retry-After"] == "60"


@pytest.mark.parametrize("backend", ["redis", "memory"])
def test_count_hit_returns_current_and_previous_counts(backend):
    cache = redis_cache() if backend == "redis" else LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    cache.set("counter:7", 4, 60)

    first = count_hit(cache, "counter:8", "counter:7", 120)
    second = count_hit(cache, "counter:8", "counter:7", 120)

    assert first == (1, 4)
    assert second == (2, 4)
    if backend == "redis":
        cache.delete_many(["counter:7", "counter:8"])


def test_count_hit_concurrent_loses_nothing():
    cache = redis_cache()
    key = f"concurrent:{uuid.uuid4().hex}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _: count_hit(cache, key, f"{key}:before", 60)[0], range(200)))

    assert sorted(counts) == list(range(1, 201))
    assert cache.get(key) == 200
    cache.delete(key)


def test_redis_cache_reuses_one_client_per_pool():
    cache = redis_cache()

    assert cache._cache.get_client("a") is cache._cache.get_client("b", write=True)
