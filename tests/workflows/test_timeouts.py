"""Per-node timeouts of pure nodes (a timer) and of loops (checked between items)."""

import signal
import threading
import time

import pytest

from tests.workflows.conftest import chain, edge, node, node_runs, trigger
from workflows.timeouts import NodeTimeLimitExceeded, time_limit

# About 10^10 loop steps in the sandbox: far longer than any limit below unless interrupted.
ENDLESS_TEMPLATE = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done"


def test_timeout_interrupts_template_node(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("slow", "template", parameters={"template": ENDLESS_TEMPLATE}, timeout_seconds=0.3)],
        chain("start", "slow"),
    )

    started = time.monotonic()
    execution = run_workflow(workflow, {})
    elapsed = time.monotonic() - started

    assert execution.status == "failed"
    assert execution.error["code"] == "node_timeout"
    assert node_runs(execution)["slow"].error["code"] == "node_timeout"
    assert elapsed < 5


def test_timeout_leaves_fast_pure_node_alone(make_workflow, run_workflow):
    workflow = make_workflow(
        [trigger(), node("fast", "set", parameters={"values": {"v": "{{ input.v }}"}}, timeout_seconds=0.5)],
        chain("start", "fast"),
    )

    execution = run_workflow(workflow, {"v": 3})
    time.sleep(0.7)

    assert execution.status == "succeeded", execution.error
    assert execution.output == {"v": 3}


def test_timeout_of_loop_is_checked_between_items(make_workflow, run_workflow, http_server):
    http_server.delay = 0.1
    workflow = make_workflow(
        [
            trigger(),
            node("each", "loop", timeout_seconds=0.25),
            node("call", "http_request", parameters={"method": "POST", "url": f"{http_server.url}/item"}),
        ],
        [edge("start", "each"), edge("each", "call", "item")],
    )

    execution = run_workflow(workflow, list(range(20)))

    assert execution.status == "failed"
    assert execution.error["code"] == "node_timeout"
    assert 2 <= http_server.count("/item") < 20


def test_time_limit_restores_outer_timer_and_handler():
    # given an outer timer and handler, as pytest-timeout installs them
    saved_handler = signal.getsignal(signal.SIGALRM)
    saved_timer = signal.getitimer(signal.ITIMER_REAL)[0]

    def outer_handler(signum, frame):
        pass

    signal.signal(signal.SIGALRM, outer_handler)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        # when a shorter node limit expires inside it
        with pytest.raises(NodeTimeLimitExceeded), time_limit(0.05):
            while True:
                pass

        # then the outer handler is back and its timer counts down from where it was
        assert signal.getsignal(signal.SIGALRM) is outer_handler
        assert 29 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, saved_handler)
        if saved_timer:
            signal.setitimer(signal.ITIMER_REAL, saved_timer)


def test_time_limit_not_enforced_outside_main_thread():
    finished = []

    def work():
        with time_limit(0.01):
            time.sleep(0.05)
        finished.append(True)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    assert finished == [True]
