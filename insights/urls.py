from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.index, name="index"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
]
