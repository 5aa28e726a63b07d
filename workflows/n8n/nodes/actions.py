"""Mappers of n8n nodes that act: HTTP requests, waits, webhook responses, sub-workflows and AI nodes."""

from typing import Any

from workflows.n8n.expressions import (
    Shape,
    Untranslatable,
    inner_expression,
    is_expression,
)
from workflows.n8n.nodes.base import (
    MAX_HTTP_TIMEOUT_SECONDS,
    MapContext,
    Mapped,
    Reference,
    json_template,
    resource_value,
)


def _pairs(block: Any) -> dict[str, Any]:
    """Read n8n's `{parameters: [{name, value}]}` (or `{parameter: [...]}`) list of name/value pairs."""
    if not isinstance(block, dict):
        return {}
    items = block.get("parameters", block.get("parameter")) or []
    return {str(item.get("name", "")): item.get("value", "") for item in items if isinstance(item, dict)}


def map_http_request(context: MapContext) -> Mapped:
    legacy = context.version < 3
    method = context.get("requestMethod" if legacy else "method", "GET")
    parameters: dict[str, Any] = {"method": method, "url": context.translate(context.get("url", ""))}
    notes: list[str] = []
    if legacy:
        query = context.translate(_pairs(context.get("queryParametersUi")))
        headers = context.translate(_pairs(context.get("headerParametersUi")))
        body: Any = context.translate(_pairs(context.get("bodyParametersUi")))
        if context.get("jsonParameters"):
            body = json_template(context.get("bodyParametersJson", "{}"), context.scope)
        body_type = "json"
    else:
        query = _keyed(context, "sendQuery", "specifyQuery", "queryParameters", "jsonQuery")
        headers = _keyed(context, "sendHeaders", "specifyHeaders", "headerParameters", "jsonHeaders")
        body, body_type = _http_body(context, notes)
    if query:
        parameters["query"] = query
    if headers:
        parameters["headers"] = headers
    if body not in (None, {}, "") and method not in ("GET", "HEAD"):
        parameters["body"] = body
        parameters["body_type"] = body_type

    options = context.get("options") or {}
    if options.get("timeout"):
        parameters["timeout_seconds"] = min(float(options["timeout"]) / 1000, MAX_HTTP_TIMEOUT_SECONDS)
    response_options = ((options.get("response") or {}).get("response")) or {}
    if response_options.get("neverError"):
        parameters["fail_on_status"] = False
    shape = Shape("http_full" if response_options.get("fullResponse") or options.get("fullResponse") else "http")

    account = context.account_for_credentials()
    if account:
        parameters["account"] = account
    mapped = Mapped("http_request", parameters, shape=shape)
    mapped.notes.append("Athena outputs {status, headers, body}; references to the response read its `body`.")
    for note in notes:
        mapped.approximate(note)
    if context.get("authentication", "none") != "none" and not account:
        mapped.approximate("No account matched the n8n credential, so the request is sent without credentials.")
    return mapped


def _keyed(context: MapContext, send: str, specify: str, pairs: str, json_name: str) -> Any:
    """Read HTTP Request query parameters or headers, given as name/value pairs or as JSON, translated."""
    if not context.get(send):
        return {}
    if context.get(specify, "keypair") == "json":
        return json_template(context.get(json_name, "{}"), context.scope)
    return context.translate(_pairs(context.get(pairs)))


def _http_body(context: MapContext, notes: list[str]) -> tuple[Any, str]:
    """Return the translated body of an HTTP Request node and Athena's `body_type` for it."""
    if not context.get("sendBody"):
        return None, "json"
    content_type = context.get("contentType", "json")
    if content_type == "raw":
        return context.translate(context.get("body", "")), "text"
    if content_type == "binaryData":
        raise Untranslatable("Sending binary data is not supported by Athena's http_request node.")
    body_type = "form" if content_type in ("form-urlencoded", "multipart-form-data") else "json"
    if content_type == "multipart-form-data":
        notes.append("The multipart body is sent as a URL-encoded form.")
    specify = context.get("specifyBody", "keypair")
    if specify == "json":
        return json_template(context.get("jsonBody", "{}"), context.scope), body_type
    if specify == "string":
        return context.translate(context.get("body", "")), "text"
    return context.translate(_pairs(context.get("bodyParameters"))), body_type


