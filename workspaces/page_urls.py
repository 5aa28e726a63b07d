"""Routes of the workspaces app's pages, mounted at the site root."""

from django.urls import path

from workspaces import pages

app_name = "workspace_pages"

urlpatterns = [
    path("workspace/switch/", pages.workspace_switch, name="switch"),
    path("settings/workspace/", pages.members, name="members"),
    path("settings/workspace/members/add/", pages.member_add, name="member-add"),
    path("settings/workspace/members/<uuid:user_id>/role/", pages.member_role, name="member-role"),
    path("settings/workspace/members/<uuid:user_id>/remove/", pages.member_remove, name="member-remove"),
    path("settings/workspace/variables/", pages.variables, name="variables"),
    path("settings/workspace/variables/add/", pages.variable_create, name="variable-create"),
    path("settings/workspace/variables/<str:key>/update/", pages.variable_update, name="variable-update"),
    path("settings/workspace/variables/<str:key>/delete/", pages.variable_delete, name="variable-delete"),
]
