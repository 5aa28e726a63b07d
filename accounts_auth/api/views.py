"""Viewsets of the accounts_auth API."""
