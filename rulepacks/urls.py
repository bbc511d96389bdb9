from django.urls import path

from rulepacks import views

app_name = "rulepacks"
urlpatterns = [
    path("", views.pack_list, name="list"),
    path("new/", views.pack_new, name="new"),
    path("check/", views.source_check, name="check"),
    path("cases/template.xlsx", views.cases_template, name="cases_template"),
    path("<int:pk>/", views.pack_detail, name="detail"),
    path("<int:pk>/source/", views.pack_source, name="source"),
    path("<int:pk>/edit/", views.pack_edit, name="edit"),
    path("<int:pk>/validate/", views.pack_validate, name="validate"),
    path("<int:pk>/cases/", views.pack_cases, name="cases"),
    path("<int:pk>/discard/", views.pack_discard, name="discard"),
    path("<int:pk>/backtest/", views.pack_backtest, name="backtest"),
    path("<int:pk>/backtest/run/", views.pack_backtest_run, name="backtest_run"),
    path("<int:pk>/diff/", views.pack_diff, name="diff"),
    path("<int:pk>/activate/", views.pack_activate, name="activate"),
    path("<int:pk>/reclassify/", views.pack_reclassify, name="reclassify"),
]
