"""How the OpenAPI schema describes Lantern's authentication (loaded by TenantsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.auth.ApiKeyAuthentication"
    name = ["ApiKey", "Bearer", "ApiKeyPair"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key",
             "description": "The whole key, lnt_<key_id>.<secret>"},
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer lnt_<key_id>.<secret>"},
            {"type": "apiKey", "in": "header", "name": "api-key",
             "description": "The key id, sent together with the api-secret header (seed 001)"},
        ]


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.auth.SessionMembershipAuthentication"
    name = "ConsoleSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The console's session (with the X-CSRFToken header on writes)"}
