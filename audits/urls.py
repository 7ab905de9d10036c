from django.urls import path

from audits import views

app_name = "audits"

urlpatterns = [
    path("", views.index, name="index"),
    path("ca/<int:pk>/", views.ca_audits, name="ca"),
    path("ca/<int:pk>/statements/new/", views.statement_new, name="statement_new"),
    path("statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/edit/", views.statement_edit, name="statement_edit"),
    path("statements/<int:pk>/file/", views.statement_file, name="statement_file"),
    path("statements/<int:pk>/request-verification/", views.statement_request_verification,
         name="statement_request_verification"),
    path("statements/<int:pk>/verification/", views.statement_staff_verification, name="statement_staff_verification"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("verify/<str:token>/file/", views.verify_file, name="verify_file"),
    path("auditors/", views.auditor_list, name="auditor_list"),
    path("auditors/new/", views.auditor_new, name="auditor_new"),
    path("auditors/<int:pk>/", views.auditor_detail, name="auditor_detail"),
    path("auditors/<int:pk>/edit/", views.auditor_edit, name="auditor_edit"),
    path("auditors/<int:pk>/qualifications/new/", views.qualification_new, name="qualification_new"),
    path("auditors/<int:pk>/approval/", views.auditor_approval, name="auditor_approval"),
]
