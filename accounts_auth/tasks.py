"""Celery entry points of the accounts_auth app."""
