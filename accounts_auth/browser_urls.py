"""Browser routes of accounts_auth mounted at the site root.

allauth's pages live under /accounts/ and the OAuth2 endpoints under /o/; this module adds
the OAuth 2.0 authorization server metadata document (RFC 8414) at its well-known address.
"""

from django.urls import path
from oauth2_provider.views import OAuthServerMetadataView

urlpatterns = [
    path(
        ".well-known/oauth-authorization-server",
        OAuthServerMetadataView.as_view(),
        name="oauth-authorization-server-metadata",
    ),
]
