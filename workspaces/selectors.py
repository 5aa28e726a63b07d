"""Reads and permission scoping of the workspaces app."""
