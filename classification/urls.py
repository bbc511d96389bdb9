from django.urls import path

from classification import views

app_name = "classification"
urlpatterns = [
    path("", views.index, name="index"),
    path("classify/", views.classify_selected, name="classify_selected"),
    path("classify-catalog/", views.classify_catalog, name="classify_catalog"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("runs/<uuid:group>/", views.group_detail, name="group"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision"),
    path("jobs/dead/", views.dead_jobs, name="dead_jobs"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
]
