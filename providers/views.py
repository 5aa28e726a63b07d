"""Browser pages of the providers app."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from providers.selectors import account_list

# Error codes the OAuth2 callback puts in `?error=`, with the message shown to the person.
CONNECT_ERRORS = {
    "invalid_state": "The connection request was not recognised. Start the connection again.",
    "expired_state": "The connection request expired. Start the connection again.",
    "access_denied": "The provider did not grant access.",
    "invalid_grant": "The provider rejected the authorization code. Start the connection again.",
}


@login_required
def connections(request: HttpRequest) -> HttpResponse:
    """List the connected accounts of the current workspace and the outcome of an OAuth2 connect."""
    workspace = request.user.current_workspace
    accounts = account_list(workspace_ids=[workspace.pk]).select_related("provider") if workspace else []
    error_code = request.GET.get("error", "")[:64]
    context = {
        "workspace": workspace,
        "accounts": accounts,
        "connected_id": request.GET.get("connected", "")[:64],
        "error_code": error_code,
        "error_message": CONNECT_ERRORS.get(error_code, "The connection failed.") if error_code else "",
    }
    return render(request, "providers/connections.html", context)
