"""factory_boy factories shared by the test packages. Workspaces are built through their services."""

import secrets

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts_auth.models import User
from tests.secret_capture import PLANTED_MARKER
from workspaces import services
from workspaces.models import CommandRoomTask, Membership, Role, Variable, Workspace


def planted_secret(kind: str = "secret") -> str:
    """Return a new secret value that the session's secret capture recognises wherever it appears."""
    return f"{kind}-{PLANTED_MARKER}-{secrets.token_urlsafe(12)}"


class UserFactory(DjangoModelFactory):
    """A verified user; saving it gives it a personal workspace through the post_save signal."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda number: f"person{number}@example.com")
    name = factory.Sequence(lambda number: f"Person {number}")
    email_verified_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, password="correct horse battery", **kwargs)


class WorkspaceFactory(DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda number: f"Team {number}")
    owner = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.workspace_create(**kwargs)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.VIEWER


class VariableFactory(DjangoModelFactory):
    class Meta:
        model = Variable

    workspace = factory.SubFactory(WorkspaceFactory)
    key = factory.Sequence(lambda number: f"VARIABLE_{number}")
    secret = False
    value = factory.LazyAttribute(
        lambda variable: planted_secret("workspace-secret") if variable.secret else "plain value"
    )
    description = ""
    created_by = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.variable_create(**kwargs)


class CommandRoomTaskFactory(DjangoModelFactory):
    class Meta:
        model = CommandRoomTask

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = CommandRoomTask.Kind.NOTE
    reference_id = None
    title = factory.Sequence(lambda number: f"Task {number}")
    note = ""
    position = factory.Sequence(lambda number: number)
