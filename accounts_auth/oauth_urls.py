"""OAuth2 endpoints of Athena's authorization server, mounted under /o/.

Only the authorization code flow's endpoints are exposed. Applications are registered in the
admin, so DOT's self-service application pages, its device flow, OpenID Connect and dynamic
client registration routes are left out.
"""

from django.urls import path
from oauth2_provider import views

# DOT reverses its own URL names in this namespace (for example in server metadata).
app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
]
