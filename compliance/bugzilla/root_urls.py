"""`/rest` without its slash: Bugzilla answers it as an unknown resource (mounted by config/urls.py)."""

from django.urls import path

from compliance.bugzilla import views

urlpatterns = [
    path("", views.not_found),
]
