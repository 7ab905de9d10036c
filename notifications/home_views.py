"""The home page (`/`): each person's next things to do (notifications.home), then the public summary."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from notifications.home import home_for


@require_http_methods(["GET", "HEAD"])
def home(request):
    return render(request, "home.html", {"home": home_for(request.user)})
