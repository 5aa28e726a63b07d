"""Serializers of the workspaces API: input serializers parse and bound requests, output ones render."""

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workspaces.models import (
    SLUG_MAX_LENGTH,
    VARIABLE_KEY_PATTERN,
    CommandRoomTask,
    Membership,
    Role,
    Variable,
    Workspace,
)

MAX_DESCRIPTION_LENGTH = 2000
MAX_VARIABLE_VALUE_LENGTH = 32 * 1024
MAX_NOTE_LENGTH = 10_000
MAX_POSITION = 1_000_000


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(
        choices=Role.choices, read_only=True, allow_null=True, help_text="Your role in this workspace."
    )
    owner_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Workspace
        ref_name = "Workspace"
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "timezone",
            "settings",
            "role",
            "is_personal",
            "external_id",
            "owner_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WorkspaceWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.CharField(max_length=SLUG_MAX_LENGTH, required=False, help_text="Generated from the name.")
    description = serializers.CharField(max_length=MAX_DESCRIPTION_LENGTH, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False, help_text="IANA time zone, such as Europe/Paris.")
    settings = serializers.JSONField(required=False, help_text="A JSON object of at most 16 KiB.")

    class Meta:
        ref_name = "WorkspaceWrite"


class WorkspaceRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()


class WorkspaceMetricsSerializer(serializers.Serializer):
    workspace = WorkspaceRefSerializer()
    metrics = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Each registered metric: a count, or counts by name. `members` is always present.",
    )

    class Meta:
        ref_name = "WorkspaceMetrics"


@extend_schema_field(OpenApiTypes.DATETIME)
class DateOrDateTimeField(serializers.Field):
    """An ISO 8601 date or date-time; a date means its start, or its end with `end_of_day`."""

    default_error_messages = {"invalid": "Use an ISO 8601 date (2025-01-31) or date-time (2025-01-31T12:00:00Z)."}

    def __init__(self, *, end_of_day: bool = False, **kwargs) -> None:
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> dt.datetime:
        text = str(data).strip()[:64]
        # A bare date is parsed first: parse_datetime also accepts one and would read it as midnight.
        try:
            day = parse_date(text)
            moment = None if day else parse_datetime(text)
        except ValueError:
            self.fail("invalid")
        if moment is None and day is None:
            self.fail("invalid")
        if moment is None:
            moment = dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, dt.UTC)
        return moment

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()


class WorkspaceMetricsQuerySerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # `from` is a Python keyword, so the fields cannot be declared as class attributes.
        return {
            "from": DateOrDateTimeField(required=False),
            "to": DateOrDateTimeField(required=False, end_of_day=True),
        }

    def validate(self, attrs: dict) -> dict:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"from": ["'from' must not be later than 'to'."]})
        return attrs


class WorkspaceDeleteQuerySerializer(serializers.Serializer):
    confirm = serializers.CharField(max_length=SLUG_MAX_LENGTH, required=False, allow_blank=True)


class TransferOwnershipSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(help_text="The member who becomes the owner; you become an admin.")

    class Meta:
        ref_name = "TransferOwnership"


class MemberSerializer(serializers.Serializer):
    user_id = serializers.UUIDField(allow_null=True, help_text="Null while the invitation is pending.")
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    role = serializers.ChoiceField(choices=Role.choices)
    # A plain string rather than a choice field: a second `status` enum would collide in the
    # schema with the command-room task's `status` enum.
    status = serializers.CharField(help_text="`active`, or `invited` while the invitation is pending.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When a pending invitation expires.")

    class Meta:
        ref_name = "Member"

    @staticmethod
    def from_membership(membership: Membership) -> dict:
        return {
            "user_id": membership.user_id,
            "email": membership.user.email,
            "name": membership.user.name,
            "role": membership.role,
            "status": "active",
            "created_at": membership.created_at,
            "expires_at": None,
        }

    @staticmethod
    def from_invitation(invitation) -> dict:
        return {
            "user_id": None,
            "email": invitation.email,
            "name": "",
            "role": invitation.role,
            "status": "invited",
            "created_at": invitation.created_at,
            "expires_at": invitation.expires_at,
        }


class MemberCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)

    class Meta:
        ref_name = "MemberCreate"


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        ref_name = "MemberUpdate"


class VariableSerializer(serializers.ModelSerializer):
    value = serializers.SerializerMethodField(help_text="Null for secrets: their value is never returned.")

    class Meta:
        model = Variable
        ref_name = "Variable"
        fields = ["id", "key", "value", "secret", "description", "created_by", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_value(self, variable: Variable) -> str | None:
        return None if variable.secret else variable.value


class VariableCreateSerializer(serializers.Serializer):
    key = serializers.RegexField(VARIABLE_KEY_PATTERN, max_length=64, help_text="Letters, digits and underscores.")
    value = serializers.CharField(max_length=MAX_VARIABLE_VALUE_LENGTH, allow_blank=True, trim_whitespace=False)
    secret = serializers.BooleanField(default=False, help_text="Encrypt the value and never return it.")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    class Meta:
        ref_name = "VariableCreate"


class VariableUpdateSerializer(serializers.Serializer):
    key = serializers.RegexField(VARIABLE_KEY_PATTERN, max_length=64, required=False)
    value = serializers.CharField(
        max_length=MAX_VARIABLE_VALUE_LENGTH, allow_blank=True, trim_whitespace=False, required=False
    )
    secret = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        ref_name = "VariableUpdate"


class CommandRoomTaskSerializer(serializers.ModelSerializer):
    workspace_id = serializers.UUIDField(read_only=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = CommandRoomTask
        ref_name = "CommandRoomTask"
        fields = [
            "id",
            "workspace_id",
            "kind",
            "reference_id",
            "title",
            "note",
            "position",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CommandRoomTaskStoreSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CommandRoomTask.Kind.choices)
    reference_id = serializers.UUIDField(required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(max_length=MAX_NOTE_LENGTH, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=-MAX_POSITION, max_value=MAX_POSITION, required=False)
    status = serializers.ChoiceField(choices=CommandRoomTask.Status.choices, required=False)

    class Meta:
        ref_name = "CommandRoomTaskStore"
