"""Serializers of the agents API."""
