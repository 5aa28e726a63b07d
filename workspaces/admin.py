"""Admin registrations of the workspaces app. Secret values are write-only here."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from workspaces import services
from workspaces.models import CommandRoomTask, Invitation, Membership, Variable, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "workspace"
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["invited_by", "created_at"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "owner", "is_personal", "external_id", "deleting_at", "created_at"]
    list_filter = ["is_personal", "deleting_at"]
    search_fields = ["name", "slug", "external_id", "owner__email"]
    readonly_fields = ["id", "deleting_at", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]
    inlines = [MembershipInline]
    actions = ["request_deletion"]

    @admin.action(description="Delete the selected workspaces and their data in the background")
    def request_deletion(self, request: HttpRequest, queryset: Any) -> None:
        for workspace in queryset.filter(deleting_at__isnull=True):
            services.workspace_request_deletion(workspace=workspace, user=request.user, confirm=workspace.slug)
        self.message_user(request, "Deletion started for the selected workspaces.", messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "workspace__name", "workspace__slug"]
    autocomplete_fields = ["user", "workspace", "invited_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "workspace", "role", "accepted_at", "expires_at", "created_at"]
    list_filter = ["role"]
    search_fields = ["email", "workspace__name"]
    # The token hash is not shown: it is useless to people and only helps guessing.
    readonly_fields = ["accepted_at", "accepted_by", "created_at", "updated_at"]
    exclude = ["token_hash"]
    autocomplete_fields = ["workspace", "invited_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Invitations need a token mailed to the invitee, which only the members API sends.
        return False


class VariableAdminForm(forms.ModelForm):
    """Edit a variable; a secret's value can be replaced but is never displayed."""

    new_secret_value = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="For secrets: type a new value to replace the stored one; leave empty to keep it.",
    )

    class Meta:
        model = Variable
        fields = ["workspace", "key", "secret", "value", "description", "created_by"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("secret") and cleaned.get("value"):
            self.add_error("value", "Secrets take their value in the new secret value field.")
        if cleaned.get("secret") and not cleaned.get("new_secret_value") and not self.instance.secret:
            self.add_error("new_secret_value", "A new secret needs a value.")
        return cleaned

    def save(self, commit: bool = True) -> Variable:
        variable = super().save(commit=False)
        new_value = self.cleaned_data.get("new_secret_value")
        if variable.secret and new_value:
            variable.secret_value = new_value
            variable.value = ""
        elif not variable.secret:
            variable.secret_value = None
        if commit:
            variable.save()
        return variable


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    form = VariableAdminForm
    list_display = ["key", "workspace", "secret", "display_value", "updated_at"]
    list_filter = ["secret"]
    search_fields = ["key", "workspace__name"]
    autocomplete_fields = ["workspace", "created_by"]

    @admin.display(description="value")
    def display_value(self, variable: Variable) -> str:
        return "********" if variable.secret else variable.value[:80]


@admin.register(CommandRoomTask)
class CommandRoomTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "workspace", "status", "position", "updated_at"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "note", "workspace__name"]
    autocomplete_fields = ["workspace", "created_by"]
