"""Writes of the workflows app: every create, update and delete goes through a function here."""
