"""Writes of the agents app: every create, update and delete goes through a function here."""
