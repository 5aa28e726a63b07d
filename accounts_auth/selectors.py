"""Reads and permission scoping of the accounts_auth app."""
