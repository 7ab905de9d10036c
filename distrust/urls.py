"""Distrust pages (namespace `distrust`, mounted at /distrust/)."""

from django.urls import path

from distrust import views

app_name = "distrust"

urlpatterns = [
    path("", views.action_list, name="list"),
    path("new/", views.action_create, name="create"),
    path("<int:pk>/", views.action_detail, name="detail"),
    path("<int:pk>/steps/<str:step>/", views.step_edit, name="step"),
    path("<int:pk>/steps/<str:step>/reopen/", views.step_reopen, name="step_reopen"),
    path("<int:pk>/targets/", views.target_add, name="target_add"),
    path("<int:pk>/targets/bulk/", views.bulk_targets, name="bulk_targets"),
    path("<int:pk>/targets/<int:target_id>/remove/", views.target_remove, name="target_remove"),
    path("<int:pk>/usage/", views.usage_add, name="usage_add"),
    path("<int:pk>/usage/csv/", views.usage_csv, name="usage_csv"),
    path("<int:pk>/usage/<int:figure_id>/remove/", views.usage_remove, name="usage_remove"),
    path("<int:pk>/artifacts/generate/", views.artifacts_generate, name="artifacts_generate"),
    path("<int:pk>/closure/<int:item_id>/", views.closure_decide, name="closure_decide"),
    path("<int:pk>/test-certificates/", views.test_certificate_add, name="test_certificate_add"),
    path("<int:pk>/test-certificates/<int:test_id>/remove/", views.test_certificate_remove,
         name="test_certificate_remove"),
    path("<int:pk>/test-runs/", views.test_run, name="test_run"),
    path("<int:pk>/<str:filename>", views.artifact_download, name="artifact"),
]
