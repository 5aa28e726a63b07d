"""Celery entry points of the agents app."""
