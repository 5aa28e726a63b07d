"""Celery entry points of the agents app."""

from celery import shared_task

from agents import services


@shared_task(name="agents.train_agent", acks_late=True, soft_time_limit=600, time_limit=660)
def train_agent(job_id: str) -> None:
    """Run a training job by id; a missing or finished job is skipped."""
    services.training_job_run(job_id=job_id)
