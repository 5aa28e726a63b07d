"""The load_catalogue and rotate_encryption_keys management commands."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from athena_site.crypto import _fernet_for
from providers.models import Account, LargeLanguageModel, Provider
from tests.providers.conftest import make_secret
from tests.providers.factories import AccountFactory, ProviderFactory
from workspaces.models import Variable

OLD_KEY = "0PF-xz4AOgfWhA4jDGh5o0xzpAHaqh2fJcogBnPqKYc="
NEW_KEY = "UW1nvhpLXqeQKhIRyaBXhpwL37LDEo-hFhbNfhsglYE="


def _raw(table: str, column: str, pk) -> str:
    with connection.cursor() as cursor:
        for value in (pk.hex, str(pk)):
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [value])
            row = cursor.fetchone()
            if row is not None:
                return row[0]
    raise AssertionError(f"No row {pk} in {table}")


def test_load_catalogue_is_idempotent(db):
    call_command("load_catalogue", stdout=StringIO())
    first = (Provider.objects.count(), LargeLanguageModel.objects.count())
    Provider.objects.filter(key="openai").update(name="Changed")

    call_command("load_catalogue", stdout=StringIO())

    assert (Provider.objects.count(), LargeLanguageModel.objects.count()) == first
    assert Provider.objects.get(key="openai").name == "OpenAI"
    assert set(Provider.objects.filter(workspace__isnull=True).values_list("key", flat=True)) == {
        "openai",
        "anthropic",
        "openai-compatible",
        "github",
        "google-drive",
        "bearer-api",
        "basic-api",
    }


def test_load_catalogue_keeps_client_id_entered_by_staff(db):
    call_command("load_catalogue", stdout=StringIO())
    github = Provider.objects.get(key="github")
    github.authentication_config = {**github.authentication_config, "client_id": "staff-client"}
    github.save()

    call_command("load_catalogue", stdout=StringIO())

    github.refresh_from_db()
    assert github.authentication_config["client_id"] == "staff-client"
    assert github.authentication_config["token_url"] == "https://github.com/login/oauth/access_token"


def test_load_catalogue_prices(db):
    call_command("load_catalogue", stdout=StringIO())

    mini = LargeLanguageModel.objects.get(model="gpt-4o-mini", workspace__isnull=True)
    assert str(mini.input_price_per_million) == "0.150000"
    assert str(mini.output_price_per_million) == "0.600000"
    assert mini.provider.key == "openai"


@pytest.fixture
def old_key_only(settings):
    """Encrypt with the old key alone, as a deployment did before the new key was put first."""
    settings.ATHENA_ENCRYPTION_KEYS = [OLD_KEY]
    _fernet_for.cache_clear()
    yield
    _fernet_for.cache_clear()


def test_rotate_encryption_keys_reencrypts_every_model(db, workspace, settings, old_key_only):
    # given values of two apps encrypted with the old key
    secret = make_secret()
    client_secret = make_secret("client-secret-")
    provider = ProviderFactory(workspace=workspace)
    provider.oauth_client_secret = client_secret
    provider.save()
    account = AccountFactory(workspace=workspace, provider=provider, credentials={"token": secret})
    variable = Variable.objects.create(workspace=workspace, key="API_TOKEN", secret=True, secret_value="s3cret-value")
    before = _raw("providers_account", "credentials", account.pk)

    # when the new key goes first and the command runs
    settings.ATHENA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    _fernet_for.cache_clear()
    output = StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "1", stdout=output)

    # then the old key can be dropped and every value still reads
    after = _raw("providers_account", "credentials", account.pk)
    settings.ATHENA_ENCRYPTION_KEYS = [NEW_KEY]
    _fernet_for.cache_clear()
    assert after != before
    assert secret not in after
    assert Account.objects.get(pk=account.pk).credentials.reveal() == {"token": secret}
    assert Provider.objects.get(pk=provider.pk).oauth_client_secret.reveal() == client_secret
    assert Variable.objects.get(pk=variable.pk).secret_value.reveal() == "s3cret-value"
    assert "providers.Account.credentials: 1 rotated" in output.getvalue()
    assert "workspaces.Variable.secret_value: 1 rotated" in output.getvalue()


def test_rotate_encryption_keys_resumes_by_skipping_current_values(db, workspace, settings, old_key_only):
    AccountFactory(workspace=workspace, credentials={"token": make_secret()})
    settings.ATHENA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    _fernet_for.cache_clear()
    call_command("rotate_encryption_keys", stdout=StringIO())
    output = StringIO()

    call_command("rotate_encryption_keys", stdout=output)

    assert "providers.Account.credentials: 0 rotated, 1 already current." in output.getvalue()


def test_rotate_encryption_keys_dry_run_writes_nothing(db, workspace, settings, old_key_only):
    account = AccountFactory(workspace=workspace, credentials={"token": make_secret()})
    before = _raw("providers_account", "credentials", account.pk)
    settings.ATHENA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    _fernet_for.cache_clear()

    call_command("rotate_encryption_keys", "--dry-run", stdout=StringIO())

    assert _raw("providers_account", "credentials", account.pk) == before
