"""Site-wide pages: home and health."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularRedocView


def _database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any failure means unhealthy; the message tells operators why
        return {"ok": False, "vendor": connection.vendor, "error": str(exc)[:200]}


def _broker_state() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "eager", "detail": "REDIS_URL unset: tasks run in the web process"}
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return {"ok": True, "mode": "redis"}
    except Exception as exc:
        return {"ok": False, "mode": "redis", "error": str(exc)[:200]}


@never_cache
@require_GET
def healthz(request):
    database = _database_state()
    broker = _broker_state()
    healthy = database["ok"] and broker["ok"]
    body = {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if healthy else 503)


class ApiRedocView(SpectacularRedocView):
    """Redoc from drf-spectacular-sidecar. Its bundle renders with styled-components, which inserts
    <style> elements at run time, and builds its search index in a worker from a blob: URL: this
    page alone may do both (settings.CONTENT_SECURITY_POLICY_REDOC). Scripts stay 'self' only."""

    template_name = "api/redoc.html"

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY_REDOC
        return response
