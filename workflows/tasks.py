"""Celery entry points of the workflows app."""
