"""Request bodies: permission and size are checked before a byte of the body is read.

Django reads a multipart body on the first access to ``request.POST`` or ``request.FILES``, and
spools its files to disk as it goes; ``CsrfViewMiddleware`` makes that access for every POST
before the view runs. So ``UploadGuardMiddleware`` sits before it and, for a request with a
body: resolves the view's tenant permission (``tenant_view``) and refuses a member without it
(403) unread; refuses a declared ``Content-Length`` over the cap (413) unread; and reads the body
itself through ``CappedUploadHandler``, which stops at the cap whatever the length declared.
The cap is ``UPLOAD_MAX_BYTES`` plus room for the form's other fields.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpResponse, JsonResponse

from workbench import access

# Multipart boundaries, headers and the form's small fields besides the file.
FORM_SLACK = 64 * 1024
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def body_cap() -> int:
    """The most bytes a request body may hold."""
    return settings.UPLOAD_MAX_BYTES + FORM_SLACK


def refuse_unread(request) -> None:
    """Let the error page for a refused request leave its body unread: Django's 403 and 404
    views run the CSRF check (``requires_csrf_token``), which reads it."""
    request.csrf_processing_done = True


class CappedUploadHandler(FileUploadHandler):
    """Stop reading an upload once its files pass ``UPLOAD_MAX_BYTES`` in all.

    First in the chain, so that the handlers that keep the data (memory, temporary file) never
    see a byte past the cap; stopping closes and deletes what they kept.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            self.exceeded = True
            raise StopUpload(connection_reset=True)  # read no more of the body
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler keeps the file


def _mb(n: int) -> str:
    if n < 51200:  # under 50 KB: "1 KB", not "0 MB"
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / 1048576:.1f}".removesuffix(".0") + " MB"


def _too_large(request, size: int | None) -> HttpResponse:
    what = f"The upload is {_mb(size)}," if size else "The upload is"
    message = (
        f"{what} over the {_mb(settings.UPLOAD_MAX_BYTES)} limit; it was refused unread and "
        "nothing was saved. Split the file into smaller ones."
    )
    if request.path.startswith("/api/"):
        body = {"code": "too_large", "message": message, "fields": []}
        return JsonResponse({"error": body}, status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class UploadGuardMiddleware:
    """Check permission and size before a request body is read (see the module docstring).

    Must come after ``TenantMiddleware`` (which resolves ``request.tenant``) and before
    ``CsrfViewMiddleware`` (which reads the body) in ``MIDDLEWARE``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in _BODY_METHODS:
            return None
        codename = getattr(view_func, "tenant_permission", None)
        if codename and request.user.is_authenticated:
            try:
                access.require(request, codename)
            except (PermissionDenied, Http404):
                refuse_unread(request)
                raise
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = None
        if declared is None or declared > body_cap():
            return _too_large(request, declared)
        if not request.content_type.startswith("multipart/"):
            return None  # read by Django within DATA_UPLOAD_MAX_MEMORY_SIZE
        capped = CappedUploadHandler(request)
        request.upload_handlers.insert(0, capped)
        request.FILES  # noqa: B018 - read now, under the cap, before anything else does
        if capped.exceeded:
            return _too_large(request, None)
        return None
