"""Serializers of the providers API."""
