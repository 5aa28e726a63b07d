"""Writes of the threads app: every create, update and delete goes through a function here."""

from threads.services.attachments import attachment_create, attachment_delete
from threads.services.naming import thread_generate_name
from threads.services.runs import ThreadRunResult, ThreadTurn, thread_run, thread_run_execute, thread_run_prepare
from threads.services.threads import (
    message_create,
    message_delete,
    message_update,
    thread_create,
    thread_delete,
    thread_lock_acquire,
    thread_lock_release,
    thread_update,
)

__all__ = [
    "ThreadRunResult",
    "ThreadTurn",
    "attachment_create",
    "attachment_delete",
    "message_create",
    "message_delete",
    "message_update",
    "thread_create",
    "thread_delete",
    "thread_generate_name",
    "thread_lock_acquire",
    "thread_lock_release",
    "thread_run",
    "thread_run_execute",
    "thread_run_prepare",
    "thread_update",
]