def map_wait(context: MapContext) -> Mapped:
    resume = context.get("resume", "timeInterval")
    if resume == "timeInterval":
        amount = context.get("amount", 1)
        factor = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400}[context.get("unit", "hours")]
        if is_expression(amount):
            seconds: Any = "{{ (" + inner_expression(amount, context.scope) + f") * {factor} }}"
        else:
            seconds = float(amount) * factor
            seconds = int(seconds) if seconds.is_integer() else seconds
        return Mapped("delay", {"seconds": seconds})
    if resume == "specificTime":
        return Mapped("delay", {"until": context.translate(context.get("dateTime", ""))})
    if resume in ("webhook", "form"):
        message = f"Resume '{context.node.get('name', 'Wait')}'"
        return Mapped("approval", {"message": message}, handles={0: "approved"}).approximate(
            "n8n waited for a call to its resume URL; Athena waits for `POST workflow-executions/{id}/resume`."
        )
    raise Untranslatable(f"The wait mode '{resume}' has no Athena equivalent.")


def map_respond_to_webhook(context: MapContext) -> Mapped:
    options = context.get("options") or {}
    respond_with = context.get("respondWith", "firstIncomingItem")
    parameters: dict[str, Any] = {"status": int(options.get("responseCode", 200))}
    headers = {
        str(entry.get("name", "")): entry.get("value", "")
        for entry in ((options.get("responseHeaders") or {}).get("entries") or [])
        if isinstance(entry, dict)
    }
    mapped = Mapped("respond_to_webhook", parameters)
    if respond_with == "json":
        parameters["body"] = json_template(context.get("responseBody", ""), context.scope)
    elif respond_with == "text":
        parameters["body"] = context.translate(context.get("responseBody", ""))
    elif respond_with == "noData":
        parameters["body"] = ""
    elif respond_with == "redirect":
        parameters["status"] = int(options.get("responseCode", 307))
        headers["Location"] = context.get("redirectURL", "")
    elif respond_with == "allIncomingItems":
        mapped.approximate("n8n answered with a list of all items; Athena answers with the node's input.")
    elif respond_with != "firstIncomingItem":
        raise Untranslatable(f"Responding with '{respond_with}' is not supported.")
    if headers:
        parameters["headers"] = context.translate(headers)
    return mapped


def map_execute_workflow(context: MapContext) -> Mapped:
    if context.get("source", "database") != "database":
        raise Untranslatable("Only workflows stored in n8n's database can be mapped to a sub_workflow.")
    reference = context.get("workflowId", "")
    name = reference.get("cachedResultName") if isinstance(reference, dict) else None
    n8n_id = str(resource_value(reference) or "")
    matched = context.lookups.workflow(name) if name else None
    context.references.append(Reference("workflow", name or n8n_id, matched))
    mapped = Mapped("sub_workflow", {"workflow_id": matched or n8n_id or "unset"})
    if matched is None:
        mapped.approximate(
            f"No workflow of this workspace is named '{name or n8n_id}'; set `workflow_id` to the one to run."
        )
    return mapped


