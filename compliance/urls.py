"""Incident pages (namespace `compliance`)."""

from django.urls import path

from compliance import attachment_views, views, views_lists

app_name = "compliance"

urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_create, name="incident_create"),
    path("incidents/searches/", views_lists.saved_searches, name="saved_searches"),
    path("incidents/searches/<int:pk>/rename/", views_lists.saved_search_rename, name="saved_search_rename"),
    path("incidents/searches/<int:pk>/delete/", views_lists.saved_search_delete, name="saved_search_delete"),
    path("incidents/owner-aliases/", views_lists.owner_aliases, name="owner_aliases"),
    path("incidents/owner-aliases/unmatched/", views_lists.owner_prefixes_unmatched, name="owner_prefixes_unmatched"),
    path("incidents/<int:number>/", views.incident_detail, name="incident_detail"),
    path("incidents/<int:number>/comment/", views.incident_comment, name="incident_comment"),
    path("incidents/<int:number>/questions/<int:question_id>/answer/", views.question_answer,
         name="incident_question_answer"),
    path("incidents/<int:number>/watch/", views.incident_watch, name="incident_watch"),
    path("incidents/<int:number>/cc/", views.incident_cc, name="incident_cc"),
    path("incidents/<int:number>/reports/<str:kind>/", views.incident_report, name="incident_report"),
    path("incidents/<int:number>/reports/<str:kind>/versions/", views.incident_report_versions,
         name="incident_report_versions"),
    path("incidents/<int:number>/triage/", views.incident_triage, name="incident_triage"),
    path("incidents/<int:number>/relations/", views.incident_relation, name="incident_relation"),
    path("incidents/<int:number>/assessment/", views.incident_assessment, name="incident_assessment"),
    path("incidents/<int:number>/decisions/", views.incident_decision, name="incident_decision"),
    path("incidents/<int:number>/decisions/<int:decision_id>/publish/", views.incident_decision_publish,
         name="incident_decision_publish"),
    path("incidents/<int:number>/history/", views.incident_history, name="incident_history"),
    path("incidents/<int:number>/attachments/", attachment_views.attachment_add, name="incident_attachment_add"),
    path("attachments/<int:pk>/", attachment_views.attachment_change, name="attachment_change"),
    path("attachments/<int:pk>/download", attachment_views.download, name="attachment_download"),
]
