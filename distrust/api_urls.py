"""/api/v1/distrust/..."""

from django.urls import path

from distrust import api

urlpatterns = [
    path("distrust/", api.ActionListCreate.as_view(), name="api-distrust-list"),
    path("distrust/<int:pk>/", api.ActionDetail.as_view(), name="api-distrust-detail"),
    path("distrust/<int:pk>/onecrl.json", api.OneCRLJson.as_view(), name="api-distrust-onecrl"),
    path("distrust/<int:pk>/certdata.diff", api.CertdataDiff.as_view(), name="api-distrust-certdata-diff"),
    path("distrust/<int:pk>/test-vector.txt", api.TestVector.as_view(), name="api-distrust-test-vector"),
    path("distrust/<int:pk>/steps/<str:step>/", api.StepSave.as_view(), name="api-distrust-step"),
    path("distrust/<int:pk>/steps/<str:step>/reopen/", api.StepReopen.as_view(), name="api-distrust-step-reopen"),
    path("distrust/<int:pk>/targets/", api.TargetAdd.as_view(), name="api-distrust-targets"),
    path("distrust/<int:pk>/targets/bulk/", api.BulkTargets.as_view(), name="api-distrust-targets-bulk"),
    path("distrust/<int:pk>/targets/<int:target_id>/", api.TargetRemove.as_view(), name="api-distrust-target"),
    path("distrust/<int:pk>/usage/", api.UsageAdd.as_view(), name="api-distrust-usage"),
    path("distrust/<int:pk>/artifacts/", api.ArtifactsGenerate.as_view(), name="api-distrust-artifacts"),
    path("distrust/<int:pk>/closure/<int:item_id>/", api.ClosureDecide.as_view(), name="api-distrust-closure"),
    path("distrust/<int:pk>/test-certificates/", api.TestCertificateAdd.as_view(),
         name="api-distrust-test-certificates"),
    path("distrust/<int:pk>/test-runs/", api.TestRunCreate.as_view(), name="api-distrust-test-runs"),
]
