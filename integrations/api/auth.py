"""Bearer-token authentication for the API: tenant, scope, rate limit, use bookkeeping."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from integrations import services
from integrations.api.errors import ApiError


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class TokenAuth(HttpBearer):
    """Accept an active token of the required scope; ``request.auth`` becomes the ``ApiToken``.

    401 for a missing, unknown, revoked or expired token; 403 for a read token on a write
    operation; 429 with ``Retry-After`` past the token's per-minute limit.
    """

    def __init__(self, scope: str = "read"):
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str):
        try:
            api_token = services.token_authenticate(token.strip())
        except services.TokenRefused as refused:
            raise ApiError(
                401,
                refused.code,
                refused.message,
                headers={"WWW-Authenticate": 'Bearer realm="workbench", error="invalid_token"'},
            ) from None
        retry_after = services.token_rate_check(token=api_token)
        if retry_after is not None:
            raise ApiError(
                429,
                "rate_limited",
                f"More than {api_token.rate_limit_per_minute} requests in a minute with this "
                f"token; retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
        if self.scope == "write" and not api_token.can_write:
            raise ApiError(
                403,
                "insufficient_scope",
                f"The API token {api_token.prefix}… may only read; this operation writes.",
            )
        services.token_record_use(
            token=api_token, method=request.method, path=request.path, ip=_client_ip(request)
        )
        return api_token


read = TokenAuth("read")
write = TokenAuth("write")
