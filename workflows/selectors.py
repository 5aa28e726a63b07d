"""Reads and permission scoping of the workflows app."""
