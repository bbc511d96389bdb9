"""Usage pages under /t/<tenant_slug>/usage/."""

from django.urls import path

from metering import views

urlpatterns = [
    path("", views.usage, name="usage"),
    path("download/<str:fmt>/", views.usage_download, name="usage_download"),
]
