"""Writes of the accounts_auth app: every create, update and delete goes through a function here."""
