"""The runner: executes one workflow execution over its graph snapshot, under a lease.

Only one runner owns an execution at a time (`lease_owner`, `lease_expires_at`). Every write
of the runner is conditional on still holding the lease, so a runner that lost it (the reaper
gave the execution to another) cannot overwrite the newer runner's work. A node run row is
committed before the next side-effecting node starts and before any wait, so after a crash a
new runner re-runs at most the one side-effecting node whose result had not committed.
"""

import json
import logging
import time
import uuid
import zoneinfo
from collections import defaultdict
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from workflows.expressions import ExpressionError, redact
from workflows.models import (
    ExecutionMode,
    ExecutionStatus,
    NodeRunStatus,
    WorkflowExecution,
    WorkflowNodeRun,
)
from workflows.nodes import node_type
from workflows.nodes.base import ERROR_HANDLE, MAIN, NodeContext, NodeError, NodeResult, Wait
from workflows.timeouts import NodeTimeLimitExceeded, time_limit, time_limit_enforceable
from workflows.validation import loop_body, topological_order

logger = logging.getLogger(__name__)

# Flush buffered pure-node results and renew the lease at least this often while running.
FLUSH_INTERVAL_SECONDS = 1.0
# How long a runner that serves a waiting webhook caller goes on after the response is recorded,
# so that cheap trailing nodes finish in place rather than on a worker.
ANSWER_GRACE_SECONDS = 0.1
TRUNCATED_PREVIEW_CHARS = 2000
_TRIGGER_FOR_MODE = {
    ExecutionMode.WEBHOOK: "trigger.webhook",
    ExecutionMode.SCHEDULE: "trigger.schedule",
    ExecutionMode.MANUAL: "trigger.manual",
    ExecutionMode.API: "trigger.manual",
    ExecutionMode.AGENT: "trigger.manual",
}
# The execution whose runner is working in this thread, so that an agent run started by one of
# its nodes can give workflows it starts through the workflow tool a nesting depth.
running_execution: ContextVar[WorkflowExecution | None] = ContextVar("running_execution", default=None)


def pinned_handles(node: dict, output: Any) -> list[str]:
    """Return the output handles a node with a pinned output takes.

    `main` when the node has it, `approved` or `rejected` for an approval by the `decision` in
    its output, and `done` for a loop, so a pinned output follows the same edges as a real one.
    """
    kind = node_type(node["type"])
    handles = kind.handles(node.get("parameters") or {}) if kind else (MAIN,)
    if MAIN in handles:
        return [MAIN]
    if node["type"] == "approval":
        decision = output.get("decision") if isinstance(output, dict) else None
        return ["approved" if decision == "approve" else "rejected"]
    if node["type"] == "loop":
        return ["done"]
    return [MAIN]


class _Stopped(BaseException):
    """The execution stopped running here (waiting, finished, canceled); not an error of a node."""


class LeaseLost(BaseException):
    """Another runner owns the execution now, so this runner must stop without writing."""


def _save_runs(runs: list[WorkflowNodeRun]) -> None:
    """Insert the node runs not stored yet in one query, and update the others."""
    new = [run for run in runs if run._state.adding]
    stored = [run for run in runs if not run._state.adding]
    if new:
        WorkflowNodeRun.objects.bulk_create(new)
    for run in stored:
        run.save()


def new_runner_id() -> str:
    return f"runner-{uuid.uuid4().hex[:16]}"


def cap_output(value: Any) -> Any:
    """Return `value`, or a marker with a preview when its JSON is larger than the setting."""
    limit = settings.WORKFLOWS_MAX_NODE_OUTPUT_BYTES
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        return {"_truncated": True, "reason": "not JSON-serializable", "preview": str(value)[:TRUNCATED_PREVIEW_CHARS]}
    if len(text) <= limit:
        return json.loads(text) if not isinstance(value, (str, int, float, bool, type(None))) else value
    return {
        "_truncated": True,
        "size_bytes": len(text),
        "limit_bytes": limit,
        "preview": text[:TRUNCATED_PREVIEW_CHARS],
    }


