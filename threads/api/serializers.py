"""Serializers of the threads API."""
