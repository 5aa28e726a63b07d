"""Two owners removing each other at the same moment never leave a workspace without an owner."""

import threading

import pytest
from django.db import connection

from athena_site.api.errors import Conflict
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces import services
from workspaces.models import Membership, Role


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Needs row locks across connections; the in-memory SQLite test database is shared by one process.",
)
def test_last_owner_concurrent_removal(transactional_db):
    # given a workspace with exactly two owners
    first, second = UserFactory(), UserFactory()
    workspace = WorkspaceFactory(owner=first)
    MembershipFactory(user=second, workspace=workspace, role=Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(actor, target):
        barrier.wait()
        try:
            membership = Membership.objects.get(workspace=workspace, user=target)
            services.membership_remove(membership=membership, actor=actor, actor_role=Role.OWNER)
            outcomes.append("removed")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    # when each owner removes the other at once
    threads = [
        threading.Thread(target=remove, args=(first, second)),
        threading.Thread(target=remove, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then one removal wins and the other meets the last-owner rule
    assert sorted(outcomes) == ["last_owner", "removed"]
    assert Membership.objects.filter(workspace=workspace, role=Role.OWNER).count() == 1