def execution_acquire(*, execution_id: str, runner_id: str) -> WorkflowExecution | None:
    """Take the lease of a queued execution, or of a running one whose lease expired.

    Returns None when the execution is gone, finished, held by a live runner, or must stay
    queued because its workflow already runs `max_concurrency` executions.
    """
    now = timezone.now()
    with transaction.atomic():
        execution = (
            WorkflowExecution.objects.select_for_update().filter(pk=execution_id).select_related("workspace").first()
        )
        if execution is None or execution.status not in (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING):
            return None
        if (
            execution.status == ExecutionStatus.RUNNING
            and execution.lease_expires_at is not None
            and execution.lease_expires_at > now
        ):
            return None
        if execution.status == ExecutionStatus.QUEUED and not _has_capacity(execution, now):
            return None

        execution.status = ExecutionStatus.RUNNING
        execution.lease_owner = runner_id
        execution.lease_expires_at = now + timedelta(seconds=settings.WORKFLOWS_LEASE_SECONDS)
        execution.resume_at = None
        if execution.started_at is None:
            execution.started_at = now
            timeout = (execution.workflow_data.get("settings") or {}).get("timeout_seconds")
            if timeout:
                execution.deadline_at = now + timedelta(seconds=float(timeout))
        execution.save(
            update_fields=[
                "status",
                "lease_owner",
                "lease_expires_at",
                "resume_at",
                "started_at",
                "deadline_at",
                "updated_at",
            ]
        )
    return execution


def _has_capacity(execution: WorkflowExecution, now: Any) -> bool:
    limit = int((execution.workflow_data.get("settings") or {}).get("max_concurrency") or 0)
    if limit <= 0 or execution.workflow_id is None:
        return True
    from workflows.models import Workflow

    # Locking the workflow row makes concurrent admissions of the same workflow take turns.
    Workflow.objects.select_for_update().filter(pk=execution.workflow_id).first()
    running = (
        WorkflowExecution.objects.filter(
            workflow_id=execution.workflow_id, status=ExecutionStatus.RUNNING, lease_expires_at__gt=now
        )
        .exclude(pk=execution.pk)
        .count()
    )
    return running < limit


def execution_run(
    *,
    execution_id: str,
    runner_id: str | None = None,
    hand_off_after: float | None = None,
    answer_first: bool = False,
    leased: WorkflowExecution | None = None,
) -> WorkflowExecution | None:
    """Run an execution until it finishes, waits or is handed off; None when it was not acquired.

    Returns the runner's copy of the execution, whose `status` and `response` are current. With
    `hand_off_after` (seconds), a runner still working after that long queues the rest of the
    execution for a worker before its next node, leaving it `queued`. A node that is already
    running finishes first. Callers that run an execution inside a web request use it.

    `answer_first` is for a runner that serves a waiting webhook caller. Once a node records the
    webhook response, the runner hands off before the next side-effecting node or after
    ANSWER_GRACE_SECONDS. It also hands off any node whose time limit this thread cannot enforce.

    `leased` is an execution stored already running under a new runner's lease (see
    `execution_create(runner_id=...)`): the runner starts on it without acquiring it again.
    """
    if leased is not None:
        execution, runner_id = leased, leased.lease_owner
    else:
        runner_id = runner_id or new_runner_id()
        execution = execution_acquire(execution_id=execution_id, runner_id=runner_id)
    if execution is None:
        return None
    runner = Runner(execution, runner_id, new=leased is not None)
    if hand_off_after is not None:
        runner.hand_off_at = time.monotonic() + hand_off_after
    runner.answer_first = answer_first
    started = time.monotonic()
    logger.info(
        "Execution started", extra={"execution_id": str(execution.pk), "workflow_id": str(execution.workflow_id)}
    )
    try:
        runner.run()
    except LeaseLost:
        logger.warning("Execution lease lost; another runner continues", extra={"execution_id": str(execution.pk)})
        return None
    except SoftTimeLimitExceeded:
        # Committed node runs are kept; another task continues from them.
        runner.requeue()
    logger.info(
        "Execution stopped",
        extra={
            "execution_id": str(execution.pk),
            "status": runner.execution.status,
            "duration_ms": int((time.monotonic() - started) * 1000),
        },
    )
    return runner.execution


