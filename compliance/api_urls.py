from django.urls import path

from compliance import api

urlpatterns = [
    path("incidents/", api.IncidentList.as_view(), name="api-incident-list"),
    path("incidents/<int:number>/", api.IncidentDetail.as_view(), name="api-incident-detail"),
    path("incidents/<int:number>/comments/", api.IncidentComments.as_view(), name="api-incident-comments"),
    path("incidents/<int:number>/questions/", api.IncidentQuestions.as_view(), name="api-incident-questions"),
    path("incidents/<int:number>/questions/<int:question_id>/answer/", api.QuestionAnswer.as_view(),
         name="api-incident-question-answer"),
    path("incidents/<int:number>/reports/", api.IncidentReports.as_view(), name="api-incident-reports"),
    path("incidents/<int:number>/status/", api.IncidentStatus.as_view(), name="api-incident-status"),
]
