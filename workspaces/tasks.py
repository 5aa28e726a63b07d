"""Celery entry points of the workspaces app."""
