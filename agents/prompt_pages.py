"""Browser pages of prompts (with versions, restore and a run panel) and of memories (with relevance search).

As on the agent pages, input is checked with the API's write serializers and saved through the
services, and each page applies the API's role checks.
"""

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents import selectors, services
from agents.api.serializers import MemoryWriteSerializer, PromptWriteSerializer
from agents.models import Memory, MemoryKind, Prompt, PromptVersion
from agents.pages import (
    MAX_SEARCH_CHARS,
    PER_PAGE,
    account_choices,
    check_with_serializer,
    model_choices,
    page_query,
    visible_agents,
)
from agents.templates import template_variables
from athena_site.api.errors import ApplicationError
from workspaces.models import Workspace
from workspaces.pages import page_allows, page_check, show_error, workspace_page

MAX_RUN_VALUE_CHARS = 20_000
# Memories ranked by relevance are one page: the best matches, not the whole workspace.
SEARCH_LIMIT = 50

# --- prompts -------------------------------------------------------------------------------------


class PromptForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    template = forms.CharField(
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "data-detect-variables": "prompt-variables-detected"}),
        help_text="Jinja syntax: {{ name }} inserts a variable.",
    )
    variables = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="JSON list of {name, type, required, default, description}. Variables the template reads "
        "but the list leaves out are added as required strings; listed ones it no longer reads are removed.",
    )
    model_id = forms.ChoiceField(label="Model", required=False)
    account_id = forms.ChoiceField(label="Account", required=False)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model_id"].choices = model_choices(workspace)
        self.fields["account_id"].choices = account_choices(workspace)

    def clean_variables(self) -> list[Any]:
        text = self.cleaned_data["variables"]
        if not text.strip():
            return []
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"The variables are not valid JSON: {exc.msg} at line {exc.lineno}.") from None
        if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
            raise forms.ValidationError('Use a JSON list of objects, such as [{"name": "topic"}].')
        return parsed


