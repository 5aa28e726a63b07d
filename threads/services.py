"""Writes of the threads app: every create, update and delete goes through a function here."""
