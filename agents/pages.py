"""Browser pages of agents: the list, the create and edit form, sharing, the leaderboard and the public chat.

Pages check input with the API's write serializers and save through the agents services, so a
rule (a range, a tool's shape, a model that must match its account) is written once. Errors
land next to the field or tool row they name. Roles are checked as the API checks them: a role
that may not do something gets no control for it, and a forged POST gets 403.
"""

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_POST
from rest_framework import serializers

from agents import selectors, services
from agents.api.serializers import AgentWriteSerializer, ShareCreateSerializer
from agents.models import Agent, SharePermission, Visibility
from athena_site.api.errors import ApplicationError
from providers.selectors import account_list, llm_list
from workspaces.models import Workspace
from workspaces.pages import no_store, page_allows, page_check, workspace_page

PER_PAGE = 20
MAX_SEARCH_CHARS = 200
MAX_JSON_CHARS = 20_000
HTTP_METHODS = [(method, method) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")]
# Tool types the form edits; entries of other types (such as workflows) are kept as they are.
FORM_TOOL_TYPES = ("memory_search", "memory_save", "http", "mcp")
LIMIT_FIELDS = ("max_steps", "max_tokens", "max_cost", "max_seconds")


# --- helpers shared by the agents, prompts, memories and chat pages ----------------------


def serializer_errors_to_form(errors: dict[str, Any], form: forms.Form, names: dict[str, str] | None = None) -> None:
    """Put a DRF serializer's errors on the form fields they name; other errors go above the form.

    `names` maps serializer field names to form field names where they differ.
    """
    names = names or {}
    for key, value in errors.items():
        field = names.get(key, key)
        target = field if field in form.fields else None
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                for nested_key, nested in item.items():
                    form.add_error(target, f"{nested_key}: {' '.join(str(text) for text in nested)}")
            else:
                form.add_error(target, str(item))


def check_with_serializer(
    serializer_class: type[serializers.Serializer],
    data: dict[str, Any],
    form: forms.Form,
    *,
    partial: bool = False,
    names: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Validate `data` with an API serializer; return its validated data, or None after adding its errors to `form`."""
    serializer = serializer_class(data=data, partial=partial)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    serializer_errors_to_form(serializer.errors, form, names)
    return None


def model_choices(workspace: Workspace) -> list[tuple[str, str]]:
    models = llm_list(workspace_ids=[workspace.pk]).filter(active=True)
    choices = [("", "No model")]
    choices += [(str(model.pk), f"{model.display_name or model.model} ({model.provider.name})") for model in models]
    return choices


def account_choices(workspace: Workspace, empty: str = "No account") -> list[tuple[str, str]]:
    accounts = account_list(workspace_ids=[workspace.pk])
    return [("", empty)] + [(str(account.pk), f"{account.name} ({account.provider.name})") for account in accounts]


def visible_agents(request: HttpRequest, workspace: Workspace) -> QuerySet[Agent]:
    """Return the workspace's agents the user may see: shared with the workspace, or their own private ones."""
    agents = selectors.agent_list(workspace_ids=[workspace.pk])
    return agents.filter(Q(visibility=Visibility.WORKSPACE) | Q(created_by=request.user))


def visible_agent(request: HttpRequest, workspace: Workspace, agent_id: Any) -> Agent:
    agent = visible_agents(request, workspace).filter(pk=agent_id).first()
    if agent is None:
        raise Http404
    return agent


def page_query(request: HttpRequest) -> str:
    """Return the query string without `page`, for the links of a paginated list."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- forms ---------------------------------------------------------------------------------


def _json_object(value: str, label: str) -> dict[str, Any] | None:
    if not value.strip():
        return None
    if len(value) > MAX_JSON_CHARS:
        raise forms.ValidationError(f"Keep the {label} under {MAX_JSON_CHARS} characters.")
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise forms.ValidationError(f"The {label} is not valid JSON: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(parsed, dict):
        raise forms.ValidationError(f"The {label} must be a JSON object, such as {{}}.")
    return parsed


class AgentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    instructions = forms.CharField(
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="The system message. {{ name }} placeholders take the run's variables.",
    )
    model_id = forms.ChoiceField(label="Model", required=False, help_text="From the catalogue and your workspace.")
    account_id = forms.ChoiceField(
        label="Account", required=False, help_text="The connected account of the model's provider."
    )
    temperature = forms.FloatField(required=False, help_text="0 to 2; empty uses the model's default.")
    top_p = forms.FloatField(label="Top p", required=False, help_text="0 to 1; empty uses the model's default.")
    max_output_tokens = forms.IntegerField(required=False, help_text="Tokens per reply; empty uses the model's.")
    memory_search = forms.BooleanField(
        label="memory_search tool", required=False, help_text="The model may search the agent's memories."
    )
    memory_save = forms.BooleanField(
        label="memory_save tool", required=False, help_text="The model may save facts for later runs."
    )
    memory_enabled = forms.BooleanField(
        label="Retrieve memories", required=False, help_text="Add the most relevant memories to every run."
    )
    memory_limit = forms.IntegerField(
        required=False, help_text="0 to 50 memories per run; empty uses the server's default."
    )
    max_steps = forms.IntegerField(required=False, help_text="Model calls per run, 1 to 100.")
    max_tokens = forms.IntegerField(required=False, help_text="Input plus output tokens per run.")
    max_cost = forms.DecimalField(required=False, label="Max cost", help_text="US dollars per run.")
    max_seconds = forms.FloatField(required=False, help_text="Seconds per run, 1 to 3600.")
    visibility = forms.ChoiceField(
        choices=Visibility.choices, help_text="Private agents are visible to you only.", initial=Visibility.WORKSPACE
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model_id"].choices = model_choices(workspace)
        self.fields["account_id"].choices = account_choices(workspace)

    def sections(self) -> list[tuple[str, list[Any]]]:
        """Group the fields into the fieldsets of the page."""
        groups = (
            ("Agent", ("name", "description", "instructions", "visibility")),
            ("Model", ("model_id", "account_id", "temperature", "top_p", "max_output_tokens")),
            ("Memory", ("memory_enabled", "memory_limit", "memory_search", "memory_save")),
            ("Limits", LIMIT_FIELDS),
        )
        return [(title, [self[name] for name in names]) for title, names in groups]


class HttpToolForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="The function name the model calls, such as get_order.")
    description = forms.CharField(required=False, max_length=1000, help_text="When the model should call it.")
    method = forms.ChoiceField(choices=HTTP_METHODS, initial="GET")
    url = forms.CharField(
        label="URL", max_length=2000, help_text="Absolute http or https URL; {name} placeholders take arguments."
    )
    parameters = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='JSON schema of the arguments, such as {"type": "object", "properties": {}}.',
    )
    headers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='JSON object, such as {"Accept": "text/plain"}.',
    )
    account_id = forms.ChoiceField(label="Account", required=False, help_text="Credentials sent with the request.")

    def __init__(self, *args: Any, account_options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = account_options

    def clean_parameters(self) -> dict[str, Any] | None:
        return _json_object(self.cleaned_data["parameters"], "parameters")

    def clean_headers(self) -> dict[str, Any] | None:
        return _json_object(self.cleaned_data["headers"], "headers")

    def tool(self) -> dict[str, Any]:
        data = self.cleaned_data
        entry = {"type": "http", "name": data["name"], "method": data["method"], "url": data["url"]}
        if data["description"]:
            entry["description"] = data["description"]
        for key in ("parameters", "headers"):
            if data[key] is not None:
                entry[key] = data[key]
        entry["account_id"] = data["account_id"] or None
        return entry


class McpServerForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="Prefixes the server's tool names.")
    url = forms.CharField(label="URL", max_length=2000, help_text="The MCP server's streamable HTTP endpoint.")
    account_id = forms.ChoiceField(label="Account", required=False, help_text="Credentials sent to the server.")
    allowed_tools = forms.CharField(
        required=False, max_length=5000, help_text="Comma-separated tool names; empty allows every tool."
    )

    def __init__(self, *args: Any, account_options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account_id"].choices = account_options

    def clean_allowed_tools(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["allowed_tools"].split(",") if name.strip()]

    def tool(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "type": "mcp",
            "name": data["name"],
            "url": data["url"],
            "account_id": data["account_id"] or None,
            "allowed_tools": data["allowed_tools"],
        }


HttpToolFormSet = forms.formset_factory(HttpToolForm, extra=1, can_delete=True, max_num=32, validate_max=True)
McpServerFormSet = forms.formset_factory(McpServerForm, extra=1, can_delete=True, max_num=32, validate_max=True)


class AgentEditor:
    """The agent form with its HTTP tool and MCP server rows, bound to one request."""

    def __init__(self, data: Any, workspace: Workspace, agent: Agent | None = None) -> None:
        options = account_choices(workspace, empty="None")
        tools = list(agent.tools or []) if agent else []
        self.kept_tools = [tool for tool in tools if tool.get("type") not in FORM_TOOL_TYPES]
        self.form = AgentForm(data, workspace=workspace, initial=_agent_initial(agent))
        self.http = HttpToolFormSet(
            data,
            prefix="http",
            form_kwargs={"account_options": options},
            initial=[_http_initial(tool) for tool in tools if tool.get("type") == "http"],
        )
        self.mcp = McpServerFormSet(
            data,
            prefix="mcp",
            form_kwargs={"account_options": options},
            initial=[_mcp_initial(tool) for tool in tools if tool.get("type") == "mcp"],
        )
        # The form or row each entry of the submitted tools list came from, to place its errors.
        self.tool_sources: list[forms.Form] = []

    def is_valid(self) -> bool:
        return all([self.form.is_valid(), self.http.is_valid(), self.mcp.is_valid()])

    def data(self) -> dict[str, Any]:
        """Return the agent in the API's write shape."""
        cleaned = self.form.cleaned_data
        tools: list[dict[str, Any]] = []
        self.tool_sources = []
        for kind in ("memory_search", "memory_save"):
            if cleaned[kind]:
                tools.append({"type": kind})
                self.tool_sources.append(self.form)
        for formset in (self.http, self.mcp):
            for row in formset.forms:
                if row.cleaned_data and not row.cleaned_data.get("DELETE"):
                    tools.append(row.tool())
                    self.tool_sources.append(row)
        for tool in self.kept_tools:
            tools.append(tool)
            self.tool_sources.append(self.form)
        limits = {key: cleaned[key] for key in LIMIT_FIELDS if cleaned[key] is not None}
        if "max_cost" in limits:
            limits["max_cost"] = str(limits["max_cost"])
        data: dict[str, Any] = {
            key: cleaned[key] for key in ("name", "description", "instructions", "memory_enabled", "visibility")
        }
        for key in ("temperature", "top_p", "max_output_tokens", "memory_limit"):
            data[key] = cleaned[key]
        data["model_id"] = cleaned["model_id"] or None
        data["account_id"] = cleaned["account_id"] or None
        data["tools"] = tools
        data["limits"] = limits
        return data

    def add_errors(self, errors: dict[str, list[str]]) -> None:
        """Place service errors: `tools.<index>` on the tool's row, `limits.<key>` on the limit's field."""
        for key, field_errors in errors.items():
            head, _, rest = key.partition(".")
            for message in field_errors:
                if head == "tools" and rest.isdigit() and int(rest) < len(self.tool_sources):
                    _add_row_error(self.tool_sources[int(rest)], message)
                elif head == "limits" and rest in self.form.fields:
                    self.form.add_error(rest, message)
                elif head in self.form.fields:
                    self.form.add_error(head, message)
                elif head == "slug":
                    self.form.add_error("name", message)
                else:
                    self.form.add_error(None, message)


def _add_row_error(row: forms.Form, message: str) -> None:
    # Tool validators start their message with the key they reject, as in "url: use an absolute URL".
    field, separator, text = message.partition(": ")
    if separator and field in row.fields:
        row.add_error(field, text)
    else:
        row.add_error(None, message)


def _agent_initial(agent: Agent | None) -> dict[str, Any]:
    if agent is None:
        return {"memory_enabled": True, "visibility": Visibility.WORKSPACE}
    kinds = {tool.get("type") for tool in agent.tools or []}
    initial = {
        "name": agent.name,
        "description": agent.description,
        "instructions": agent.instructions,
        "model_id": str(agent.model_id or ""),
        "account_id": str(agent.account_id or ""),
        "temperature": agent.temperature,
        "top_p": agent.top_p,
        "max_output_tokens": agent.max_output_tokens,
        "memory_search": "memory_search" in kinds,
        "memory_save": "memory_save" in kinds,
        "memory_enabled": agent.memory_enabled,
        "memory_limit": agent.memory_limit,
        "visibility": agent.visibility,
    }
    initial.update({key: (agent.limits or {}).get(key) for key in LIMIT_FIELDS})
    return initial


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2) if value else ""


def _http_initial(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": tool.get("name", ""),
        "description": tool.get("description", ""),
        "method": tool.get("method", "GET"),
        "url": tool.get("url", ""),
        "parameters": _pretty(tool.get("parameters")),
        "headers": _pretty(tool.get("headers")),
        "account_id": tool.get("account_id") or "",
    }


def _mcp_initial(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": tool.get("name", ""),
        "url": tool.get("url", ""),
        "account_id": tool.get("account_id") or "",
        "allowed_tools": ", ".join(tool.get("allowed_tools") or []),
    }


# --- list ----------------------------------------------------------------------------------


@workspace_page
def agent_list(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "agents:read")
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_CHARS]
    agents = visible_agents(request, workspace).order_by("name", "id")
    if search:
        agents = agents.filter(Q(name__icontains=search) | Q(slug__icontains=search) | Q(description__icontains=search))
    page = Paginator(agents, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "workspace": workspace,
        "page": page,
        "search": search,
        "query": page_query(request),
        "can_write": page_allows(request, workspace, "agents:write"),
        "can_run": page_allows(request, workspace, "threads:run"),
    }
    return render(request, "agents/agent_list.html", context)