def _declared_with_detected(template: str, declared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the variables the template reads: declared ones as given, the others as required strings.

    Declared variables the template no longer reads are dropped, so a run never requires them.
    Raises ValidationFailed naming the line of a template syntax error.
    """
    used = template_variables(template)
    kept = [item for item in declared if not isinstance(item.get("name"), str) or item["name"] in used]
    names = {item.get("name") for item in kept}
    added = [{"name": name, "type": "string", "required": True} for name in sorted(used - names)]
    return kept + added


def _prompt(workspace: Workspace, prompt_id: Any) -> Prompt:
    prompt = selectors.prompt_list(workspace_ids=[workspace.pk]).filter(pk=prompt_id).first()
    if prompt is None:
        raise Http404
    return prompt


def _prompt_initial(prompt: Prompt) -> dict[str, Any]:
    return {
        "name": prompt.name,
        "description": prompt.description,
        "template": prompt.template,
        "variables": json.dumps(prompt.variables, indent=2) if prompt.variables else "",
        "model_id": str(prompt.model_id or ""),
        "account_id": str(prompt.account_id or ""),
    }


def _prompt_data(form: PromptForm) -> dict[str, Any] | None:
    cleaned = form.cleaned_data
    try:
        variables = _declared_with_detected(cleaned["template"], cleaned["variables"])
    except ApplicationError as exc:
        # A template that does not parse: the error names the line.
        form.add_error("template", exc.errors.get("template", [exc.message])[0] if exc.errors else exc.message)
        return None
    data = {
        "name": cleaned["name"],
        "description": cleaned["description"],
        "template": cleaned["template"],
        "variables": variables,
        "model_id": cleaned["model_id"] or None,
        "account_id": cleaned["account_id"] or None,
    }
    return check_with_serializer(PromptWriteSerializer, data, form)


@workspace_page
def prompt_list(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "prompts:read")
    search = request.GET.get("q", "").strip()[:MAX_SEARCH_CHARS]
    prompts = selectors.prompt_list(workspace_ids=[workspace.pk]).order_by("name", "id")
    if search:
        prompts = prompts.filter(Q(name__icontains=search) | Q(description__icontains=search))
    context = {
        "workspace": workspace,
        "page": Paginator(prompts, PER_PAGE).get_page(request.GET.get("page")),
        "search": search,
        "query": page_query(request),
        "can_write": page_allows(request, workspace, "prompts:write"),
    }
    return render(request, "prompts/prompt_list.html", context)


def _prompt_page(
    request: HttpRequest, workspace: Workspace, form: PromptForm, prompt: Prompt | None, status: int = 200, **extra: Any
) -> HttpResponse:
    context = {
        "workspace": workspace,
        "form": form,
        "prompt": prompt,
        "versions": list(prompt.versions.order_by("-number")[:50]) if prompt else [],
        "can_write": page_allows(request, workspace, "prompts:write"),
        "can_delete": page_allows(request, workspace, "prompts:delete"),
        "can_run": page_allows(request, workspace, "prompts:run"),
        **extra,
    }
    return render(request, "prompts/prompt_form.html", context, status=status)


def _save_prompt(request: HttpRequest, workspace: Workspace, form: PromptForm, prompt: Prompt | None) -> Prompt | None:
    if not form.is_valid():
        return None
    data = _prompt_data(form)
    if data is None:
        return None
    try:
        if prompt is None:
            return services.prompt_create(workspace=workspace, user=request.user, data=data)
        return services.prompt_update(prompt=prompt, user=request.user, data=data)
    except ApplicationError as exc:
        show_error(request, exc, form)
        return None


@workspace_page
def prompt_create(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "prompts:write")
    form = PromptForm(request.POST if request.method == "POST" else None, workspace=workspace)
    if request.method != "POST":
        return _prompt_page(request, workspace, form, None)
    prompt = _save_prompt(request, workspace, form, None)
    if prompt is None:
        return _prompt_page(request, workspace, form, None, status=422)
    messages.success(request, f"{prompt.name} was created at version 1.")
    return HttpResponseRedirect(reverse("agent_pages:prompt-edit", args=[prompt.pk]))


@workspace_page
def prompt_edit(request: HttpRequest, workspace: Workspace, prompt_id: str) -> HttpResponse:
    page_check(request, workspace, "prompts:read")
    prompt = _prompt(workspace, prompt_id)
    form = PromptForm(
        request.POST if request.method == "POST" else None, workspace=workspace, initial=_prompt_initial(prompt)
    )
    if request.method != "POST":
        return _prompt_page(request, workspace, form, prompt)
    page_check(request, workspace, "prompts:write")
    saved = _save_prompt(request, workspace, form, prompt)
    if saved is None:
        return _prompt_page(request, workspace, form, prompt, status=422)
    messages.success(request, f"{saved.name} was saved at version {saved.version}.")
    return HttpResponseRedirect(reverse("agent_pages:prompt-edit", args=[saved.pk]))


@workspace_page
def prompt_version(request: HttpRequest, workspace: Workspace, prompt_id: str, number: int) -> HttpResponse:
    page_check(request, workspace, "prompts:read")
    prompt = _prompt(workspace, prompt_id)
    version = PromptVersion.objects.filter(prompt=prompt, number=number).first()
    if version is None:
        raise Http404
    context = {
        "workspace": workspace,
        "prompt": prompt,
        "version": version,
        "can_write": page_allows(request, workspace, "prompts:write"),
    }
    return render(request, "prompts/prompt_version.html", context)


@require_POST
@workspace_page
def prompt_restore(request: HttpRequest, workspace: Workspace, prompt_id: str, number: int) -> HttpResponse:
    """Make an old version's template and variables current again, as a new version."""
    page_check(request, workspace, "prompts:write")
    prompt = _prompt(workspace, prompt_id)
    version = PromptVersion.objects.filter(prompt=prompt, number=number).first()
    if version is None:
        raise Http404
    try:
        prompt = services.prompt_update(
            prompt=prompt, user=request.user, data={"template": version.template, "variables": version.variables}
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Version {number} was restored as version {prompt.version}.")
    return HttpResponseRedirect(reverse("agent_pages:prompt-edit", args=[prompt.pk]))


@require_POST
@workspace_page
def prompt_run(request: HttpRequest, workspace: Workspace, prompt_id: str) -> HttpResponse:
    """Render the prompt with the submitted values and show the model's output on the edit page."""
    page_check(request, workspace, "prompts:run")
    prompt = _prompt(workspace, prompt_id)
    values: dict[str, Any] = {}
    for variable in prompt.variables:
        raw = request.POST.get(f"var_{variable['name']}", "")[:MAX_RUN_VALUE_CHARS]
        if raw == "":
            continue
        if variable.get("type", "string") == "string":
            values[variable["name"]] = raw
        else:
            try:
                values[variable["name"]] = json.loads(raw)
            except ValueError:
                values[variable["name"]] = raw
    form = PromptForm(workspace=workspace, initial=_prompt_initial(prompt))
    try:
        result = services.prompt_run(prompt=prompt, variables=values)
    except ApplicationError as exc:
        details = "; ".join(f"{key}: {' '.join(items)}" for key, items in (exc.errors or {}).items())
        error = f"{exc.message} {details}".strip()
        return _prompt_page(request, workspace, form, prompt, status=422, run_error=error, run_values=values)
    return _prompt_page(request, workspace, form, prompt, run_result=result, run_values=values)


@workspace_page
def prompt_delete(request: HttpRequest, workspace: Workspace, prompt_id: str) -> HttpResponse:
    page_check(request, workspace, "prompts:delete")
    prompt = _prompt(workspace, prompt_id)
    if request.method != "POST":
        context = {
            "workspace": workspace,
            "object": prompt,
            "kind": "prompt",
            "cancel_url": reverse("agent_pages:prompt-edit", args=[prompt.pk]),
        }
        return render(request, "prompts/confirm_delete.html", context)
    name = prompt.name
    services.prompt_delete(prompt=prompt)
    messages.success(request, f"{name} was deleted with its versions.")
    return HttpResponseRedirect(reverse("agent_pages:prompt-list"))


# --- memories -------------------------------------------------------------------------------------


class MemoryFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=MAX_SEARCH_CHARS, label="Search")
    agent = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *MemoryKind.choices])

    def __init__(self, *args: Any, agent_options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", "Any agent"), *agent_options]


class MemoryForm(forms.Form):
    content = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), strip=False)
    kind = forms.ChoiceField(choices=MemoryKind.choices, initial=MemoryKind.FACT)
    agent_id = forms.ChoiceField(
        label="Agent", required=False, help_text="Empty: every agent of the workspace reads it."
    )
    importance = forms.FloatField(
        required=False, initial=0.5, help_text="0 to 1; breaks ties between equally relevant memories."
    )

    def __init__(self, *args: Any, agent_options: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent_id"].choices = [("", "All agents"), *agent_options]


def _agent_options(request: HttpRequest, workspace: Workspace) -> list[tuple[str, str]]:
    return [(str(agent.pk), agent.name) for agent in visible_agents(request, workspace).order_by("name")]


def _memory(workspace: Workspace, memory_id: Any) -> Memory:
    memory = selectors.memory_list(workspace_ids=[workspace.pk]).filter(pk=memory_id).first()
    if memory is None:
        raise Http404
    return memory


@workspace_page
def memory_list(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "memories:read")
    options = _agent_options(request, workspace)
    form = MemoryFilterForm(request.GET or None, agent_options=options)
    memories = selectors.memory_list(workspace_ids=[workspace.pk]).select_related("agent")
    search = ""
    if form.is_bound and form.is_valid():
        if form.cleaned_data["agent"]:
            memories = memories.filter(agent_id=form.cleaned_data["agent"])
        if form.cleaned_data["kind"]:
            memories = memories.filter(kind=form.cleaned_data["kind"])
        search = form.cleaned_data["q"].strip()
    if search:
        page = None
        items = selectors.memory_rank(memories=memories, query=search, limit=SEARCH_LIMIT)
    else:
        page = Paginator(memories.order_by("-created_at", "id"), PER_PAGE).get_page(request.GET.get("page"))
        items = list(page.object_list)
    context = {
        "workspace": workspace,
        "form": form,
        "memories": items,
        "page": page,
        "search": search,
        "query": page_query(request),
        "invalid_filters": form.is_bound and not form.is_valid(),
        "can_write": page_allows(request, workspace, "memories:write"),
        "can_delete": page_allows(request, workspace, "memories:delete"),
    }
    return render(request, "memories/memory_list.html", context)


def _save_memory(request: HttpRequest, workspace: Workspace, form: MemoryForm, memory: Memory | None) -> Memory | None:
    if not form.is_valid():
        return None
    cleaned = form.cleaned_data
    payload: dict[str, Any] = {
        "content": cleaned["content"],
        "kind": cleaned["kind"],
        "agent_id": cleaned["agent_id"] or None,
    }
    if cleaned["importance"] is not None:
        payload["importance"] = cleaned["importance"]
    data = check_with_serializer(MemoryWriteSerializer, payload, form, names={"agent_id": "agent_id"})
    if data is None:
        return None
    agent_id = data.pop("agent_id", None)
    data["agent"] = visible_agents(request, workspace).filter(pk=agent_id).first() if agent_id else None
    if agent_id and data["agent"] is None:
        form.add_error("agent_id", "No such agent in this workspace.")
        return None
    if memory is None:
        return services.memory_create(
            workspace_id=workspace.pk, data={**data, "user": request.user, "source": "manual"}
        )
    return services.memory_update(memory=memory, data=data)


def _memory_page(
    request: HttpRequest, workspace: Workspace, form: MemoryForm, memory: Memory | None, status: int = 200
) -> HttpResponse:
    context = {
        "workspace": workspace,
        "form": form,
        "memory": memory,
        "can_write": page_allows(request, workspace, "memories:write"),
        "can_delete": page_allows(request, workspace, "memories:delete"),
    }
    return render(request, "memories/memory_form.html", context, status=status)


@workspace_page
def memory_create(request: HttpRequest, workspace: Workspace) -> HttpResponse:
    page_check(request, workspace, "memories:write")
    options = _agent_options(request, workspace)
    form = MemoryForm(
        request.POST if request.method == "POST" else None,
        agent_options=options,
        initial={"agent_id": request.GET.get("agent", "")[:64]},
    )
    if request.method != "POST":
        return _memory_page(request, workspace, form, None)
    memory = _save_memory(request, workspace, form, None)
    if memory is None:
        return _memory_page(request, workspace, form, None, status=422)
    messages.success(request, "The memory was saved. Agents retrieve it when it is relevant.")
    return HttpResponseRedirect(reverse("agent_pages:memory-list"))


@workspace_page
def memory_edit(request: HttpRequest, workspace: Workspace, memory_id: str) -> HttpResponse:
    page_check(request, workspace, "memories:read")
    memory = _memory(workspace, memory_id)
    initial = {
        "content": memory.content,
        "kind": memory.kind,
        "agent_id": str(memory.agent_id or ""),
        "importance": memory.importance,
    }
    options = _agent_options(request, workspace)
    form = MemoryForm(request.POST if request.method == "POST" else None, agent_options=options, initial=initial)
    if request.method != "POST":
        return _memory_page(request, workspace, form, memory)
    page_check(request, workspace, "memories:write")
    if _save_memory(request, workspace, form, memory) is None:
        return _memory_page(request, workspace, form, memory, status=422)
    messages.success(request, "The memory was saved.")
    return HttpResponseRedirect(reverse("agent_pages:memory-list"))


@workspace_page
def memory_delete(request: HttpRequest, workspace: Workspace, memory_id: str) -> HttpResponse:
    page_check(request, workspace, "memories:delete")
    memory = _memory(workspace, memory_id)
    if request.method != "POST":
        context = {
            "workspace": workspace,
            "object": memory,
            "kind": "memory",
            "cancel_url": reverse("agent_pages:memory-list"),
        }
        return render(request, "prompts/confirm_delete.html", context)
    services.memory_delete(memory=memory)
    messages.success(request, "The memory was deleted.")
    return HttpResponseRedirect(reverse("agent_pages:memory-list"))
