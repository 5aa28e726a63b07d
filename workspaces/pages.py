"""Pages of the workspaces app (switcher, members, invitations, variables) and helpers all pages share.

Pages act in the signed-in user's current workspace and apply the same role checks as the API:
a role that may not do something gets no control for it, and a forged POST gets 403. Writes go
through the services; a domain error is shown next to its field, or as a message saying what
to do next.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from athena_site.api.errors import ApplicationError, Forbidden, NotFound
from workspaces import selectors, services
from workspaces.models import Invitation, Role, Workspace
from workspaces.permissions import role_allows

# --- helpers shared by the pages of every app ------------------------------------


def page_workspace(request: HttpRequest) -> Workspace | None:
    """Return the signed-in user's current workspace, or None when they have none they belong to."""
    workspace_id = request.user.current_workspace_id
    if workspace_id is None:
        return None
    return selectors.workspace_find_for_user(identifier=str(workspace_id), user=request.user)


def page_role(request: HttpRequest, workspace: Workspace) -> str | None:
    return selectors.membership_role_for_request(request=request, workspace_id=workspace.pk)


def page_allows(request: HttpRequest, workspace: Workspace, ability: str) -> bool:
    """Tell whether the user's role in the workspace grants `ability`; sessions hold every ability."""
    return role_allows(page_role(request, workspace), ability)


def page_check(request: HttpRequest, workspace: Workspace, ability: str) -> None:
    """Raise PermissionDenied (403) unless the user's role grants `ability`."""
    if not page_allows(request, workspace, ability):
        raise PermissionDenied(f"Your role in {workspace.name} does not allow this; ask a workspace admin.")


def workspace_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Require a signed-in user with a current workspace and pass that workspace to the view.

    Domain errors the view lets through become the matching pages: NotFound is 404 and
    Forbidden is 403.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        workspace = page_workspace(request)
        if workspace is None:
            return render(request, "workspaces/no_workspace.html")
        try:
            return view(request, workspace, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from None

    return wrapper


def show_error(request: HttpRequest, error: ApplicationError, form: forms.Form | None = None) -> None:
    """Put a domain error next to the form fields it names, or show it as a message."""
    placed = False
    if form is not None and error.errors:
        for field, field_errors in error.errors.items():
            # Services name nested fields by path (`credentials.api_key`); forms use the last part.
            name = field.split(".")[-1]
            target = name if name in form.fields else None
            for message in field_errors:
                form.add_error(target, message)
            placed = True
    if not placed:
        messages.error(request, error.message)


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to the `next` field when it is a path on this site, else to `fallback`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)


def no_store(response: HttpResponse) -> HttpResponse:
    """Keep a page that shows a secret out of every cache."""
    response["Cache-Control"] = "no-store"
    return response


# --- workspace switcher ----------------------------------------------------------


@login_required
@require_POST
def workspace_switch(request: HttpRequest) -> HttpResponse:
    """Make the chosen workspace the user's current one and go back to the page they were on."""
    workspace = selectors.workspace_find_for_user(identifier=request.POST.get("workspace", "")[:80], user=request.user)
    if workspace is None:
        messages.error(request, "That workspace is not one of yours. Pick one from the list.")
        return redirect_back(request, "/")
    # The service writes through `type(user)`, which must be the user model, not the lazy
    # wrapper that `request.user` is.
    user = get_user_model()._default_manager.get(pk=request.user.pk)
    services.workspace_set_current(user=user, workspace=workspace)
    messages.success(request, f"You are now working in {workspace.name}.")
    return redirect_back(request, "/")


# --- members and invitations -----------------------------------------------------

ROLE_CHOICES = [(role.value, role.label) for role in reversed(Role)]


