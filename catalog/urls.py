from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.product_list, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("import/", views.import_upload, name="import_upload"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("import/<int:pk>/edits/", views.batch_choose_edits, name="batch_choose_edits"),
    path("import/<int:pk>/refused.xlsx", views.batch_refused, name="batch_refused"),
]
