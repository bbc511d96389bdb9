from django.urls import path

from tariffs import views

app_name = "tariffs"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("autocomplete/", views.autocomplete, name="autocomplete"),
    path("browse/", views.browse, name="browse"),
    path("browse/<str:code>/", views.browse, name="browse_code"),
    path("lines/<str:code>/", views.line_detail, name="line"),
    path("duty/", views.duty, name="duty"),
    path("diff/", views.diff, name="diff"),
    path("invalid-codes/", views.invalid_codes, name="invalid_codes"),
]