class Runner:
    """Walk the snapshot's nodes in dependency order, reusing node runs that already finished."""

    def __init__(self, execution: WorkflowExecution, runner_id: str, *, new: bool = False) -> None:
        """Prepare to run `execution`. Pass `new` for an execution without node runs, which skips reading them."""
        from workspaces.selectors import workspace_variables_and_secrets

        self.execution = execution
        self.runner_id = runner_id
        snapshot = execution.workflow_data or {}
        self.settings = snapshot.get("settings") or {}
        self.nodes: dict[str, dict] = {node["id"]: node for node in snapshot.get("nodes", [])}
        self.edges: list[dict] = snapshot.get("edges", [])
        self.incoming: dict[str, list[dict]] = defaultdict(list)
        for edge in self.edges:
            self.incoming[edge["target"]].append(edge)
        order = topological_order(list(self.nodes), self.edges)
        self.bodies = {
            node_id: loop_body(node_id, self.edges) for node_id, node in self.nodes.items() if node["type"] == "loop"
        }
        in_bodies = set().union(*self.bodies.values()) if self.bodies else set()
        self.order = [node_id for node_id in order if node_id not in in_bodies]
        self.full_order = order
        self.runs: dict[tuple[str, int], WorkflowNodeRun] = (
            {} if new else {(run.node_id, run.item_index): run for run in execution.node_runs.all()}
        )
        self.pending: list[WorkflowNodeRun] = []
        self.last_flush = time.monotonic()
        self.current_run: WorkflowNodeRun | None = None
        # Monotonic time after which the runner gives the execution back to the queue.
        self.hand_off_at: float | None = None
        self.answer_first = False
        # Monotonic time at which a node recorded the webhook response, when `answer_first`.
        self.answered_at: float | None = None
        # Execution fields set in memory and written with the next lease check.
        self.unsaved_fields: dict[str, Any] = {}
        # Options of a test run ({live, pinned, node_id, input, trigger_node}), None in other modes.
        self.test: dict[str, Any] | None = (
            (snapshot.get("test") or {}) if execution.mode == ExecutionMode.TEST else None
        )

        workspace = execution.workspace
        workspace_vars, secrets = workspace_variables_and_secrets(workspace=workspace)
        self.secret_values = [str(value) for value in secrets.values()]
        variables = {**workspace_vars, **(snapshot.get("variables") or {})}
        try:
            zone = zoneinfo.ZoneInfo(workspace.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        payload = execution.trigger_payload or {}
        self.base_context = {
            "trigger": {
                "body": payload.get("body"),
                "headers": payload.get("headers") or {},
                "query": payload.get("query") or {},
                "method": payload.get("method") or "POST",
            },
            "vars": variables,
            "secrets": secrets,
            "execution": {
                "id": str(execution.pk),
                "started_at": execution.started_at.isoformat() if execution.started_at else None,
                "mode": execution.mode,
                "workflow_id": str(execution.workflow_id) if execution.workflow_id else None,
            },
        }
        self.zone = zone
        triggers = [
            node_id
            for node_id, node in self.nodes.items()
            if node_type(node["type"]) and node_type(node["type"]).is_trigger
        ]
        expected_type = _TRIGGER_FOR_MODE.get(execution.mode)
        matching = [node_id for node_id in triggers if self.nodes[node_id]["type"] == expected_type]
        self.start_triggers = set(matching or triggers)
        if self.test and self.test.get("trigger_node") in triggers:
            self.start_triggers = {self.test["trigger_node"]}

    # --- walking the graph ------------------------------------------------------------------

    def run(self) -> None:
        token = running_execution.set(self.execution)
        try:
            if self.test and self.test.get("node_id"):
                self._run_single(self.test["node_id"])
            for node_id in self.order:
                self._visit(node_id, -1, None)
            self._finish(ExecutionStatus.SUCCEEDED, output=self._final_output())
        except _Stopped:
            return
        finally:
            running_execution.reset(token)

    def _run_single(self, node_id: str) -> None:
        """Run one node on the test's `input`, then finish with its output."""
        node = self.nodes[node_id]
        kind = node_type(node["type"])
        if kind is None:
            # Saved graphs are validated, so this is a node type removed since the save.
            self._fail_node(node, -1, None, NodeError(f"Unknown node type '{node['type']}'.", retryable=False))
        elif not self._resolved(self.runs.get((node_id, -1))):
            self._between_nodes(node, kind)
            self._execute(node, kind, -1, self.test.get("input"), {}, None)
        run = self.runs[(node_id, -1)]
        self._finish(ExecutionStatus.SUCCEEDED, output=run.output)

    def _final_output(self) -> Any:
        for node_id in reversed(self.order):
            run = self.runs.get((node_id, -1))
            if run is not None and run.status == NodeRunStatus.SUCCEEDED:
                return run.output
        return None

    def _resolved(self, run: WorkflowNodeRun | None) -> bool:
        if run is None:
            return False
        if run.status in (NodeRunStatus.SUCCEEDED, NodeRunStatus.SKIPPED):
            return True
        return run.status == NodeRunStatus.FAILED and ERROR_HANDLE in (run.handles or [])

    def _taken_inputs(self, node_id: str, index: int, scope: dict | None) -> list[tuple[str, Any]]:
        taken = []
        for edge in self.incoming[node_id]:
            if scope is not None and edge["source"] == scope["loop_id"]:
                if edge["source_handle"] == "item":
                    taken.append((edge["source"], scope["item"]))
                continue
            source_index = index if scope is not None and edge["source"] in self.bodies[scope["loop_id"]] else -1
            run = self.runs.get((edge["source"], source_index))
            if run is not None and self._resolved(run) and edge["source_handle"] in (run.handles or []):
                taken.append((edge["source"], run.output))
        return taken

    def _visit(self, node_id: str, index: int, scope: dict | None) -> None:
        run = self.runs.get((node_id, index))
        if self._resolved(run):
            return
        node = self.nodes[node_id]
        kind = node_type(node["type"])
        self._between_nodes(node, kind)

        if kind is None:
            self._fail_node(node, index, None, NodeError(f"Unknown node type '{node['type']}'.", retryable=False))
            return
        if kind.is_trigger:
            if node_id not in self.start_triggers:
                self._skip(node, index, None, [])
            elif node.get("disabled"):
                self._skip(node, index, self.base_context["trigger"]["body"], [MAIN])
            else:
                self._execute(node, kind, index, self.base_context["trigger"]["body"], {}, scope)
            return

        taken = self._taken_inputs(node_id, index, scope)
        if not taken:
            self._skip(node, index, None, [])
            return
        node_input = taken[0][1] if len(taken) == 1 else dict(taken)
        if node.get("disabled"):
            self._skip(node, index, node_input, [MAIN])
            return
        self._execute(node, kind, index, node_input, dict(taken), scope)

    def _run_key(self, node: dict, index: int) -> WorkflowNodeRun:
        key = (node["id"], index)
        run = self.runs.get(key)
        if run is None:
            run = WorkflowNodeRun(
                execution=self.execution, node_id=node["id"], node_type=node["type"], item_index=index
            )
            self.runs[key] = run
        return run

    def _skip(self, node: dict, index: int, output: Any, handles: list[str]) -> None:
        run = self._run_key(node, index)
        run.status = NodeRunStatus.SKIPPED
        run.output = output
        run.input = output if handles else None
        run.handles = handles
        run.finished_at = timezone.now()
        self.pending.append(run)

    def _expression_context(self, node_input: Any, index: int, scope: dict | None) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for (node_id, item_index), run in self.runs.items():
            if item_index == -1 and run.status in (NodeRunStatus.SUCCEEDED, NodeRunStatus.FAILED):
                outputs[node_id] = {"output": run.output}
        if scope is not None:
            for node_id in self.bodies[scope["loop_id"]]:
                run = self.runs.get((node_id, index))
                if run is not None and run.status in (NodeRunStatus.SUCCEEDED, NodeRunStatus.FAILED):
                    outputs[node_id] = {"output": run.output}
        if self.test:
            # A single-node test has no runs of the other nodes, so their pinned outputs stand in.
            for node_id, output in (self.test.get("pinned") or {}).items():
                outputs.setdefault(node_id, {"output": output})
        context = {
            **self.base_context,
            "input": node_input,
            "nodes": outputs,
            "now": timezone.now().astimezone(self.zone),
        }
        if scope is not None:
            context["loop"] = {"item": scope["item"], "index": index}
        return context

    def _execute(
        self, node: dict, kind: Any, index: int, node_input: Any, inputs_by_node: dict, scope: dict | None
    ) -> None:
        run = self._run_key(node, index)
        resuming = run.status == NodeRunStatus.RUNNING and (run.state or {}).get("waiting")
        now = timezone.now()
        if not resuming:
            run.attempts += 1
            run.started_at = now
        run.status = NodeRunStatus.RUNNING
        run.input = redact(cap_output(node_input), self.secret_values)
        state = {key: value for key, value in (run.state or {}).items() if key != "waiting"}
        if node["type"] == "merge":
            state["inputs_by_node"] = inputs_by_node
        if kind.side_effect:
            # Record the run as started before any request leaves, so a crash cannot hide the call.
            run.state = {key: value for key, value in state.items() if key != "inputs_by_node"}
            self._flush([run], lease_for=node.get("timeout_seconds"))

        context = NodeContext(
            node=node,
            input=node_input,
            expression_context=self._expression_context(node_input, index, scope),
            state=state,
            attempt=run.attempts,
            execution=self.execution,
            timeout_seconds=node.get("timeout_seconds"),
            engine=self,
        )
        self.current_run = run
        limit = node.get("timeout_seconds") if kind.interruptible else None
        try:
            with time_limit(limit):
                result = self._test_stand_in(node, kind) if self.test is not None else None
                if result is None:
                    result = kind.execute(context)
        except NodeTimeLimitExceeded:
            error = NodeError(
                f"The node ran longer than its timeout of {limit} seconds.", retryable=False, code="node_timeout"
            )
            self._fail_node(node, index, run, error)
            return
        except (NodeError, ExpressionError) as exc:
            error = exc if isinstance(exc, NodeError) else NodeError(str(exc), retryable=False)
            self._fail_node(node, index, run, error)
            return
        except (SoftTimeLimitExceeded, _Stopped, LeaseLost):
            raise
        except Exception as exc:
            logger.exception(
                "Node failed unexpectedly", extra={"execution_id": str(self.execution.pk), "node_id": node["id"]}
            )
            self._fail_node(node, index, run, NodeError(f"Unexpected error in the node: {type(exc).__name__}."))
            return
        finally:
            self.current_run = None

        if isinstance(result, Wait):
            run.state = {**result.state, "waiting": True}
            self._wait(run, result.resume_at)
            return
        self._succeed(node, kind, run, result)

    def _succeed(self, node: dict, kind: Any, run: WorkflowNodeRun, result: NodeResult) -> None:
        run.status = NodeRunStatus.SUCCEEDED
        run.output = redact(cap_output(result.output), self.secret_values)
        run.handles = list(result.handles)
        run.error = None
        run.state = {}
        run.prompt_tokens = result.prompt_tokens
        run.completion_tokens = result.completion_tokens
        run.cost = result.cost
        run.finished_at = timezone.now()
        updates: dict[str, Any] = {}
        if result.response is not None and self.execution.response is None:
            self.execution.response = redact(cap_output(result.response), self.secret_values)
            updates["response"] = self.execution.response
            if self.answer_first:
                # The waiting caller is this runner's own request, which takes the response from
                # memory. It is written with the next commit, which also comes before any hand-off.
                self.answered_at = time.monotonic()
                self.unsaved_fields.update(updates)
                updates = {}
        if kind.side_effect or updates:
            self._flush([run], execution_updates=updates)
        else:
            self.pending.append(run)

    def _fail_node(self, node: dict, index: int, run: WorkflowNodeRun | None, error: NodeError) -> None:
        run = run or self._run_key(node, index)
        message = redact(error.message, self.secret_values)
        details = redact(cap_output(error.details), self.secret_values) if error.details else {}
        stored_error = {"message": message, "node_id": node["id"]}
        if error.code:
            stored_error["code"] = error.code
        if details:
            stored_error["details"] = details
        run.error = stored_error
        retry = node.get("retry") or {}
        max_attempts = int(retry.get("max_attempts") or 1)
        if error.retryable and run.attempts < max_attempts:
            backoff = float(retry.get("backoff_seconds") or 0) * (2 ** (run.attempts - 1))
            run.status = NodeRunStatus.PENDING
            run.state = {}
            logger.warning(
                "Node failed; retry scheduled",
                extra={"execution_id": str(self.execution.pk), "node_id": node["id"], "attempt": run.attempts},
            )
            self._wait(run, timezone.now() + timedelta(seconds=backoff))
            return

        run.finished_at = timezone.now()
        run.state = {}
        run.status = NodeRunStatus.FAILED
        if node.get("on_error") == "continue":
            run.output = {"error": stored_error, "input": run.input}
            run.handles = [ERROR_HANDLE]
            self._flush([run])
            return
        run.handles = []
        self.pending.append(run)
        self._finish(ExecutionStatus.FAILED, error=stored_error)

    def _test_stand_in(self, node: dict, kind: Any) -> NodeResult | None:
        """Return the fixed result a test run uses in place of running the node, or None to run it.

        A pinned output wins. Without one, a node that reaches outside Athena returns its
        `sample_output` unless the test is live, and fails when it has none.
        """
        pinned = self.test.get("pinned") or {}
        if node["id"] in pinned:
            output = pinned[node["id"]]
            return NodeResult(output, handles=pinned_handles(node, output))
        if not kind.side_effect or self.test.get("live"):
            return None
        if node.get("sample_output") is None:
            raise NodeError(
                f"Node '{node['id']}' calls out and has no sample_output. Add one, pin its output, "
                "or run the test with live: true.",
                retryable=False,
                code="sample_output_missing",
            )
        return NodeResult(node["sample_output"])

    # --- loops and sub-workflows (called by node types) -------------------------------------

    def max_loop_items(self) -> int:
        return settings.WORKFLOWS_MAX_LOOP_ITEMS

    def run_loop_body(self, context: NodeContext, items: list) -> NodeResult:
        loop_id = context.node["id"]
        body = self.bodies.get(loop_id, set())
        body_order = [node_id for node_id in self.full_order if node_id in body]
        sinks = [node_id for node_id in body_order if not any(edge["source"] == node_id for edge in self.edges)]
        results = []
        # The body may contain side-effecting nodes, which a timer must not interrupt, so the
        # loop's own timeout is checked between items.
        started = time.monotonic()
        limit = context.timeout_seconds
        for index, item in enumerate(items):
            if limit and time.monotonic() - started > limit:
                raise NodeError(
                    f"The loop ran longer than its timeout of {limit} seconds after {index} of {len(items)} items.",
                    retryable=False,
                    code="node_timeout",
                )
            scope = {"loop_id": loop_id, "item": item}
            for node_id in body_order:
                self._visit(node_id, index, scope)
            outputs = {}
            for node_id in sinks:
                run = self.runs.get((node_id, index))
                if run is not None and run.status in (NodeRunStatus.SUCCEEDED, NodeRunStatus.FAILED):
                    outputs[node_id] = run.output
            results.append(next(iter(outputs.values())) if len(sinks) == 1 else outputs)
        return NodeResult(results, handles=["done"])

    def start_sub_workflow(self, context: NodeContext, workflow_id: str, payload: Any) -> str:
        """Create the child execution and record its id on the node run in the same commit."""
        from workflows.services.executions import execution_create_child

        depth = self.execution.depth + 1
        if depth > settings.WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH:
            raise NodeError(
                f"Sub-workflows nest deeper than the limit of {settings.WORKFLOWS_MAX_SUB_WORKFLOW_DEPTH}.",
                retryable=False,
            )
        run = self.current_run
        with transaction.atomic():
            self._check_lease()
            child = execution_create_child(
                parent=self.execution, node_id=context.node["id"], workflow_id=workflow_id, payload=payload
            )
            if child is None:
                raise NodeError(f"Workflow '{workflow_id}' does not exist in this workspace.", retryable=False)
            run.state = {"child_execution_id": str(child.pk)}
            run.save()
        return str(child.pk)

    def execution_state(self, execution_id: str) -> tuple[str, Any, Any] | None:
        row = WorkflowExecution.objects.filter(pk=execution_id).values_list("status", "output", "error").first()
        return row

    def extend_lease(self, seconds: float) -> None:
        """Hold the lease for `seconds` more than usual, for a node that runs long without returning."""
        with transaction.atomic():
            self._check_lease(lease_expires_at=self._lease_until(seconds))

    # --- persistence under the lease ---------------------------------------------------------

    def _hands_off_before(self, node: dict, kind: Any) -> bool:
        now = time.monotonic()
        if self.hand_off_at is not None and now >= self.hand_off_at:
            return True
        if not self.answer_first:
            return False
        if kind is not None and kind.interruptible and node.get("timeout_seconds") and not time_limit_enforceable():
            return True
        if self.answered_at is None:
            return False
        return bool(kind and kind.side_effect) or now - self.answered_at >= ANSWER_GRACE_SECONDS

    def _between_nodes(self, node: dict, kind: Any) -> None:
        if self._hands_off_before(node, kind):
            self.requeue()
            raise _Stopped
        side_effect = bool(kind and kind.side_effect)
        deadline = self.execution.deadline_at
        if deadline is not None and timezone.now() >= deadline:
            timeout = self.settings.get("timeout_seconds")
            self._finish(
                ExecutionStatus.FAILED,
                error={
                    "message": f"The workflow ran longer than its timeout of {timeout} seconds.",
                    "code": "workflow_timeout",
                },
            )
        if side_effect or time.monotonic() - self.last_flush >= FLUSH_INTERVAL_SECONDS:
            self._flush([])

    def _lease_until(self, extra_seconds: Any = None) -> Any:
        seconds = settings.WORKFLOWS_LEASE_SECONDS + float(extra_seconds or 0)
        return timezone.now() + timedelta(seconds=seconds)

    def _check_lease(self, **updates: Any) -> None:
        """Renew the lease (and apply `updates`) or stop: canceled, or another runner took over."""
        updated = WorkflowExecution.objects.filter(
            pk=self.execution.pk, lease_owner=self.runner_id, status=ExecutionStatus.RUNNING
        ).update(updated_at=timezone.now(), **{**self.unsaved_fields, **updates})
        if updated:
            self.unsaved_fields = {}
            return
        status = WorkflowExecution.objects.filter(pk=self.execution.pk).values_list("status", flat=True).first()
        if status in (None, ExecutionStatus.CANCELED):
            self.execution.status = status or ExecutionStatus.CANCELED
            raise _Stopped
        raise LeaseLost

    def _flush(
        self, runs: list[WorkflowNodeRun], *, lease_for: Any = None, execution_updates: dict | None = None
    ) -> None:
        with transaction.atomic():
            self._check_lease(lease_expires_at=self._lease_until(lease_for), **(execution_updates or {}))
            _save_runs([*self.pending, *runs])
        self.pending.clear()
        self.last_flush = time.monotonic()

    def _wait(self, run: WorkflowNodeRun, resume_at: Any) -> None:
        deadline = self.execution.deadline_at
        if deadline is not None and (resume_at is None or resume_at > deadline):
            resume_at = deadline
        with transaction.atomic():
            self._check_lease(
                status=ExecutionStatus.WAITING, resume_at=resume_at, lease_owner="", lease_expires_at=None
            )
            _save_runs([*self.pending, run])
        self.pending.clear()
        self.execution.status = ExecutionStatus.WAITING
        logger.info("Execution waiting", extra={"execution_id": str(self.execution.pk), "node_id": run.node_id})
        raise _Stopped

    def requeue(self) -> None:
        """Give the execution back to the queue after a soft time limit, keeping what committed."""
        from workflows.services.executions import execution_dispatch

        with transaction.atomic():
            self._check_lease(status=ExecutionStatus.QUEUED, lease_owner="", lease_expires_at=None)
            _save_runs(self.pending)
            self.execution.status = ExecutionStatus.QUEUED
            execution_dispatch(execution=self.execution)
        self.pending.clear()

    def _finish(self, status: str, *, output: Any = None, error: dict | None = None) -> None:
        from workflows.services.executions import execution_after_finish

        now = timezone.now()
        with transaction.atomic():
            self._check_lease(
                status=status,
                output=output,
                error=error,
                finished_at=now,
                lease_owner="",
                lease_expires_at=None,
                resume_at=None,
            )
            _save_runs(self.pending)
            self.pending.clear()
            self.execution.status = status
            self.execution.output = output
            self.execution.error = error
            self.execution.finished_at = now
            execution_after_finish(execution=self.execution)
        raise _Stopped
