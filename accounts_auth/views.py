"""Browser entry points of the accounts_auth app."""

import logging

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts_auth import multiplai, services
from athena_site.api.errors import ApplicationError

logger = logging.getLogger(__name__)


def _error(message: str, code: str, status: int) -> JsonResponse:
    return JsonResponse({"message": message, "code": code}, status=status)


@csrf_exempt  # The Multiplai token authenticates this POST; without a valid one nothing happens.
@require_POST
def multiplai_handover(request: HttpRequest) -> HttpResponse:
    """Start a browser session for a Multiplai user and redirect into the app.

    The token comes in the `X-Multiplai-Authorization: Bearer` header or the `token` form field.
    """
    header = request.headers.get("X-Multiplai-Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else request.POST.get("token", "").strip()
    if not token or len(token) > 4096:
        return _error("A Multiplai token is required.", "unauthenticated", 401)

    try:
        identity, _ = multiplai.multiplai_identity_fetch(token=token)
        user = multiplai.multiplai_user_sync(identity=identity)
    except multiplai.MultiplaiInvalidToken:
        services.auth_event_record(event="sign_in_failed", method="multiplai", outcome="failure", request=request)
        return _error("The Multiplai token is invalid.", "unauthenticated", 401)
    except multiplai.MultiplaiUnavailable:
        return _error("Multiplai could not be reached. Try again later.", "multiplai_unavailable", 503)
    except ApplicationError as exc:
        return _error(exc.message, exc.code, exc.status_code)
    if not user.is_active:
        return _error("This account is disabled.", "unauthenticated", 401)

    services.multiplai_user_signed_in(user=user, request=request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    services.auth_event_record(event="sign_in", method="multiplai", outcome="success", request=request, user=user)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return HttpResponseRedirect(target)
