"""Reads and permission scoping of the threads app."""
