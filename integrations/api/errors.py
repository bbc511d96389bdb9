"""The API's error shape: ``{"error": {"code", "message", "fields": [{"path", "message"}]}}``."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer other than success, raised anywhere in an API view or its authentication."""

    def __init__(self, status: int, code: str, message: str, *, fields=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields = fields or []
        self.headers = headers or {}


def body(code: str, message: str, fields=None) -> dict:
    return {"error": {"code": code, "message": message, "fields": list(fields or [])}}


def _path(loc) -> str:
    """Turn pydantic's ``("body", "payload", "rows", 0, "sku")`` into ``rows[0].sku``."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
        if parts and parts[0] in {"payload", "filters"}:
            parts = parts[1:]
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def validation_fields(error: DjangoValidationError, prefix: str = "") -> list[dict]:
    """Return a Django ``ValidationError``'s messages as ``[{"path", "message"}]``."""
    if not hasattr(error, "error_dict"):
        return [{"path": prefix, "message": m} for m in error.messages]
    return [
        {"path": f"{prefix}.{field}" if prefix else field, "message": message}
        for field, messages in error.message_dict.items()
        for message in messages
    ]


def install(api) -> None:
    """Register the handlers that give every failure the error shape."""

    def respond(request, status, code, message, fields=None, headers=None):
        response = api.create_response(request, body(code, message, fields), status=status)
        for name, value in (headers or {}).items():
            response[name] = value
        return response

    @api.exception_handler(ApiError)
    def _api_error(request, exc: ApiError):
        return respond(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        return respond(
            request,
            401,
            "not_authenticated",
            "Send a workbench API token: Authorization: Bearer wbt_…",
            headers={"WWW-Authenticate": 'Bearer realm="workbench"'},
        )

    @api.exception_handler(NinjaValidationError)
    def _invalid(request, exc: NinjaValidationError):
        fields = [
            {"path": _path(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors
        ]
        return respond(request, 422, "invalid_request", "The request is not valid.", fields)

    @api.exception_handler(DjangoValidationError)
    def _refused(request, exc: DjangoValidationError):
        return respond(request, 422, "invalid", "The request was refused.", validation_fields(exc))

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return respond(request, 404, "not_found", "No such object for this token's tenant.")

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        return respond(request, exc.status_code, "error", str(exc))

    @api.exception_handler(DataError)
    def _bad_data(request, exc: DataError):
        if "NUL" in str(exc):  # PostgreSQL refuses the character wherever it was sent
            return respond(
                request, 400, "invalid_request", "The request contains a NUL character (\\x00)."
            )
        return _internal(request, exc)

    @api.exception_handler(Exception)
    def _internal(request, exc: Exception):
        # An integration reads JSON: a failure is one too, and says nothing of its cause.
        log.exception("API request %s %s failed", request.method, request.path)
        return respond(
            request, 500, "internal_error", "The server could not answer; the error is logged."
        )
