from django.urls import path

from audits import api

urlpatterns = [
    path("audits/", api.StatementListCreate.as_view(), name="api-audits"),
    path("audits/<int:pk>/", api.StatementDetail.as_view(), name="api-audit-detail"),
    path("auditors/", api.AuditorListCreate.as_view(), name="api-auditors"),
    path("auditors/<int:pk>/", api.AuditorDetail.as_view(), name="api-auditor-detail"),
    path("cas/<int:pk>/audit-findings/", api.CAAuditFindings.as_view(), name="api-ca-audit-findings"),
]
