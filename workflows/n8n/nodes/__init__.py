"""One mapper per n8n node type: n8n parameters in, an Athena node type and parameters out.

n8n leaves parameters that equal their default out of its exports, so each mapper reads them
with the default of the node version it maps. A mapper raises `Untranslatable` for what Athena
cannot run; the importer then keeps the node as `noop` with the original parameters in its notes.
"""

from collections.abc import Callable

from workflows.n8n.nodes.actions import (
    map_ai_agent,
    map_execute_workflow,
    map_http_request,
    map_openai,
    map_respond_to_webhook,
    map_wait,
)
from workflows.n8n.nodes.base import Lookups, MapContext, Mapped, Reference, slug
from workflows.n8n.nodes.data import map_filter, map_if, map_merge, map_noop, map_set, map_switch
from workflows.n8n.nodes.triggers import (
    map_called_by_workflow,
    map_cron,
    map_form_or_chat_trigger,
    map_manual_trigger,
    map_schedule_trigger,
    map_webhook,
)

__all__ = [
    "CANVAS_ONLY_TYPES",
    "CODE_TYPES",
    "MAPPERS",
    "SUB_NODE_PREFIXES",
    "Lookups",
    "MapContext",
    "Mapped",
    "Reference",
    "slug",
]

MAPPERS: dict[str, Callable[[MapContext], Mapped]] = {
    "n8n-nodes-base.manualTrigger": map_manual_trigger,
    "n8n-nodes-base.start": map_manual_trigger,
    "n8n-nodes-base.executeWorkflowTrigger": map_called_by_workflow,
    "n8n-nodes-base.webhook": map_webhook,
    "n8n-nodes-base.formTrigger": map_form_or_chat_trigger,
    "@n8n/n8n-nodes-langchain.chatTrigger": map_form_or_chat_trigger,
    "n8n-nodes-base.scheduleTrigger": map_schedule_trigger,
    "n8n-nodes-base.cron": map_cron,
    "n8n-nodes-base.set": map_set,
    "n8n-nodes-base.if": map_if,
    "n8n-nodes-base.filter": map_filter,
    "n8n-nodes-base.switch": map_switch,
    "n8n-nodes-base.merge": map_merge,
    "n8n-nodes-base.noOp": map_noop,
    "n8n-nodes-base.httpRequest": map_http_request,
    "n8n-nodes-base.wait": map_wait,
    "n8n-nodes-base.respondToWebhook": map_respond_to_webhook,
    "n8n-nodes-base.executeWorkflow": map_execute_workflow,
    "n8n-nodes-base.openAi": map_openai,
    "@n8n/n8n-nodes-langchain.openAi": map_openai,
    "@n8n/n8n-nodes-langchain.agent": map_ai_agent,
    "@n8n/n8n-nodes-langchain.chainLlm": map_ai_agent,
}
# Types whose nodes run code Athena will not run; the report names the reason.
CODE_TYPES = {
    "n8n-nodes-base.code": "JavaScript or Python code is not run by Athena.",
    "n8n-nodes-base.function": "JavaScript code is not run by Athena.",
    "n8n-nodes-base.functionItem": "JavaScript code is not run by Athena.",
    "n8n-nodes-base.executeCommand": "Shell commands are not run by Athena.",
}
# Sub-nodes of AI nodes: attached through `ai_*` connections and folded into the node they serve.
SUB_NODE_PREFIXES = ("@n8n/n8n-nodes-langchain.lmChat", "@n8n/n8n-nodes-langchain.lm")
CANVAS_ONLY_TYPES = ("n8n-nodes-base.stickyNote",)
