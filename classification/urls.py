from django.urls import path

from classification import views
from classification.review import views as review

app_name = "classification"
urlpatterns = [
    # Review queues are the landing page of "Review"; the decision list is a sub-page.
    path("", review.queue, name="index"),
    path("decisions/", views.index, name="decisions"),
    path("classify/", views.classify_selected, name="classify_selected"),
    path("classify-catalog/", views.classify_catalog, name="classify_catalog"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("runs/<uuid:group>/", views.group_detail, name="group"),
    path("decisions/<int:pk>/", views.decision_detail, name="decision"),
    path("jobs/dead/", views.dead_jobs, name="dead_jobs"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("review/<int:pk>/", review.panel, name="review_panel"),
    path("review/<int:pk>/accept/", review.accept, name="review_accept"),
    path("review/<int:pk>/override/", review.override, name="review_override"),
    path("review/<int:pk>/escalate/", review.escalate, name="review_escalate"),
    path("review/<int:pk>/reopen/", review.reopen, name="review_reopen"),
    path("review/<int:pk>/undo/", review.undo, name="review_undo"),
    path("review/density/", review.density_set, name="review_density"),
    path("review/<int:pk>/request-info/", review.request_info, name="review_request_info"),
    path("review/<int:pk>/assign/", review.assign, name="review_assign"),
    path("review/<int:pk>/release/", review.release, name="review_release"),
    path("review/<int:pk>/grant/", review.grant, name="review_grant"),
    path("review/<int:pk>/promote/", review.promote, name="review_promote"),
    path("review/bulk-accept/", review.bulk_accept, name="review_bulk_accept"),
    path("review/evidence/<int:pk>/", review.evidence_file, name="review_evidence"),
]
