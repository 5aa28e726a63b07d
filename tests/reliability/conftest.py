"""Fixtures of the reliability tests: private PostgreSQL and Redis, and Athena processes on them.

The services live for the whole session and a stack of Athena processes for one test module.
A test may stop, kill or restart any of them. `AthenaStack.heal` starts them again, so a failing
test leaves the next one a working stack.
"""

from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from tests.conftest import database_url_for_current_connection, require_services
from tests.reliability.stack import (
    AthenaStack,
    MissingBinary,
    PrivatePostgres,
    PrivateRedis,
    copy_database,
    create_schema,
)


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    try:
        redis = PrivateRedis()
    except MissingBinary as exc:
        require_services(str(exc))
    try:
        redis.start()
        yield redis
    finally:
        redis.destroy()


@pytest.fixture(scope="session")
def private_postgres(
    request: pytest.FixtureRequest, private_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of this session with Athena's schema in its `athena` database."""
    try:
        postgres = PrivatePostgres()
    except MissingBinary as exc:
        require_services(str(exc))
    try:
        postgres.init()
        if connection.vendor == "postgresql":
            request.getfixturevalue("django_db_setup")
            copy_database(postgres, database_url_for_current_connection())
        else:
            create_schema(postgres, private_redis, tmp_path_factory.mktemp("schema"))
        yield postgres
    finally:
        postgres.destroy()


@pytest.fixture(scope="module")
def make_athena_stack(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., AthenaStack]]:
    """Return a function that starts gunicorn, a Celery worker and beat with the given settings.

    The processes are stopped when the module's tests are done. Their logs are in a temporary
    folder named after the module (`AthenaStack.log` reads them).
    """
    stacks: list[AthenaStack] = []

    def make(settings: dict[str, str] | None = None) -> AthenaStack:
        stack = AthenaStack(private_postgres, private_redis, tmp_path_factory.mktemp("athena"), settings)
        stacks.append(stack)
        stack.start()
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            stack.stop()
        if private_redis.process is None:
            private_redis.start()
        if private_postgres.process is None:
            private_postgres.start()
