"""Viewsets of the workspaces API."""
