"""Pages of the compliance app: the CA registry and incidents each keep their own URL module."""

from django.urls import include, path

app_name = "compliance"

urlpatterns = [
    path("", include("compliance.urls_registry")),
    path("", include("compliance.urls_incidents")),
]
