"""Viewsets of the workflows API."""
