"""Reads and permission scoping of the agents app."""
