"""Celery entry points of the threads app."""
