"""Authentication and user endpoints: sign-in, logout, the current user, tokens and sessions."""

from datetime import timedelta

from django.contrib.auth import logout as django_logout
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts_auth import lockout, selectors, services
from accounts_auth.api import serializers
from accounts_auth.photos import PROFILE_PHOTO_CONFIG
from athena_site.api.errors import ApplicationError, Forbidden
from athena_site.api.pagination import paginated_response
from athena_site.api.parsers import StrictJSONParser
from athena_site.client_ip import client_ip

PROFILE_PHOTO_BODY_LIMIT = PROFILE_PHOTO_CONFIG.max_bytes + 64 * 1024


class InvalidCredentials(ApplicationError):
    status_code = 401
    code = "invalid_credentials"
    message = "These credentials do not match our records."


def _require_ability(request, ability: str, *, object_id: object = None) -> None:
    if not request.auth.allows(ability, object_id=object_id):
        raise Forbidden(f"This token lacks the '{ability}' ability.", code="insufficient_ability")


SIGN_IN_EXAMPLE = OpenApiExample(
    "Sign in",
    value={
        "email": "ada@example.com",
        "password": "correct horse battery staple",
        "token_name": "CLI",
        "abilities": ["agents:read", "agents:run"],
        "expires_in_days": 30,
    },
    request_only=True,
)


class SignInView(APIView):
    """Exchange an email and password for a new personal access token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_sign_in",
        summary="Sign in",
        tags=["Authentication"],
        request=serializers.SignInSerializer,
        responses={
            200: serializers.SignInResultSerializer,
            401: OpenApiResponse(description="Wrong email or password (`invalid_credentials`)."),
            403: OpenApiResponse(description="Email not verified (`email_not_verified`)."),
            429: OpenApiResponse(description="Too many failed attempts; see `Retry-After`."),
        },
        examples=[SIGN_IN_EXAMPLE],
        auth=[],
    )
    def post(self, request):
        serializer = serializers.SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ip = client_ip(request)

        try:
            lockout.login_attempt_check(email=data["email"], ip=ip)
        except lockout.LoginLocked as exc:
            raise Throttled(wait=exc.retry_after, detail="Too many failed sign-in attempts.") from None

        user = selectors.user_check_password(email=data["email"], password=data["password"])
        if user is None:
            lockout.login_failure_record(email=data["email"], ip=ip)
            services.auth_event_record(
                event="sign_in_failed", method="password", outcome="failure", request=request, email=data["email"]
            )
            raise InvalidCredentials()
        if not selectors.user_email_verified(user=user) and services.email_verification_mandatory():
            raise Forbidden("Verify your email address before signing in.", code="email_not_verified")

        lockout.login_success_record(email=data["email"])
        expires_at = None
        if data.get("expires_in_days"):
            expires_at = timezone.now() + timedelta(days=data["expires_in_days"])
        token, raw = services.personal_access_token_create(
            user=user, name=data["token_name"], abilities=data.get("abilities"), expires_at=expires_at, request=request
        )
        services.auth_event_record(event="sign_in", method="password", outcome="success", request=request, user=user)
        body = {
            "token": raw,
            "token_type": "Bearer",
            "expires_at": token.expires_at,
            "abilities": token.abilities,
            "user": user,
        }
        return Response(serializers.SignInResultSerializer(body, context={"request": request}).data)


class LogoutView(APIView):
    """Revoke the token used for this request, or end the browser session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout", summary="Logout", tags=["Authentication"], request=None, responses={204: None}
    )
    def post(self, request):
        services.user_logout(request=request)
        if request.auth.method == "session":
            django_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserView(APIView):
    """The authenticated user."""

    permission_classes = [IsAuthenticated]
    parser_classes = [StrictJSONParser, MultiPartParser, FormParser]
    max_body_size = PROFILE_PHOTO_BODY_LIMIT

    @extend_schema(
        operation_id="user_retrieve",
        summary="Get the authenticated user",
        tags=["User"],
        responses=serializers.UserSerializer,
    )
    def get(self, request):
        return Response(serializers.UserSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        operation_id="user_update",
        summary="Update the authenticated user",
        tags=["User"],
        request={
            "application/json": serializers.UserUpdateSerializer,
            "multipart/form-data": serializers.UserUpdateSerializer,
        },
        responses=serializers.UserSerializer,
    )
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(
        operation_id="user_partial_update",
        summary="Partially update the authenticated user",
        tags=["User"],
        request={
            "application/json": serializers.UserUpdateSerializer,
            "multipart/form-data": serializers.UserUpdateSerializer,
        },
        responses=serializers.UserSerializer,
    )
    def patch(self, request):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        if request.user.is_service_account:
            raise Forbidden("Service accounts cannot change their profile.")
        serializer = serializers.UserUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, data=serializer.validated_data)
        return Response(serializers.UserSerializer(user, context={"request": request}).data)


