"""The `workflow` agent tool type: an agent runs a workflow of its workspace and reads its result.

An agent's tool entry `{"type": "workflow", "workflow_id": ...}` gives the model one tool. A call
starts an execution (mode `agent`) with the tool arguments as the trigger body and waits up to
`timeout_seconds` for it to finish. It returns the body set by a `respond_to_webhook` node, else
the output of the last node. The type is registered from WorkflowsConfig.ready(), so that the
agents app does not import workflows.
"""

import re
import time
import uuid
from typing import Any

from django.conf import settings
from django.db import connection
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agents.errors import ToolError
from agents.tools.registry import TOOL_NAME_PATTERN, BoundTool, ToolContext

TOOL_TYPE = "workflow"
DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_TIMEOUT_SECONDS = 300.0
POLL_SECONDS = 0.2
DEFAULT_PARAMETERS = {"type": "object", "properties": {}, "additionalProperties": True}


def _workflow(workflow_id: Any, workspace_id: Any) -> Any:
    from workflows.models import Workflow

    try:
        pk = uuid.UUID(str(workflow_id))
    except ValueError:
        return None
    return Workflow.objects.filter(pk=pk, workspace_id=workspace_id).first()


def _default_name(workflow_name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", workflow_name.lower()).strip("_")[:64]
    return name or "run_workflow"


def validate_config(config: dict[str, Any], workspace_id: Any) -> dict[str, Any]:
    """Check a workflow tool entry and return it normalised; raises ValueError naming the bad key."""
    workflow = _workflow(config.get("workflow_id"), workspace_id)
    if workflow is None:
        raise ValueError("workflow_id: no such workflow in this workspace.")
    name = config.get("name") or _default_name(workflow.name)
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.match(name):
        raise ValueError("name: use 1 to 64 letters, digits, underscores or hyphens.")
    parameters = config.get("parameters") or DEFAULT_PARAMETERS
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        raise ValueError("parameters: use a JSON schema of type object.")
    try:
        Draft202012Validator.check_schema(parameters)
    except SchemaError as exc:
        raise ValueError(f"parameters: not a valid JSON schema ({exc.message}).") from None
    timeout = config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 1 <= timeout <= MAX_TIMEOUT_SECONDS:
        raise ValueError(f"timeout_seconds: use a number of seconds from 1 to {MAX_TIMEOUT_SECONDS:g}.")
    description = str(config.get("description") or workflow.description or f"Run the workflow '{workflow.name}'.")
    return {
        "type": TOOL_TYPE,
        "workflow_id": str(workflow.pk),
        "name": name,
        "description": description[:1000],
        "parameters": parameters,
        "timeout_seconds": timeout,
    }


def run_workflow(config: dict[str, Any], arguments: dict[str, Any], context: ToolContext) -> dict[str, Any]:
    """Start the workflow with `arguments` as its trigger body and return its result.

    Raises ToolError, which the model reads, when the workflow is gone or inactive, nests too
    deep, fails, or does not finish in time.
    """
    from workflows.engine import execution_run, running_execution
    from workflows.models import FINISHED_STATUSES, ExecutionMode, ExecutionStatus, WorkflowExecution
    from workflows.services.executions import execution_create, trigger_payload
    from workflows.tasks import run_execution

    workflow = _workflow(config["workflow_id"], context.workspace_id)
    if workflow is None:
        raise ToolError("The workflow of this tool no longer exists.")
    if not workflow.active:
        raise ToolError(f"The workflow '{workflow.name}' is not active.")
    # An agent node may call this tool, and the started workflow may run the agent again. The
    # sub-workflow depth limit stops such a chain.
    parent = running_execution.get()
    depth = parent.depth + 1 if parent is not None else 0
    if depth > settings.WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH:
        raise ToolError(
            f"Workflows started by agents nest deeper than the limit of {settings.WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH}."
        )

    execution = execution_create(
        workflow=workflow,
        mode=ExecutionMode.AGENT,
        payload=trigger_payload(body=arguments),
        user=context.user,
        depth=depth,
    )
    if run_execution.app.conf.task_always_eager:
        # An eager task queued on commit runs only after this call returns, so the execution runs
        # here. The task that runs later finds it finished and does nothing.
        execution_run(execution_id=str(execution.pk))
    elif connection.in_atomic_block:
        # A worker cannot see the execution before the enclosing transaction commits.
        return {
            "execution_id": str(execution.pk),
            "status": ExecutionStatus.QUEUED,
            "message": "The workflow starts when this run's transaction commits; its result is not available here.",
        }

    timeout = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    deadline = time.monotonic() + timeout
    while True:
        row = WorkflowExecution.objects.filter(pk=execution.pk).values("status", "output", "error", "response").first()
        if row is None:
            raise ToolError("The workflow's execution was deleted.")
        if row["status"] in FINISHED_STATUSES:
            break
        if time.monotonic() >= deadline:
            raise ToolError(
                f"The workflow timed out after {timeout:g} seconds. "
                f"Its execution {execution.pk} continues in the background."
            )
        if context.cancel.wait(POLL_SECONDS):
            raise ToolError("The agent run was stopped before the workflow finished.")

    if row["status"] != ExecutionStatus.SUCCEEDED:
        message = (row["error"] or {}).get("message") or row["status"]
        raise ToolError(f"The workflow {row['status']}: {message}")
    response = row["response"]
    output = response.get("body") if isinstance(response, dict) else row["output"]
    return {"execution_id": str(execution.pk), "status": row["status"], "output": output}


def build_tools(config: dict[str, Any], context: ToolContext) -> list[BoundTool]:
    def call(arguments: dict[str, Any]) -> Any:
        return run_workflow(config, arguments, context)

    return [BoundTool(config["name"], config["description"], config.get("parameters") or DEFAULT_PARAMETERS, call)]


def register() -> None:
    from agents.tools.registry import register_tool_type

    register_tool_type(
        TOOL_TYPE,
        build=build_tools,
        validate=validate_config,
        description="Runs a workflow of the agent's workspace with the tool arguments and returns its result.",
    )
