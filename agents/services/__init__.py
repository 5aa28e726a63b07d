"""Writes of the agents app: every create, update and delete goes through a function here."""

from agents.services.agents import agent_create, agent_delete, agent_update, effective_limits
from agents.services.generation import agent_generate
from agents.services.memories import memory_create, memory_delete, memory_update
from agents.services.prompts import prompt_create, prompt_delete, prompt_run, prompt_update
from agents.services.runs import PreparedRun, agent_run_execute, agent_run_prepare, agent_run_rate
from agents.services.shares import share_create, share_delete
from agents.services.training import training_job_create, training_job_run

__all__ = [
    "PreparedRun",
    "agent_create",
    "agent_delete",
    "agent_generate",
    "agent_run_execute",
    "agent_run_prepare",
    "agent_run_rate",
    "agent_update",
    "effective_limits",
    "memory_create",
    "memory_delete",
    "memory_update",
    "prompt_create",
    "prompt_delete",
    "prompt_run",
    "prompt_update",
    "share_create",
    "share_delete",
    "training_job_create",
    "training_job_run",
]
