"""Serializers of the authentication and user API."""

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer, inline_serializer
from rest_framework import serializers

from accounts_auth.models import PersonalAccessToken, User
from accounts_auth.photos import PROFILE_PHOTO_CONFIG, profile_photo_urls
from athena_site.api.abilities import validate_ability

MAX_ABILITIES = 100


class AbilityField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return validate_ability(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class AbilityListField(serializers.ListField):
    child = AbilityField(max_length=100)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_ABILITIES)
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)


@extend_schema_serializer(component_name="User")
class UserSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(read_only=True)
    profile_photo_urls = serializers.SerializerMethodField()
    current_workspace = serializers.UUIDField(source="current_workspace_id", read_only=True, allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "name",
            "email_verified",
            "email_verified_at",
            "multiplai_id",
            "profile_photo_urls",
            "current_workspace",
            "date_joined",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        inline_serializer(
            "ProfilePhotoUrls",
            {size: serializers.URLField(allow_null=True) for size in ("original", *PROFILE_PHOTO_CONFIG.size_names)},
            allow_null=True,
            help_text="Null when the user has no photo.",
        )
    )
    def get_profile_photo_urls(self, user: User) -> dict[str, str | None] | None:
        return profile_photo_urls(user=user, request=self.context.get("request"))


class UserUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    profile_photo = serializers.FileField(required=False, allow_null=True, allow_empty_file=False)
    current_workspace = serializers.UUIDField(required=False, allow_null=True)


@extend_schema_serializer(component_name="ProfilePhotoConfig")
class ProfilePhotoConfigSerializer(serializers.Serializer):
    allowed_types = serializers.ListField(child=serializers.CharField())
    max_bytes = serializers.IntegerField()
    max_width = serializers.IntegerField()
    max_height = serializers.IntegerField()
    sizes = serializers.DictField(child=serializers.IntegerField(), help_text="Generated square sizes in pixels.")


class SignInSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    token_name = serializers.CharField(max_length=120, required=False, default="API token")
    abilities = AbilityListField(required=False)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True)


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    abilities = AbilityListField(required=False)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False, allow_null=True)


@extend_schema_serializer(component_name="PersonalAccessToken")
class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonalAccessToken
        fields = ["id", "name", "hint", "abilities", "expires_at", "last_used_at", "revoked_at", "created_at"]
        read_only_fields = fields


@extend_schema_serializer(component_name="NewPersonalAccessToken")
class NewTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The secret. It is shown only in this response.")
    token_type = serializers.CharField(default="Bearer")
    expires_at = serializers.DateTimeField(allow_null=True)
    abilities = serializers.ListField(child=serializers.CharField())
    token_details = TokenSerializer(source="record")


@extend_schema_serializer(component_name="SignInResult")
class SignInResultSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The secret. It is shown only in this response.")
    token_type = serializers.CharField(default="Bearer")
    expires_at = serializers.DateTimeField(allow_null=True)
    abilities = serializers.ListField(child=serializers.CharField())
    user = UserSerializer()


@extend_schema_serializer(component_name="UserSession")
class UserSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ip = serializers.IPAddressField()
    user_agent = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()
