"""Routes of the workflow and execution pages, mounted at the site root."""

from django.urls import include, path

from workflows.pages import executions, workflows

execution_patterns = [
    path("executions/", executions.execution_list, name="list"),
    path("executions/<uuid:execution_id>/", executions.execution_detail, name="detail"),
    path("executions/<uuid:execution_id>/live/", executions.execution_live, name="live"),
    path("executions/<uuid:execution_id>/cancel/", executions.execution_cancel, name="cancel"),
    path("executions/<uuid:execution_id>/resume/", executions.execution_resume, name="resume"),
    path("executions/<uuid:execution_id>/retry/", executions.execution_retry, name="retry"),
]

workflow_patterns = [
    path("workflows/", workflows.workflow_list, name="list"),
    path("workflows/create/", workflows.workflow_create, name="create"),
    path("workflows/validate/", workflows.workflow_validate, name="validate"),
    path("workflows/<uuid:workflow_id>/", workflows.workflow_editor, name="editor"),
    path("workflows/<uuid:workflow_id>/delete/", workflows.workflow_delete, name="delete"),
    path("workflows/<uuid:workflow_id>/webhook-secret/", workflows.workflow_webhook_secret, name="webhook-secret"),
]

urlpatterns = [
    path("", include((execution_patterns, "execution_pages"))),
    path("", include((workflow_patterns, "workflow_pages"))),
]