# --- create and edit ---------------------------------------------------------------------------


def _editor_page(
    request: HttpRequest,
    workspace: Workspace,
    editor: AgentEditor,
    agent: Agent | None,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = {
        "workspace": workspace,
        "agent": agent,
        "editor": editor,
        "form": editor.form,
        "can_write": page_allows(request, workspace, "agents:write"),
        "can_delete": page_allows(request, workspace, "agents:delete"),
        "can_run": page_allows(request, workspace, "threads:run"),
        "share_form": ShareForm(auto_id="share-%s"),
        **extra,
    }
    if agent is not None:
        context["shares"] = list(selectors.share_list(target_type=selectors.AGENT_TARGET, target_id=agent.pk))
    return render(request, "agents/agent_form.html", context, status=status)


def _save(request: HttpRequest, workspace: Workspace, editor: AgentEditor, agent: Agent | None) -> Agent | None:
    if not editor.is_valid():
        return None
    data = check_with_serializer(AgentWriteSerializer, editor.data(), editor.form)
    if data is None:
        return None
    try:
        if agent is None:
            return services.agent_create(workspace=workspace, user=request.user, data=data)
        return services.agent_update(agent=agent, data=data)
    except ApplicationError as exc:
        if exc.errors:
            editor.add_errors(exc.errors)
        else:
            editor.form.add_error(None, exc.message)
        return None


@workspace_page
def agent_create(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "agents:write")
    editor = AgentEditor(request.POST if request.method == "POST" else None, workspace)
    if request.method != "POST":
        return _editor_page(request, workspace, editor, None)
    agent = _save(request, workspace, editor, None)
    if agent is None:
        return _editor_page(request, workspace, editor, None, status=422)
    messages.success(request, f"{agent.name} was created. Start a conversation to try it.")
    return HttpResponseRedirect(reverse("agent_pages:edit", args=[agent.pk]))


@workspace_page
def agent_edit(request: HttpRequest, workspace: Workspace, agent_id: str) -> HttpResponse:
    page_check(request, workspace, "agents:read")
    agent = visible_agent(request, workspace, agent_id)
    editor = AgentEditor(request.POST if request.method == "POST" else None, workspace, agent)
    if request.method != "POST":
        return _editor_page(request, workspace, editor, agent)
    page_check(request, workspace, "agents:write")
    saved = _save(request, workspace, editor, agent)
    if saved is None:
        # The failed save may have changed the instance in memory; show the stored agent's name.
        agent.refresh_from_db()
        return _editor_page(request, workspace, editor, agent, status=422)
    messages.success(request, f"{saved.name} was saved.")
    return HttpResponseRedirect(reverse("agent_pages:edit", args=[saved.pk]))


@workspace_page
def agent_delete(request: HttpRequest, workspace: Workspace, agent_id: str) -> HttpResponse:
    page_check(request, workspace, "agents:delete")
    agent = visible_agent(request, workspace, agent_id)
    if request.method != "POST":
        return render(request, "agents/agent_delete.html", {"workspace": workspace, "agent": agent})
    name = agent.name
    services.agent_delete(agent=agent)
    messages.success(request, f"{name} was deleted with its conversations, runs and memories.")
    return HttpResponseRedirect(reverse("agent_pages:list"))


# --- sharing ---------------------------------------------------------------------------------------


class ShareForm(forms.Form):
    audience = forms.ChoiceField(
        choices=[("public", "Anyone with the link"), ("user", "A person with an Athena account")],
        widget=forms.RadioSelect,
        initial="public",
        label="Share with",
    )
    user_email = forms.EmailField(required=False, label="Email", max_length=254)
    permission = forms.ChoiceField(
        choices=SharePermission.choices,
        initial=SharePermission.RUN,
        help_text="View shows the agent; Run also lets them chat; Edit also lets them change it.",
    )


def public_chat_url(token: str) -> str:
    return f"{settings.ATHENA_PUBLIC_URL}{reverse('agent_pages:public-chat', args=[token])}"


@require_POST
@workspace_page
def agent_share(request: HttpRequest, workspace: Workspace, agent_id: str) -> HttpResponse:
    page_check(request, workspace, "agents:write")
    agent = visible_agent(request, workspace, agent_id)
    form = ShareForm(request.POST, auto_id="share-%s")
    editor = AgentEditor(None, workspace, agent)
    if not form.is_valid():
        return _editor_page(request, workspace, editor, agent, status=422, share_form=form)

    public = form.cleaned_data["audience"] == "public"
    payload = {"permission": form.cleaned_data["permission"], "public": public}
    if not public:
        payload["user_email"] = form.cleaned_data["user_email"]
    data = check_with_serializer(ShareCreateSerializer, payload, form)
    grantee = None
    if data is not None and not public:
        grantee = get_user_model().objects.filter(email__iexact=data["user_email"]).first()
        if grantee is None:
            form.add_error("user_email", "No user has this email address. Invite them to the workspace first.")
            data = None
    if data is None:
        return _editor_page(request, workspace, editor, agent, status=422, share_form=form)

    share, token = services.share_create(
        workspace_id=agent.workspace_id,
        target_type=selectors.AGENT_TARGET,
        target_id=agent.pk,
        permission=data["permission"],
        created_by=request.user,
        user=grantee,
    )
    if token is None:
        messages.success(request, f"{agent.name} is shared with {grantee.email} ({share.get_permission_display()}).")
        return HttpResponseRedirect(reverse("agent_pages:edit", args=[agent.pk]) + "#sharing")
    # The token is stored only as a hash, so the link is shown on this response and never again.
    link = public_chat_url(token)
    response = _editor_page(request, workspace, editor, agent, new_link=link, new_share=share)
    return no_store(response)


@require_POST
@workspace_page
def agent_share_revoke(request: HttpRequest, workspace: Workspace, agent_id: str, share_id: str) -> HttpResponse:
    page_check(request, workspace, "agents:write")
    agent = visible_agent(request, workspace, agent_id)
    share = selectors.share_get(target_type=selectors.AGENT_TARGET, target_id=agent.pk, share_id=share_id)
    services.share_delete(share=share)
    if share.is_public:
        messages.success(request, f"The link starting {share.token_prefix} was revoked; it stops working now.")
    else:
        messages.success(request, f"{share.user.email} no longer has access to {agent.name}.")
    return HttpResponseRedirect(reverse("agent_pages:edit", args=[agent.pk]) + "#sharing")


# --- leaderboard ----------------------------------------------------------------------------------

PERIOD_LABELS = {"7d": "Last 7 days", "30d": "Last 30 days", "90d": "Last 90 days", "all": "All time"}


@workspace_page
def leaderboard(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "agents:read")
    period = request.GET.get("period", "30d")
    if period not in selectors.LEADERBOARD_PERIODS:
        period = "30d"
    visible = set(visible_agents(request, workspace).values_list("pk", flat=True))
    rows = [
        row
        for row in selectors.agent_leaderboard(workspace_id=workspace.pk, period=period)
        if row["agent"].pk in visible
    ]
    rows.sort(key=lambda row: (-row["score"], row["agent"].name))
    context = {
        "workspace": workspace,
        "rows": rows,
        "period": period,
        "periods": list(PERIOD_LABELS.items()),
    }
    return render(request, "agents/leaderboard.html", context)


# --- public chat ---------------------------------------------------------------------------------------


@xframe_options_exempt
def public_chat(request: HttpRequest, token: str) -> HttpResponse:
    """Show the chat of an agent shared by public link; other sites may frame this page.

    Nothing here needs a session: the page's script runs the agent through the public run
    endpoint, with the conversation so far sent inline. The page never writes the token into
    its body; the script reads it from the page's own URL.
    """
    share = selectors.share_find_public(token=token, target_type=selectors.AGENT_TARGET)
    agent = Agent.objects.filter(pk=share.target_id).first() if share else None
    if agent is None:
        return render(request, "agents/public_chat.html", {"agent": None}, status=404)
    context = {
        "agent": agent,
        "can_run": share.permission in (SharePermission.RUN, SharePermission.EDIT),
    }
    response = render(request, "agents/public_chat.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return no_store(response)
