"""Viewsets of the providers API."""
