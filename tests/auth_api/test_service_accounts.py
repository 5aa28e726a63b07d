"""Service accounts: workspace members that only authenticate with tokens."""

import pytest
from rest_framework.test import APIClient

from accounts_auth.models import ServiceAccount, User
from accounts_auth.services import personal_access_token_create
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Membership, Role


def client_for(user, abilities=("*",)):
    _, raw = personal_access_token_create(user=user, name="test", abilities=list(abilities))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def workspace(owner):
    return WorkspaceFactory(owner=owner, name="Platform")


@pytest.fixture
def url(workspace):
    return f"/api/v1/workspaces/{workspace.pk}/service-accounts"


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def service_account(owner_client, url):
    response = owner_client.post(url, {"name": "deploy-bot", "role": "editor"}, format="json")
    assert response.status_code == 201, response.content
    return ServiceAccount.objects.get(pk=response.json()["data"]["id"])


def test_service_account_create_is_member(service_account, workspace):
    membership = Membership.objects.get(user=service_account.user, workspace=workspace)

    assert membership.role == Role.EDITOR
    assert service_account.user.is_service_account
    assert not service_account.user.has_usable_password()
    assert service_account.user.memberships.count() == 1


def test_service_account_list(owner_client, url, service_account):
    response = owner_client.get(url)
    body = response.json()

    assert response.status_code == 200, response.content
    assert body["meta"]["total"] == 1
    assert body["data"][0]["name"] == "deploy-bot"
    assert body["data"][0]["role"] == "editor"


def test_service_account_token_works(owner_client, url, service_account, workspace):
    response = owner_client.post(
        f"{url}/{service_account.pk}/tokens", {"name": "ci", "abilities": ["*"]}, format="json"
    )
    raw = response.json()["data"]["token"]

    assert response.status_code == 201, response.content
    me = APIClient().get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200, me.content
    assert me.json()["data"]["id"] == str(service_account.user_id)


def test_service_account_tokens_listed_and_revoked(owner_client, url, service_account):
    created = owner_client.post(f"{url}/{service_account.pk}/tokens", {"name": "ci"}, format="json").json()["data"]
    token_id = created["token_details"]["id"]

    listing = owner_client.get(f"{url}/{service_account.pk}/tokens")
    revoke = owner_client.delete(f"{url}/{service_account.pk}/tokens/{token_id}")

    assert listing.json()["meta"]["total"] == 1
    assert created["token"] not in str(listing.content)
    assert revoke.status_code == 204, revoke.content
    assert APIClient().get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {created['token']}").status_code == 401


def test_service_account_cannot_sign_in(api_client, service_account):
    response = api_client.post(
        "/api/v1/auth/sign-in", {"email": service_account.user.email, "password": "any password"}, format="json"
    )

    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_credentials"


def test_service_account_delete_revokes_tokens(owner_client, url, service_account):
    created = owner_client.post(f"{url}/{service_account.pk}/tokens", {"name": "ci"}, format="json").json()["data"]

    response = owner_client.delete(f"{url}/{service_account.pk}")

    assert response.status_code == 204, response.content
    assert not User.objects.filter(pk=service_account.user_id).exists()
    assert APIClient().get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {created['token']}").status_code == 401


def test_service_account_owner_role_rejected(owner_client, url):
    response = owner_client.post(url, {"name": "x", "role": "owner"}, format="json")

    assert response.status_code == 422, response.content
    assert "role" in response.json()["errors"]


@pytest.mark.parametrize(
    ("payload", "field"), [({}, "name"), ({"name": "n" * 121}, "name"), ({"name": "x", "role": "boss"}, "role")]
)
def test_service_account_invalid_input_is_422(owner_client, url, payload, field):
    response = owner_client.post(url, payload, format="json")

    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]


def test_service_account_token_abilities_validated(owner_client, url, service_account):
    response = owner_client.post(
        f"{url}/{service_account.pk}/tokens", {"name": "x", "abilities": ["nope"]}, format="json"
    )

    assert response.status_code == 422, response.content
    assert "abilities" in response.json()["errors"]


def test_service_accounts_require_authentication(url, service_account):
    client = APIClient()

    statuses = [
        client.get(url).status_code,
        client.post(url, {"name": "x"}, format="json").status_code,
        client.delete(f"{url}/{service_account.pk}").status_code,
        client.get(f"{url}/{service_account.pk}/tokens").status_code,
    ]

    assert statuses == [401, 401, 401, 401]


def test_service_accounts_other_workspace_is_404(url, service_account):
    outsider_client = client_for(UserFactory())

    statuses = [
        outsider_client.get(url).status_code,
        outsider_client.post(url, {"name": "x"}, format="json").status_code,
        outsider_client.delete(f"{url}/{service_account.pk}").status_code,
        outsider_client.post(f"{url}/{service_account.pk}/tokens", {"name": "x"}, format="json").status_code,
    ]

    assert statuses == [404, 404, 404, 404]
    assert ServiceAccount.objects.filter(pk=service_account.pk).exists()


def test_service_account_foreign_id_is_404(owner_client, service_account, owner):
    other_workspace = WorkspaceFactory(owner=owner, name="Other")

    response = owner_client.delete(f"/api/v1/workspaces/{other_workspace.pk}/service-accounts/{service_account.pk}")

    assert response.status_code == 404, response.content


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_service_accounts_need_admin(url, workspace, service_account, role):
    member = UserFactory()
    MembershipFactory(user=member, workspace=workspace, role=role)
    client = client_for(member)

    listing = client.get(url)
    create = client.post(url, {"name": "x"}, format="json")
    delete = client.delete(f"{url}/{service_account.pk}")

    assert listing.status_code == 200, listing.content
    assert create.status_code == 403, create.content
    assert delete.status_code == 403, delete.content


def test_service_accounts_token_without_ability_is_403(owner, url):
    client = client_for(owner, abilities=["members:read"])

    response = client.post(url, {"name": "x"}, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["code"] == "insufficient_ability"


def test_workspace_deletion_removes_service_accounts(service_account, owner_client, workspace, owner):
    created = owner_client.post(
        f"/api/v1/workspaces/{workspace.pk}/service-accounts/{service_account.pk}/tokens", {"name": "ci"}, format="json"
    ).json()["data"]

    workspace.delete()

    assert not User.objects.filter(pk=service_account.user_id).exists()
    assert APIClient().get("/api/v1/user", HTTP_AUTHORIZATION=f"Bearer {created['token']}").status_code == 401
