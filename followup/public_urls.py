"""The public page of supplier links (no login: see ``workbench.middleware.PUBLIC_PREFIXES``)."""

from django.urls import path

from followup import views

urlpatterns = [path("<str:signed>/", views.supplier_answer, name="supplier_answer")]
