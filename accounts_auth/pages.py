"""Browser settings pages of accounts_auth: profile and photo, API tokens, sessions and service accounts.

Secrets (new tokens) are shown once, on the page returned by the form that created them,
with `Cache-Control: no-store`; they are never stored or shown again.
"""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts_auth import selectors, services
from accounts_auth.photos import PROFILE_PHOTO_CONFIG, profile_photo_urls
from athena_site.api.abilities import all_abilities, validate_ability
from athena_site.api.errors import ApplicationError, NotFound
from workspaces.models import Membership, Role, Workspace
from workspaces.pages import no_store, page_allows, page_check, page_role, page_workspace, show_error, workspace_page

SESSION_ABILITIES = frozenset({"*"})

# --- profile ---------------------------------------------------------------------


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)
    profile_photo = forms.FileField(
        required=False,
        label="New photo",
        help_text=f"JPEG, PNG, WebP or GIF, at most {PROFILE_PHOTO_CONFIG.max_bytes // (1024 * 1024)} MB.",
    )
    remove_photo = forms.BooleanField(required=False, label="Remove the current photo")


def _profile_page(request: HttpRequest, form: ProfileForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "photo": profile_photo_urls(user=request.user),
        "workspace": page_workspace(request),
        "section": "profile",
    }
    return render(request, "settings/profile.html", context, status=status)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _profile_page(request, ProfileForm(initial={"name": request.user.name}))

    form = ProfileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _profile_page(request, form, status=422)
    data: dict[str, Any] = {"name": form.cleaned_data["name"]}
    if form.cleaned_data["profile_photo"]:
        data["profile_photo"] = form.cleaned_data["profile_photo"]
    elif form.cleaned_data["remove_photo"]:
        data["profile_photo"] = None
    try:
        services.user_profile_update(user=request.user, data=data)
    except ApplicationError as exc:
        show_error(request, exc, form)
        return _profile_page(request, form, status=422)
    messages.success(request, "Your profile was saved.")
    return HttpResponseRedirect(request.path)


# --- API tokens ------------------------------------------------------------------


class TokenForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="Say where the token is used, such as 'CI deploy'.")
    abilities = forms.CharField(
        max_length=2000,
        initial="*",
        help_text="Space-separated abilities: * for everything, or for example workflows:read workflows:run.",
    )
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, label="Expires in (days)", help_text="Empty: never expires."
    )

    def clean_abilities(self) -> list[str]:
        abilities = self.cleaned_data["abilities"].replace(",", " ").split()
        errors = []
        for ability in abilities:
            try:
                validate_ability(ability)
            except ValueError as exc:
                errors.append(str(exc))
        if errors:
            raise forms.ValidationError(errors)
        if not abilities:
            raise forms.ValidationError("Give at least one ability, or * for everything.")
        return abilities


def _tokens_page(
    request: HttpRequest,
    form: TokenForm | None = None,
    new_secret: str = "",
    new_token: Any = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "form": form or TokenForm(),
        "tokens": selectors.personal_access_token_list(user=request.user),
        "new_secret": new_secret,
        "new_token": new_token,
        "abilities": all_abilities(),
        "workspace": page_workspace(request),
        "section": "tokens",
        "now": timezone.now(),
    }
    response = render(request, "settings/tokens.html", context, status=status)
    return no_store(response) if new_secret else response


def _expiry(days: int | None) -> Any:
    return timezone.now() + timedelta(days=days) if days else None


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _tokens_page(request)

    form = TokenForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, form=form, status=422)
    try:
        abilities = services.abilities_within(granted=SESSION_ABILITIES, requested=form.cleaned_data["abilities"])
        token, raw = services.personal_access_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            abilities=abilities,
            expires_at=_expiry(form.cleaned_data["expires_in_days"]),
            request=request,
        )
    except ApplicationError as exc:
        show_error(request, exc, form)
        return _tokens_page(request, form=form, status=422)
    return _tokens_page(request, new_secret=raw, new_token=token, status=201)


def _own_token(request: HttpRequest, token_id: str) -> Any:
    try:
        return selectors.personal_access_token_get_for_user(token_id=token_id, user=request.user)
    except NotFound:
        raise Http404 from None


@login_required
@require_POST
def token_rotate(request: HttpRequest, token_id: str) -> HttpResponse:
    token = _own_token(request, token_id)
    replacement, raw = services.personal_access_token_rotate(token=token, request=request)
    messages.success(request, f"'{token.name}' was rotated: the old secret stops working; use the new one below.")
    return _tokens_page(request, new_secret=raw, new_token=replacement, status=201)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    token = _own_token(request, token_id)
    services.personal_access_token_revoke(token=token, request=request)
    messages.success(request, f"'{token.name}' was revoked; requests with it now get 401.")
    return HttpResponseRedirect("/settings/tokens/")


# --- sessions --------------------------------------------------------------------


@login_required
def sessions(request: HttpRequest) -> HttpResponse:
    context = {
        "sessions": selectors.user_session_list(user=request.user),
        "current_key": request.session.session_key,
        "workspace": page_workspace(request),
        "section": "sessions",
    }
    return render(request, "settings/sessions.html", context)


