from django.urls import path, re_path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.log, name="log"),
    path("log.xlsx", views.log_xlsx, name="log_xlsx"),
    path("chain/", views.chain, name="chain"),
    path("history/<str:target_type>/<str:target_id>/", views.history, name="history"),
    path("exports/", views.exports, name="exports"),
    path("exports/new/", views.export_create, name="export_create"),
    path("exports/verify/", views.export_verify, name="export_verify"),
    path("exports/<int:pk>/", views.export_detail, name="export_detail"),
    re_path(
        r"^exports/(?P<pk>[0-9]+)/download\.(?P<fmt>json|xlsx)$",
        views.export_download,
        name="export_download",
    ),
    path(
        "exports/<int:pk>/decisions/<int:decision_id>/certificate/",
        views.certificate,
        name="certificate",
    ),
]
