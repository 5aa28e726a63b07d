"""Browser pages of the providers app; the OAuth2 callback redirects to `connections`."""

from providers.pages import CONNECT_ERRORS, connections

__all__ = ["CONNECT_ERRORS", "connections"]
