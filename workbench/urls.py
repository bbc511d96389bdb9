"""URL map. Tenant pages live under /t/<tenant_slug>/; each app owns its own prefix."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from integrations.api import api as integrations_api
from metering import prometheus
from metering import views as metering_views
from workbench import views

tenant_patterns = [
    path("", views.tenant_dashboard, name="tenant_dashboard"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path(
        "members/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("catalog/", include("catalog.urls")),
    path("tariffs/", include("tariffs.urls")),
    path("rulepacks/", include("rulepacks.urls")),
    path("classification/", include("classification.urls")),
    path("audit/", include("audit.urls")),
    path("integrations/", include("integrations.urls")),
    path("insights/", include("insights.urls")),
    path("questions/", include("followup.urls")),
    path("usage/", include("metering.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", prometheus.metrics, name="metrics"),
    path("operators/usage/", metering_views.operators_usage, name="operators_usage"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("notifications/", include("notifications.urls")),
    path("supplier/", include("followup.public_urls")),
    path("help/rule-packs/", views.rule_pack_help, name="help_rule_packs"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", integrations_api.urls),
    path("t/<slug:tenant_slug>/", include(tenant_patterns)),
]
