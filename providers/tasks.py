"""Celery entry points of the providers app."""