@login_required
@require_POST
def session_end(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        session = selectors.user_session_get_for_user(session_id=session_id, user=request.user)
    except NotFound:
        raise Http404 from None
    if session.session_key == request.session.session_key:
        messages.error(request, "This is the session you are using; sign out instead.")
        return HttpResponseRedirect("/settings/sessions/")
    services.user_session_end(session=session, request=request)
    messages.success(request, "The session was ended; that browser is signed out.")
    return HttpResponseRedirect("/settings/sessions/")


# --- service accounts ------------------------------------------------------------

SERVICE_ACCOUNT_ROLES = [(role.value, role.label) for role in (Role.VIEWER, Role.EDITOR, Role.ADMIN)]


class ServiceAccountForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=2000, required=False)
    role = forms.ChoiceField(choices=SERVICE_ACCOUNT_ROLES, initial=Role.VIEWER)


def _token_form_ids(account_id: Any) -> str:
    # One token form per service account on the page, so each needs its own element ids.
    return f"sa-{account_id}-%s"


def _service_accounts_page(
    request: HttpRequest,
    workspace: Workspace,
    form: ServiceAccountForm | None = None,
    token_form: TokenForm | None = None,
    token_form_for: Any = None,
    new_secret: str = "",
    new_secret_for: Any = None,
    status: int = 200,
) -> HttpResponse:
    page_check(request, workspace, "members:read")
    accounts = list(selectors.service_account_list(workspace=workspace))
    # NOTE: the roles are read here as the service-account API does; a selector would own this read.
    roles = dict(
        Membership.objects.filter(
            workspace=workspace, user_id__in=[account.user_id for account in accounts]
        ).values_list("user_id", "role")
    )
    rows = [
        {
            "account": account,
            "role": roles.get(account.user_id, ""),
            "tokens": selectors.personal_access_token_list(user=account.user),
            "token_form": token_form
            if token_form_for == account.pk
            else TokenForm(initial={"abilities": "*"}, auto_id=_token_form_ids(account.pk)),
        }
        for account in accounts
    ]
    context = {
        "workspace": workspace,
        "rows": rows,
        "form": form or ServiceAccountForm(),
        "can_write": page_allows(request, workspace, "members:write"),
        "can_delete": page_allows(request, workspace, "members:delete"),
        "new_secret": new_secret,
        "new_secret_for": new_secret_for,
        "section": "service-accounts",
    }
    response = render(request, "settings/service_accounts.html", context, status=status)
    return no_store(response) if new_secret else response


@workspace_page
def service_accounts(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _service_accounts_page(request, workspace)


@require_POST
@workspace_page
def service_account_create(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "members:write")
    form = ServiceAccountForm(request.POST)
    if not form.is_valid():
        return _service_accounts_page(request, workspace, form=form, status=422)
    try:
        account = services.service_account_create(
            workspace=workspace, created_by=request.user, actor_role=page_role(request, workspace), **form.cleaned_data
        )
    except ApplicationError as exc:
        show_error(request, exc, form)
        return _service_accounts_page(request, workspace, form=form, status=422)
    messages.success(request, f"{account.name} was created. Issue it a token to use it.")
    return HttpResponseRedirect("/settings/workspace/service-accounts/")


@require_POST
@workspace_page
def service_account_delete(request: HttpRequest, workspace: Workspace, service_account_id: str) -> HttpResponse:
    page_check(request, workspace, "members:delete")
    account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
    services.service_account_delete(account=account, request=request)
    messages.success(request, f"{account.name} was deleted; its tokens stopped working.")
    return HttpResponseRedirect("/settings/workspace/service-accounts/")


@require_POST
@workspace_page
def service_account_token_create(request: HttpRequest, workspace: Workspace, service_account_id: str) -> HttpResponse:
    page_check(request, workspace, "members:write")
    account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
    form = TokenForm(request.POST, auto_id=_token_form_ids(account.pk))
    if not form.is_valid():
        return _service_accounts_page(request, workspace, token_form=form, token_form_for=account.pk, status=422)
    try:
        abilities = services.abilities_within(granted=SESSION_ABILITIES, requested=form.cleaned_data["abilities"])
        _token, raw = services.personal_access_token_create(
            user=account.user,
            name=form.cleaned_data["name"],
            abilities=abilities,
            expires_at=_expiry(form.cleaned_data["expires_in_days"]),
            request=request,
        )
    except ApplicationError as exc:
        show_error(request, exc, form)
        return _service_accounts_page(request, workspace, token_form=form, token_form_for=account.pk, status=422)
    return _service_accounts_page(request, workspace, new_secret=raw, new_secret_for=account, status=201)


@require_POST
@workspace_page
def service_account_token_revoke(
    request: HttpRequest, workspace: Workspace, service_account_id: str, token_id: str
) -> HttpResponse:
    page_check(request, workspace, "members:delete")
    account = selectors.service_account_get(workspace=workspace, service_account_id=service_account_id)
    token = selectors.personal_access_token_get_for_user(token_id=token_id, user=account.user)
    services.personal_access_token_revoke(token=token, request=request)
    messages.success(request, f"The token '{token.name}' of {account.name} was revoked.")
    return HttpResponseRedirect("/settings/workspace/service-accounts/")
