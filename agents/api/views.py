"""Viewsets of the agents API."""
