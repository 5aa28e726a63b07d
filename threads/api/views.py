"""Viewsets of the threads API."""
