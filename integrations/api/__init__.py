"""The JSON API at ``/api/v1/``: token-authenticated, tenant from the token, OpenAPI 3 generated.

``/api/v1/openapi.json`` is the document; ``/api/v1/docs`` renders it with the Swagger UI files
django-ninja ships (served from our static files, no CDN).
"""

from ninja import NinjaAPI

from integrations.api import auth, errors, views

DESCRIPTION = """\
Service API of the customs classification workbench, for ERP, PIM and filing systems.

Authenticate with a tenant's API token: `Authorization: Bearer wbt_…` (tenant admins create
tokens under Integrations → API tokens). `read` tokens may call every GET; `write` tokens may
also upsert products and request classification. Errors are JSON:
`{"error": {"code", "message", "fields": [{"path", "message"}]}}`. Lists use cursors: pass the
`next_cursor` of one page as `after` for the next. Each token is limited per minute (429 with
`Retry-After`).
"""

api = NinjaAPI(
    title="Customs Workbench API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    auth=auth.read,
)
errors.install(api)
api.add_router("/", views.router)