def _model_of(node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    parameters = node.get("parameters") or {}
    model = resource_value(parameters.get("model", parameters.get("modelId")))
    options = parameters.get("options") or {}
    return (str(model) if model else None), options


def _llm_parameters(context: MapContext, model: str | None, options: dict[str, Any], mapped_notes: list[str]) -> dict:
    parameters: dict[str, Any] = {}
    if model:
        matched = context.lookups.model(model)
        context.references.append(Reference("model", model, matched))
        parameters["model_id"] = matched or model
        if matched is None:
            mapped_notes.append(f"No model '{model}' is in the catalogue; set `model_id` before running.")
    else:
        parameters["model_id"] = "unset"
        mapped_notes.append("n8n named no model; set `model_id` before running.")
    if "temperature" in options:
        parameters["temperature"] = options["temperature"]
    if "maxTokens" in options or "maxTokensToSample" in options:
        parameters["max_tokens"] = int(options.get("maxTokens", options.get("maxTokensToSample")))
    if "topP" in options:
        parameters["top_p"] = options["topP"]
    return parameters


def map_openai(context: MapContext) -> Mapped:
    legacy = context.node.get("type") == "n8n-nodes-base.openAi"
    resource = context.get("resource", "text")
    operation = context.get("operation", "complete" if legacy else "message")
    supported = (("chat", "complete"), ("text", "complete")) if legacy else (("text", "message"),)
    if (resource, operation) not in supported:
        raise Untranslatable(f"The OpenAI {resource} {operation} operation is not mapped; only chat and text are.")
    notes: list[str] = []
    model, _ = _model_of(context.node)
    if model is None and legacy:
        model = "gpt-3.5-turbo" if resource == "chat" else "text-davinci-003"
    parameters = _llm_parameters(context, model, context.get("options") or {}, notes)
    if legacy and resource == "text":
        prompt = context.translate(context.get("prompt", ""))
        if not prompt:
            raise Untranslatable("The OpenAI node has no prompt.")
        parameters["prompt"] = prompt
    else:
        block = context.get("prompt") if legacy else context.get("messages")
        items = (block or {}).get("messages" if legacy else "values") or []
        messages = [
            {"role": item.get("role", "user"), "content": context.translate(item.get("content", ""))}
            for item in items
            if isinstance(item, dict)
        ]
        if not messages:
            raise Untranslatable("The OpenAI node has no messages.")
        parameters["messages"] = messages
    if context.get("jsonOutput"):
        parameters["response_format"] = "json"
    mapped = Mapped("llm", parameters, shape=Shape("llm"))
    mapped.notes.append("The reply is in `text` (n8n put it in `message.content`).")
    account = context.account_for_credentials()
    if account:
        parameters["account"] = account
    for note in notes:
        mapped.approximate(note)
    return mapped


def map_ai_agent(context: MapContext) -> Mapped:
    notes: list[str] = []
    language_models = context.sub_nodes.get("ai_languageModel") or []
    model, options = _model_of(language_models[0]) if language_models else (None, {})
    parameters = _llm_parameters(context, model, options, notes)
    prompt_type = context.get("promptType", "auto")
    prompt = context.get("text", "={{ $json.chatInput }}") if prompt_type == "define" else "={{ $json.chatInput }}"
    if prompt_type == "auto" and "text" in context.parameters:
        prompt = context.get("text")
    parameters["prompt"] = context.translate(prompt) or "{{ input }}"
    system = (context.get("options") or {}).get("systemMessage")
    if system:
        parameters["system"] = context.translate(system)
    mapped = Mapped("llm", parameters, shape=Shape("llm")).approximate(
        "Imported as one model call: the reply is in `text`, and tools and memory do not run."
    )
    for kind in ("ai_tool", "ai_memory", "ai_outputParser"):
        for sub_node in context.sub_nodes.get(kind) or []:
            mapped.notes.append(f"The attached '{sub_node.get('name')}' ({kind.removeprefix('ai_')}) was left out.")
    if language_models:
        account = MapContext(language_models[0], context.scope, context.lookups, {}, context.timezone)
        account_id = account.account_for_credentials()
        context.references.extend(account.references)
        if account_id:
            parameters["account"] = account_id
    for note in notes:
        mapped.approximate(note)
    return mapped