class ProfilePhotoConfigView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="user_profile_photo_config",
        summary="Get the profile photo rules",
        tags=["User"],
        responses=serializers.ProfilePhotoConfigSerializer,
    )
    def get(self, request):
        return Response(serializers.ProfilePhotoConfigSerializer(PROFILE_PHOTO_CONFIG.as_dict()).data)


class TokenListView(APIView):
    """The user's personal access tokens; secrets are never listed."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="user_tokens_list",
        summary="List tokens",
        tags=["User"],
        responses=serializers.TokenSerializer(many=True),
    )
    def get(self, request):
        _require_ability(request, "tokens:read")
        return paginated_response(
            request=request,
            items=selectors.personal_access_token_list(user=request.user),
            serialize=lambda page: serializers.TokenSerializer(page, many=True).data,
            view=self,
        )

    @extend_schema(
        operation_id="user_tokens_create",
        summary="Create a token",
        tags=["User"],
        request=serializers.TokenCreateSerializer,
        responses={201: serializers.NewTokenSerializer},
    )
    def post(self, request):
        _require_ability(request, "tokens:write")
        serializer = serializers.TokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        abilities = services.abilities_within(granted=request.auth.abilities, requested=data.get("abilities"))
        expires_at = timezone.now() + timedelta(days=data["expires_in_days"]) if data.get("expires_in_days") else None
        token, raw = services.personal_access_token_create(
            user=request.user, name=data["name"], abilities=abilities, expires_at=expires_at, request=request
        )
        body = {
            "token": raw,
            "token_type": "Bearer",
            "expires_at": token.expires_at,
            "abilities": token.abilities,
            "record": token,
        }
        return Response(serializers.NewTokenSerializer(body).data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="user_tokens_destroy", summary="Revoke a token", tags=["User"], responses={204: None})
    def delete(self, request, token_id):
        _require_ability(request, "tokens:delete", object_id=token_id)
        token = selectors.personal_access_token_get_for_user(token_id=token_id, user=request.user)
        services.personal_access_token_revoke(token=token, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="user_tokens_rotate",
        summary="Rotate a token",
        tags=["User"],
        request=None,
        responses={201: serializers.NewTokenSerializer},
    )
    def post(self, request, token_id):
        _require_ability(request, "tokens:write", object_id=token_id)
        token = selectors.personal_access_token_get_for_user(token_id=token_id, user=request.user)
        replacement, raw = services.personal_access_token_rotate(token=token, request=request)
        body = {
            "token": raw,
            "token_type": "Bearer",
            "expires_at": replacement.expires_at,
            "abilities": replacement.abilities,
            "record": replacement,
        }
        return Response(serializers.NewTokenSerializer(body).data, status=status.HTTP_201_CREATED)


class SessionListView(APIView):
    """The user's browser sessions, with device, IP and last activity."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="user_sessions_list",
        summary="List browser sessions",
        tags=["User"],
        responses=serializers.UserSessionSerializer(many=True),
    )
    def get(self, request):
        _require_ability(request, "tokens:read")
        current_key = request.session.session_key if request.auth.method == "session" else None

        def serialize(page):
            rows = [
                {
                    "id": item.pk,
                    "ip": item.ip,
                    "user_agent": item.user_agent,
                    "created_at": item.created_at,
                    "last_seen_at": item.last_seen_at,
                    "is_current": item.session_key == current_key,
                }
                for item in page
            ]
            return serializers.UserSessionSerializer(rows, many=True).data

        return paginated_response(
            request=request, items=selectors.user_session_list(user=request.user), serialize=serialize, view=self
        )


class SessionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="user_sessions_destroy",
        summary="End a browser session",
        tags=["User"],
        parameters=[],
        responses={204: None},
    )
    def delete(self, request, session_id):
        _require_ability(request, "tokens:delete")
        session = selectors.user_session_get_for_user(session_id=session_id, user=request.user)
        services.user_session_end(session=session, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
