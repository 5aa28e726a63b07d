"""Writes of the providers app: every create, update and delete goes through a function here."""
