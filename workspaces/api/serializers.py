"""Serializers of the workspaces API."""
