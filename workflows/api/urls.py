"""Routes of the workflows API, mounted under /api/v1/."""

from django.urls import re_path

from athena_site.api.routers import ApiRouter
from workflows.api.hooks import public_webhook
from workflows.api.public import PublicWorkflowRunView
from workflows.api.views import WorkflowExecutionViewSet, WorkflowViewSet

router = ApiRouter()
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("workflow-executions", WorkflowExecutionViewSet, basename="workflow-execution")

urlpatterns = [
    re_path(r"^hooks/(?P<webhook_token>[A-Za-z0-9_-]{16,64})/?$", public_webhook, name="workflow-public-webhook"),
    re_path(
        r"^public/workflows/(?P<share_token>[A-Za-z0-9_-]{16,64})/run/?$",
        PublicWorkflowRunView.as_view(),
        name="workflow-public-run",
    ),
    *router.urls,
]
