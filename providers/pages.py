"""Browser pages of the providers app: the connections page (providers and their accounts).

Connecting with a key stores the credentials through `account_create`; connecting with OAuth2
sends the browser to the API's authorize route, whose callback comes back to this page with
`?connected=<id>` or `?error=<code>`. Stored credentials are never rendered: the page shows the
last characters the account keeps as a hint.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from athena_site.api.errors import ApplicationError
from providers import selectors, services
from providers.authentication import CREDENTIAL_FIELDS
from providers.errors import AccountTestUnavailable
from providers.models import Account, AuthStrategy
from workspaces.models import Workspace
from workspaces.pages import page_allows, page_check, page_workspace, show_error, workspace_page

# Error codes the OAuth2 callback puts in `?error=`, with the message shown to the person.
CONNECT_ERRORS = {
    "invalid_state": "The connection request was not recognised. Start the connection again.",
    "expired_state": "The connection request expired. Start the connection again.",
    "access_denied": "The provider did not grant access. Start again and approve the request.",
    "invalid_grant": "The provider rejected the authorization code. Start the connection again.",
    "unauthenticated": "Sign in, then start the connection again.",
}
CONNECTIONS_URL = "/connections/"
# Field labels of the credential fields, by name.
CREDENTIAL_LABELS = {"api_key": "API key", "token": "Token", "username": "Username", "password": "Password"}


class ConnectForm(forms.Form):
    """A connection with a key: the account's name and the credentials the provider's strategy needs."""

    name = forms.CharField(max_length=120, help_text="Tell accounts of the same provider apart, such as 'Production'.")

    def __init__(self, *args: Any, strategy: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strategy = strategy
        for field in CREDENTIAL_FIELDS.get(strategy, ()):
            widget = forms.TextInput() if field == "username" else forms.PasswordInput(attrs={"autocomplete": "off"})
            self.fields[field] = forms.CharField(
                max_length=8192, label=CREDENTIAL_LABELS.get(field, field), widget=widget
            )

    def credentials(self) -> dict[str, str]:
        return {field: self.cleaned_data[field] for field in CREDENTIAL_FIELDS.get(self.strategy, ())}


def _form_for(provider: Any, data: Any = None) -> ConnectForm:
    return ConnectForm(data, strategy=provider.strategy, auto_id=f"provider-{provider.pk}-%s")


def _connections_page(
    request: HttpRequest, workspace: Workspace | None, failed: tuple[Any, ConnectForm] | None = None, status: int = 200
) -> HttpResponse:
    error_code = request.GET.get("error", "")[:64]
    context: dict[str, Any] = {
        "workspace": workspace,
        "connected_id": request.GET.get("connected", "")[:64],
        "error_code": error_code,
        "error_message": CONNECT_ERRORS.get(
            error_code, "The connection failed. Check the provider's settings and try again."
        )
        if error_code
        else "",
    }
    if workspace is not None:
        page_check(request, workspace, "accounts:read")
        providers = []
        for provider in selectors.provider_list(workspace_ids=[workspace.pk]):
            form = failed[1] if failed and failed[0].pk == provider.pk else _form_for(provider)
            providers.append({"provider": provider, "form": form, "oauth": provider.strategy == AuthStrategy.OAUTH2})
        context.update(
            accounts=selectors.account_list(workspace_ids=[workspace.pk]),
            providers=providers,
            can_write=page_allows(request, workspace, "accounts:write"),
            can_delete=page_allows(request, workspace, "accounts:delete"),
        )
    return render(request, "providers/connections.html", context, status=status)


@login_required
def connections(request: HttpRequest) -> HttpResponse:
    """List the providers and accounts of the current workspace, and the outcome of an OAuth2 connect."""
    return _connections_page(request, page_workspace(request))


def _account(workspace: Workspace, account_id: str) -> Account:
    account = selectors.account_get(account_id=account_id, workspace_ids=[workspace.pk])
    if account is None:
        raise Http404
    return account


@require_POST
@workspace_page
def account_connect(request: HttpRequest, workspace: Workspace, provider_id: str) -> HttpResponse:
    page_check(request, workspace, "accounts:write")
    provider = selectors.provider_list(workspace_ids=[workspace.pk]).filter(pk=provider_id).first()
    if provider is None:
        raise Http404
    form = _form_for(provider, request.POST)
    if not form.is_valid():
        return _connections_page(request, workspace, failed=(provider, form), status=422)
    try:
        account = services.account_create(
            workspace=workspace,
            provider=provider,
            user=request.user,
            name=form.cleaned_data["name"],
            credentials=form.credentials(),
        )
    except ApplicationError as exc:
        show_error(request, exc, form)
        return _connections_page(request, workspace, failed=(provider, form), status=422)
    messages.success(request, f"{account.name} is connected to {provider.name}. Press Test to check the credentials.")
    return HttpResponseRedirect(CONNECTIONS_URL)


@require_POST
@workspace_page
def account_test(request: HttpRequest, workspace: Workspace, account_id: str) -> HttpResponse:
    page_check(request, workspace, "accounts:write")
    account = _account(workspace, account_id)
    try:
        result = services.account_test(account=account)
    except AccountTestUnavailable as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(CONNECTIONS_URL)
    if result.ok:
        messages.success(request, f"Test of {account.name} passed: {result.message}")
    else:
        messages.error(
            request,
            f"Test of {account.name} failed ({result.code}): {result.message} Update the credentials and test again.",
        )
    return HttpResponseRedirect(CONNECTIONS_URL)


@require_POST
@workspace_page
def account_delete(request: HttpRequest, workspace: Workspace, account_id: str) -> HttpResponse:
    page_check(request, workspace, "accounts:delete")
    account = _account(workspace, account_id)
    services.account_delete(account=account)
    messages.success(request, f"{account.name} was disconnected and its credentials deleted.")
    return HttpResponseRedirect(CONNECTIONS_URL)
