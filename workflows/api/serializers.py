"""Serializers of the workflows API."""
