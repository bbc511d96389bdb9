from django.urls import path

from followup import views

app_name = "followup"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.question, name="question"),
    path("<int:pk>/supplier-link/", views.link_create, name="link_create"),
    path("links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
    path("files/<int:pk>/", views.supplier_file, name="supplier_file"),
]
