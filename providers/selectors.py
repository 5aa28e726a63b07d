"""Reads and permission scoping of the providers app."""
