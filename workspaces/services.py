"""Writes of the workspaces app: every create, update and delete goes through a function here."""
