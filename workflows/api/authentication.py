"""Who is calling the API: a system with a bearer token, or a browser with its session.

Systems send ``Authorization: Bearer <token>`` (tokens are issued by ``civicflow createuser
--token``). An unknown or revoked token is refused with 401, never silently treated as
anonymous: a partner whose token was revoked must notice. Browsers use their session, and
then DRF's ``SessionAuthentication`` demands the CSRF token on every unsafe request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from workflows import selectors, services
from workflows.models import ApiToken

REALM = "civicflow"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` for systems; other schemes are left to the next class."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("send the token as: Authorization: Bearer <token>")
        try:
            secret = header[1].decode("ascii")
            token = selectors.api_token_by_secret(secret)
        except (UnicodeDecodeError, ApiToken.DoesNotExist):
            raise exceptions.AuthenticationFailed("the token is unknown or has been revoked") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("the token's account is disabled")
        services.api_token_touch(token=token)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        """Makes DRF answer 401 (not 403) to an unauthenticated request, saying how to authenticate."""
        return f'{self.keyword} realm="{REALM}"'


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Describes the bearer token in the OpenAPI document (drf-spectacular finds it by ``target_class``)."""

    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "a token from civicflow createuser --token"}
