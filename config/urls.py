from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views

api_v1 = [
    path("", include("registry.api_urls")),
    path("", include("compliance.api_urls")),
    path("", include("audits.api_urls")),
    path("", include("distrust.api_urls")),
    path("", include("accounts.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Pages without inline scripts or styles, for the Content-Security-Policy (config/views.py).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    path("redoc/", views.ApiRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    # The home page by role (notifications.home: it reads every app, so it lives on the top floor).
    path("", include("notifications.home_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    # The Bugzilla-compatible read-only API (python-bugzilla and other Bugzilla clients).
    path("rest/", include("compliance.bugzilla.urls")),
    path("rest", include("compliance.bugzilla.root_urls")),
    # Atom feeds and CSV exports (before the incident pages, so /incidents/export.csv is ours).
    path("", include("compliance.feed_urls")),
    path("", include("registry.urls")),
    path("", include("compliance.urls")),
    path("audits/", include("audits.urls")),
    path("distrust/", include("distrust.urls")),
    path("notifications/", include("notifications.urls")),
]

# JSON errors for API clients (/api/ and Bugzilla's shape under /rest/), HTML pages elsewhere.
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
