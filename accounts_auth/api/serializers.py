"""Serializers of the accounts_auth API."""
