"""A wall-clock limit for pure nodes, enforced with SIGALRM in the thread that runs the node.

Only the main thread of a process can receive Python signal handlers, which is where a Celery
prefork worker and an eager test run execute tasks. Elsewhere (a thread of a threaded web
server) and on platforms without `setitimer`, the limit is not enforced. Celery's own soft
time limit uses SIGUSR1, so the two do not interfere. The handler runs between Python bytecode
instructions: a single long call into C (one huge regular expression match) ends before the
limit can interrupt it.
"""

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class NodeTimeLimitExceeded(BaseException):
    """The node ran past its limit.

    A BaseException, so that the broad `except Exception` clauses of expression rendering and
    node code cannot swallow it.
    """


def time_limit_enforceable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise NodeTimeLimitExceeded inside the block once `seconds` have passed.

    Does nothing when `seconds` is empty or the limit cannot be enforced here. An interval
    timer already counting down (pytest-timeout sets one) is left alone when it expires first,
    and is otherwise re-armed with its remaining time when the block ends.
    """
    if not seconds or not time_limit_enforceable():
        yield
        return
    outer_remaining = signal.getitimer(signal.ITIMER_REAL)[0]
    if 0 < outer_remaining <= seconds:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise NodeTimeLimitExceeded

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        # Nested, so that an alarm arriving while the timer is being stopped still restores the handler.
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)
            if outer_remaining > 0:
                left = outer_remaining - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
