"""Admin registrations of the accounts_auth app."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts_auth import admin_oauth  # noqa: F401 (replaces DOT's token admins with read-only ones)
from accounts_auth.models import AuthEvent, PersonalAccessToken, User


class AthenaUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")


class AthenaUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = AthenaUserChangeForm
    add_form = AthenaUserCreationForm
    ordering = ("email",)
    list_display = ("email", "name", "is_active", "is_staff", "email_verified_at", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_service_account")
    search_fields = ("email", "name", "multiplai_id")
    readonly_fields = ("date_joined", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "email_verified_at", "multiplai_id", "avatar_url", "current_workspace")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)


@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    """Tokens are listed with their hint only; the hash and secret are never shown."""

    list_display = ("name", "user", "hint", "expires_at", "revoked_at", "last_used_at", "created_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "user__email", "hint")
    fields = (
        "user",
        "name",
        "hint",
        "abilities",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_ip",
        "created_user_agent",
        "replaced_by",
        "created_at",
    )
    readonly_fields = ("user", "hint", "last_used_at", "created_ip", "created_user_agent", "replaced_by", "created_at")
    actions = ["revoke_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke_selected(self, request, queryset) -> None:
        from accounts_auth.services import personal_access_token_revoke

        for token in queryset:
            personal_access_token_revoke(token=token, request=request)


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    """The audit trail: read-only."""

    list_display = ("created_at", "event", "outcome", "method", "user", "email", "ip")
    list_filter = ("event", "outcome", "method")
    search_fields = ("user__email", "email", "ip")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
