"""Routes of the workflow execution pages, mounted at the site root."""

from django.urls import path

from workflows import pages

app_name = "execution_pages"

urlpatterns = [
    path("executions/", pages.execution_list, name="list"),
    path("executions/<uuid:execution_id>/", pages.execution_detail, name="detail"),
    path("executions/<uuid:execution_id>/live/", pages.execution_live, name="live"),
    path("executions/<uuid:execution_id>/cancel/", pages.execution_cancel, name="cancel"),
    path("executions/<uuid:execution_id>/resume/", pages.execution_resume, name="resume"),
    path("executions/<uuid:execution_id>/retry/", pages.execution_retry, name="retry"),
]
