"""Routes of the workspaces API, mounted under /api/v1/."""

from athena_site.api.routers import ApiRouter
from workspaces.api import views

router = ApiRouter()
router.register("workspaces/invitations", views.InvitationViewSet, basename="workspace-invitation")
router.register(r"workspaces/(?P<workspace_id>[^/.]+)/members", views.MemberViewSet, basename="workspace-member")
router.register(r"workspaces/(?P<workspace_id>[^/.]+)/variables", views.VariableViewSet, basename="workspace-variable")
router.register("workspaces", views.WorkspaceViewSet, basename="workspace")
router.register("command-room/tasks", views.CommandRoomTaskViewSet, basename="command-room-task")

app_name = "workspaces"
urlpatterns = router.urls
