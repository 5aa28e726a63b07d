"""OpenAPI security schemes for Athena's three authentication methods."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts_auth.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "Browser session from signing in at /accounts/login/. Unsafe methods need X-CSRFToken.",
        }


class MultiplaiScheme(OpenApiAuthenticationExtension):
    target_class = "accounts_auth.authentication.MultiplaiAuthentication"
    name = "multiplai"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Multiplai-Authorization",
            "description": "`Bearer <Multiplai access token>`, validated with Multiplai.",
        }


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts_auth.authentication.TokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (`athena_pat_...`) or an OAuth2 access token issued by Athena.",
        }
