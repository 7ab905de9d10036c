"""`/`, included by config.urls by name (config imports no app); the URL keeps its global name `home`."""

from django.urls import path

from notifications import home_views

urlpatterns = [
    path("", home_views.home, name="home"),
]