class MemberAddForm(forms.Form):
    email = forms.EmailField(max_length=254, help_text="An address without an account gets an invitation by email.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


def _pending_invitations(workspace: Workspace) -> list[Invitation]:
    # NOTE: a read for this page only; it belongs in workspaces/selectors.py next to the others.
    return list(Invitation.objects.filter(workspace=workspace, accepted_at__isnull=True).order_by("-created_at"))


def _members_page(
    request: HttpRequest, workspace: Workspace, add_form: MemberAddForm | None = None, status: int = 200
) -> HttpResponse:
    page_check(request, workspace, "members:read")
    context = {
        "workspace": workspace,
        "role": page_role(request, workspace),
        "memberships": selectors.membership_list(workspace=workspace),
        "invitations": _pending_invitations(workspace),
        "add_form": add_form or MemberAddForm(),
        "role_choices": ROLE_CHOICES,
        "can_write": page_allows(request, workspace, "members:write"),
        "can_delete": page_allows(request, workspace, "members:delete"),
        "section": "members",
    }
    return render(request, "workspaces/members.html", context, status=status)


@workspace_page
def members(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _members_page(request, workspace)


@require_POST
@workspace_page
def member_add(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "members:write")
    form = MemberAddForm(request.POST)
    if not form.is_valid():
        return _members_page(request, workspace, add_form=form, status=422)
    try:
        membership, invitation = services.member_add(
            workspace=workspace,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
            actor_role=page_role(request, workspace),
        )
    except ApplicationError as exc:
        if isinstance(exc, Forbidden):
            form.add_error("role", exc.message)
        else:
            show_error(request, exc, form)
        return _members_page(request, workspace, add_form=form, status=422)
    if membership is not None:
        messages.success(request, f"{form.cleaned_data['email']} joined the workspace.")
    else:
        messages.success(request, f"An invitation was sent to {invitation.email}; it expires in 7 days.")
    return HttpResponseRedirect("/settings/workspace/")


@require_POST
@workspace_page
def member_role(request: HttpRequest, workspace: Workspace, user_id: str) -> HttpResponse:
    page_check(request, workspace, "members:write")
    membership = selectors.membership_get(workspace=workspace, user_id=user_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            services.membership_set_role(
                membership=membership, role=form.cleaned_data["role"], actor_role=page_role(request, workspace)
            )
            messages.success(request, f"{membership.user.email} is now {membership.get_role_display().lower()}.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    return HttpResponseRedirect("/settings/workspace/")


@require_POST
@workspace_page
def member_remove(request: HttpRequest, workspace: Workspace, user_id: str) -> HttpResponse:
    membership = selectors.membership_get(workspace=workspace, user_id=user_id)
    leaving = membership.user_id == request.user.pk
    if not leaving:
        page_check(request, workspace, "members:delete")
    try:
        services.membership_remove(membership=membership, actor=request.user, actor_role=page_role(request, workspace))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect("/settings/workspace/")
    if leaving:
        messages.success(request, f"You left {workspace.name}.")
        return HttpResponseRedirect("/")
    messages.success(request, f"{membership.user.email} was removed from the workspace.")
    return HttpResponseRedirect("/settings/workspace/")


# --- variables and secrets -------------------------------------------------------


class VariableForm(forms.Form):
    key = forms.RegexField(
        regex=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
        max_length=64,
        help_text="Letters, digits and underscores, not starting with a digit. Workflows read it as vars.KEY.",
        error_messages={"invalid": "Use 1 to 64 letters, digits or underscores, not starting with a digit."},
    )
    value = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=10000)
    secret = forms.BooleanField(
        required=False, help_text="Secret values are encrypted, read as secrets.KEY and never shown again."
    )
    description = forms.CharField(max_length=500, required=False)


class VariableUpdateForm(forms.Form):
    value = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=10000,
        help_text="Leave empty to keep the current value.",
    )
    description = forms.CharField(max_length=500, required=False)


def _variables_page(
    request: HttpRequest, workspace: Workspace, form: VariableForm | None = None, status: int = 200
) -> HttpResponse:
    page_check(request, workspace, "workspaces:read")
    if form is not None and form.is_bound and form.data.get("secret"):
        # A refused secret goes back to the person without its value, so it is never rendered.
        form.data = form.data.copy()
        form.data["value"] = ""
    context = {
        "workspace": workspace,
        "variables": selectors.variable_list(workspace=workspace),
        "form": form or VariableForm(),
        "can_write": page_allows(request, workspace, "workspaces:write"),
        "section": "variables",
    }
    return render(request, "workspaces/variables.html", context, status=status)


@workspace_page
def variables(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    return _variables_page(request, workspace)


@require_POST
@workspace_page
def variable_create(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "workspaces:write")
    form = VariableForm(request.POST)
    if not form.is_valid():
        return _variables_page(request, workspace, form=form, status=422)
    try:
        services.variable_create(workspace=workspace, created_by=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        if exc.code == "variable_exists":
            form.add_error("key", f"{exc.message} Edit the existing one below or pick another key.")
        else:
            show_error(request, exc, form)
        return _variables_page(request, workspace, form=form, status=422)
    messages.success(request, f"{form.cleaned_data['key']} was saved.")
    return HttpResponseRedirect("/settings/workspace/variables/")


@require_POST
@workspace_page
def variable_update(request: HttpRequest, workspace: Workspace, key: str) -> HttpResponse:
    page_check(request, workspace, "workspaces:write")
    variable = selectors.variable_get(workspace=workspace, key=key)
    form = VariableUpdateForm(request.POST)
    if form.is_valid():
        data = {"description": form.cleaned_data["description"]}
        if form.cleaned_data["value"]:
            data["value"] = form.cleaned_data["value"]
        try:
            services.variable_update(variable=variable, data=data)
            messages.success(request, f"{variable.key} was updated.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "The value or description is too long.")
    return HttpResponseRedirect("/settings/workspace/variables/")


@require_POST
@workspace_page
def variable_delete(request: HttpRequest, workspace: Workspace, key: str) -> HttpResponse:
    page_check(request, workspace, "workspaces:write")
    variable = selectors.variable_get(workspace=workspace, key=key)
    services.variable_delete(variable=variable)
    messages.success(request, f"{key} was deleted. Workflows that read it will fail until you add it again.")
    return HttpResponseRedirect("/settings/workspace/variables/")
