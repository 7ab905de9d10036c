from django.urls import include, path

urlpatterns = [
    path("", include("compliance.api.registry_urls")),
    path("", include("compliance.api.incident_urls")),
]
